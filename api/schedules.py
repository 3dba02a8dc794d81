"""Jobs `vigil serve` runs in the background: retention, scheduled filter tests, block/allow follow-up tests.

Each job decides for itself whether it is due (so several serve processes are safe: the jobs record their
runs in the case store and skip what already ran). `[serve] background_jobs = false` turns them off, for
deployments that use the documented systemd timers instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from vigil.settings import Settings

log = logging.getLogger("vigil.serve")


JOB_INTERVAL_SECONDS = 300.0
"""How often each job asks whether it is due."""


async def _every(name: str, interval: float, run: Callable[[], object]) -> None:
    """Run a blocking job in a worker thread, then sleep; a failure is logged and retried next time."""
    while True:
        try:
            await asyncio.to_thread(run)
        except Exception:  # noqa: BLE001 - a failing job must never stop the web app
            log.exception("background job failed", extra={"job": name})
        await asyncio.sleep(interval)


def background_jobs(app: FastAPI) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """The job loops to start for this app (empty when turned off); they share the app's migrated store."""
    settings: Settings = app.state.settings
    if not settings.section("serve").get("background_jobs", True):
        return []
    from filtertests import schedule as filtertests_schedule
    from governance import config as governance_config
    from governance import followup as governance_followup
    from retention import schedule as retention_schedule

    store = app.state.store
    return [
        lambda: _every("retention", JOB_INTERVAL_SECONDS, lambda: retention_schedule.run_due(settings, store=store)),
        lambda: _every(
            "filtertests", JOB_INTERVAL_SECONDS, lambda: filtertests_schedule.run_due(settings, store=store)
        ),
        lambda: _every(
            "governance-followups",
            JOB_INTERVAL_SECONDS,
            lambda: governance_followup.run_due(store, governance_config.load_config(settings)),
        ),
    ]


def install_schedules(app: FastAPI) -> None:
    """Start the background job loops with the server and cancel them when it stops."""
    jobs = background_jobs(app)
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            tasks = [asyncio.create_task(job()) for job in jobs]
            try:
                yield state
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app.router.lifespan_context = lifespan
