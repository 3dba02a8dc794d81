"""The minute sweep inside `vigil serve`: runs cases.escalation.run_due in a thread every `notify.sweep_seconds`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from cases.channels.config import notify_config
from cases.schema import now

log = logging.getLogger("vigil.sweeper")


async def sweep_forever(app: FastAPI, every: float) -> None:
    """Run the sweep, then sleep; errors are logged and the loop goes on (the next minute retries)."""
    from cases.escalation import run_due

    while True:
        try:
            report = await asyncio.to_thread(run_due, app.state.store, app.state.settings, now())
            if report.queued or report.delivery.sent or report.delivery.failed:
                log.info("notify sweep", extra=report.summary())
        except Exception:  # noqa: BLE001 - a failing sweep must not stop the web app
            log.exception("notify sweep failed")
        await asyncio.sleep(every)


def install_sweeper(app: FastAPI) -> None:
    """Wrap the app's lifespan so the sweep starts with the server and stops with it (0 seconds: off)."""
    cfg = notify_config(app.state.settings)
    every = cfg.sweep_seconds if cfg.enabled and cfg.schools else 0
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            task = asyncio.create_task(sweep_forever(app, every)) if every > 0 else None
            try:
                yield state
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app.router.lifespan_context = lifespan
