"""Run a plan end to end: probe, (ingest the filter's logs,) check the monitoring, record, raise alerts.

The one entry point shared by `vigil filtertest run`, `POST /api/filtertests/run` and the schedule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cases.store import CaseStore
from filtertests.errors import FilterTestError
from filtertests.monitoring import check_logs
from filtertests.plans import Plan
from filtertests.records import save_run
from filtertests.runner import ProbeResult, run_plan
from vigil.settings import Settings


@dataclass(frozen=True)
class RunReport:
    """A recorded run: its id and results."""

    run_id: str
    school: str
    started: datetime
    finished: datetime
    results: list[ProbeResult]

    @property
    def failures(self) -> list[ProbeResult]:
        """Results that failed."""
        return [r for r in self.results if not r.passed]


def _ingester(settings: Settings, paths: Sequence[str], school: str) -> Callable[[], object]:
    if threading.current_thread() is not threading.main_thread():
        # ingest_paths installs signal handlers (main thread only): background runs rely on the ingest service
        raise FilterTestError(
            "--ingest-logs only works from the command line; scheduled and API runs read "
            "the logs the ingest service already stores"
        )
    from ingest.files import ingest_paths

    def ingest() -> object:
        # detect=False: probe traffic is the school's own test, not a pupil's behaviour for the DSL queue
        return ingest_paths(list(paths), settings=settings, fmt="auto", school=school, detect=False)

    return ingest


def run_and_record(
    settings: Settings,
    plan: Plan,
    *,
    store: CaseStore,
    school: str | None = None,
    proxy: str | None = None,
    actor: str,
    trigger: str,
    ingest_logs: Sequence[str] = (),
    on_result: Callable[[ProbeResult], None] | None = None,
) -> RunReport:
    """Probe every check as every group, look the probes up in the logs, store the run; returns the record."""
    school = school or plan.school or "default"
    ingest = _ingester(settings, ingest_logs, school) if ingest_logs else None
    started = datetime.now(UTC)
    results = run_plan(plan, proxy=proxy, on_result=on_result)
    check_logs(
        results,
        school=school,
        warehouse_root=settings.warehouse_dir,
        wait_seconds=plan.monitoring.wait_seconds,
        slack_seconds=plan.monitoring.slack_seconds,
        ingest=ingest,
    )
    finished = datetime.now(UTC)
    run_id = save_run(
        store,
        school=school,
        plan=plan,
        results=results,
        actor=actor,
        trigger=trigger,
        proxy=proxy,
        started=started,
        finished=finished,
    )
    return RunReport(run_id, school, started, finished, results)
