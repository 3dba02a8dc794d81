"""The daily schedule: `run_due(settings, now)` runs retention once a day after `[retention] run_at` (UTC).

`vigil serve` calls it from a background task (`daily_task`); without `vigil serve`, a systemd timer runs
`vigil retention run` (docs/retention.md). Runs are recorded in `retention_runs`, so several processes may
call `run_due` safely: the first takes the lock and runs; the others see the run (or the lock) and return.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time

import sqlalchemy as sa

from cases.store import CaseStore
from retention.errors import RetentionBusy
from retention.job import RetentionJob, RunResult
from retention.policy import RetentionConfig, load_config
from retention.tables import retention_runs
from vigil.settings import Settings

log = logging.getLogger("vigil.retention")


def open_store(settings: Settings) -> CaseStore:
    """The case store of these settings, migrated (every branch head, including retention's)."""
    store = CaseStore.from_url(settings.case_db_url)
    store.migrate()
    return store


def config_of(settings: Settings) -> RetentionConfig:
    """The validated `[retention]` section."""
    return load_config(settings.section("retention"))


def due_at(config: RetentionConfig, now: datetime) -> datetime:
    """Today's scheduled instant (UTC)."""
    hh, mm = (int(x) for x in config.run_at.split(":"))
    return datetime.combine(now.astimezone(UTC).date(), time(hh, mm), UTC)


def ran_since(store: CaseStore, since: datetime) -> bool:
    """True when a real (not dry) run finished at or after `since`."""
    r = retention_runs.c
    q = sa.select(r.run_id).where(r.dry_run.is_(sa.false()), r.finished_at >= since).limit(1)
    with store.engine.connect() as conn:
        return conn.execute(q).first() is not None


def run_due(settings: Settings, now: datetime | None = None, *, store: CaseStore | None = None) -> RunResult | None:
    """Run retention if today's run is due and not done yet; None when nothing was due or another run holds it."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    config = config_of(settings)
    scheduled = due_at(config, now)
    if now < scheduled:
        return None
    own = store is None
    store = store or open_store(settings)
    try:
        if ran_since(store, scheduled):
            return None
        job = RetentionJob(data_dir=settings.data_dir, store=store, config=config, now=now, trigger="schedule")
        try:
            result = job.apply()
        except RetentionBusy:
            return None
        totals = result.plan.totals()
        log.info("retention run finished", extra={"run_id": job.run_id, "totals": totals})
        return result
    finally:
        if own:
            store.dispose()


async def daily_task(settings: Settings, interval_seconds: float = 300.0) -> None:
    """Background loop for `vigil serve`: check every few minutes whether today's run is due, run it off-loop."""
    while True:
        try:
            await asyncio.to_thread(run_due, settings)
        except Exception:  # a failed run is logged and retried at the next check, never kills the server
            log.exception("retention run failed")
        await asyncio.sleep(interval_seconds)
