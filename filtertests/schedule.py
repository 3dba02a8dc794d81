"""The test schedule: `[filtertests] schedule` (cron, default weekly) and `run_due(settings, now)`.

`vigil serve` calls `run_due` from a background task (`schedule_task`); without `vigil serve`, a systemd
timer runs `vigil filtertest schedule --run-due` (docs/filtertests.md). A scheduled run is recorded with
actor `scheduled` and trigger `schedule`; `run_due` runs only when no scheduled run of that school started at
or after the latest scheduled instant, so several callers and restarts do not repeat a run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cases.store import CaseStore
from filtertests.cron import Cron
from filtertests.errors import ScheduleError
from filtertests.plans import load_plan
from filtertests.service import RunReport, run_and_record
from filtertests.tables import filtertest_runs as RUNS
from vigil.settings import Settings

log = logging.getLogger("vigil.filtertests")


class FilterTestConfig(BaseModel):
    """`[filtertests]` in vigil.toml."""

    model_config = ConfigDict(extra="forbid")

    # Off until a school says where its filter is: a scheduled run probes through `proxy` (or the plan's own
    # proxies), and must never go looking for test pages directly from the Vigil host.
    enabled: bool = False
    schedule: str = Field("0 6 * * 1", description="cron: minute hour day month weekday (default Monday 06:00)")
    timezone: str | None = Field(None, description="zone of the schedule (default: the global timezone)")
    plan: str = Field("default", description="plan file, or `default` for the shipped plan")
    proxy: str | None = Field(None, description="proxy for sites and groups whose plan names none")
    school: str = "default"


def config_of(settings: Settings) -> FilterTestConfig:
    """The validated `[filtertests]` section."""
    try:
        cfg = FilterTestConfig.model_validate(settings.section("filtertests"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScheduleError(f"config: filtertests.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    Cron.parse(cfg.schedule)
    return cfg


def _zone(cfg: FilterTestConfig, settings: Settings) -> ZoneInfo:
    name = cfg.timezone or settings.timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"config: filtertests.timezone: unknown zone {name!r}") from exc


def last_due(cfg: FilterTestConfig, settings: Settings, now: datetime) -> datetime | None:
    """The latest scheduled instant at or before `now` (UTC)."""
    at = Cron.parse(cfg.schedule).last_at_or_before(now.astimezone(_zone(cfg, settings)).replace(second=59))
    return at.astimezone(UTC) if at else None


def next_due(cfg: FilterTestConfig, settings: Settings, now: datetime) -> datetime | None:
    """The next scheduled instant after `now` (UTC)."""
    at = Cron.parse(cfg.schedule).next_after(now.astimezone(_zone(cfg, settings)))
    return at.astimezone(UTC) if at else None


def last_scheduled_run(store: CaseStore, school: str) -> datetime | None:
    """When the latest scheduled run of this school started."""
    q = sa.select(sa.func.max(RUNS.c.started_at)).where(RUNS.c.school == school, RUNS.c.trigger == "schedule")
    with store.engine.connect() as c:
        value = c.execute(q).scalar()
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _plan_names_proxies(plan_name: str) -> bool:
    """Whether every site of the plan names its own proxy (so no global proxy is needed)."""
    plan = load_plan(plan_name)
    return bool(plan.sites) and all(site.proxy for site in plan.sites)


def run_due(settings: Settings, now: datetime | None = None, *, store: CaseStore | None = None) -> RunReport | None:
    """Run the configured plan if a scheduled instant has passed since the last scheduled run; else None."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    cfg = config_of(settings)
    if not cfg.enabled:
        return None
    if cfg.proxy is None and not _plan_names_proxies(cfg.plan):
        log.warning("scheduled filter tests are enabled but no proxy is configured; skipping")
        return None
    due = last_due(cfg, settings, now)
    if due is None:
        return None
    own = store is None
    store = store or CaseStore.from_url(settings.case_db_url)
    try:
        if own:
            store.migrate()
        last = last_scheduled_run(store, cfg.school)
        if last is not None and last >= due:
            return None
        plan = load_plan(cfg.plan)
        report = run_and_record(
            settings, plan, store=store, school=cfg.school, proxy=cfg.proxy, actor="scheduled", trigger="schedule"
        )
        log.info(
            "scheduled filter test recorded",
            extra={"run_id": report.run_id, "probes": len(report.results), "failures": len(report.failures)},
        )
        return report
    finally:
        if own:
            store.dispose()


async def schedule_task(settings: Settings, interval_seconds: float = 300.0) -> None:
    """Background loop for `vigil serve`: every few minutes, run the plan in a worker thread when due."""
    while True:
        try:
            await asyncio.to_thread(run_due, settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failing run is logged and retried next tick, never kills serve
            log.exception("scheduled filter test failed")
        await asyncio.sleep(interval_seconds)
