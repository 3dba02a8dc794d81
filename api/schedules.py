"""Daily and weekly jobs that `vigil serve` runs in the background: retention and scheduled filter tests.

Each job decides for itself whether it is due (so several serve processes are safe: the jobs record their
runs in the case store and skip what already ran). `[serve] background_jobs = false` turns them off, for
deployments that use the documented systemd timers instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from vigil.settings import Settings


def background_jobs(settings: Settings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """The job loops to start for these settings (empty when turned off)."""
    if not settings.section("serve").get("background_jobs", True):
        return []
    from filtertests.schedule import schedule_task
    from retention.schedule import daily_task

    return [lambda: daily_task(settings), lambda: schedule_task(settings)]


def install_schedules(app: FastAPI) -> None:
    """Start the background job loops with the server and cancel them when it stops."""
    jobs = background_jobs(app.state.settings)
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
