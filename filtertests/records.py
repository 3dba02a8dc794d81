"""Records of filter-test runs in the case store: save, history, trend per category, resulting actions, alerts.

The DfE standard asks for a log of checks: when, who, what was tested, the result and the resulting action.
A run is saved whole (run row, one row per probe, an audit entry) in one transaction; failures then wait for
a "resulting action" note (`record_action`, audited) that the history counts as outstanding until given.
An expected block that the filter let through raises one alert per run and alert category (detector
`filtertest`, severity 4, subject unknown) so the DSL hears of it; the network manager sees it in the history.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from detectors.base import Alert
from filtertests.errors import RecordError
from filtertests.plans import Plan, plan_digest
from filtertests.runner import ProbeResult
from filtertests.tables import filtertest_results as R
from filtertests.tables import filtertest_runs as RUNS

TRIGGERS = ("cli", "api", "schedule")


def category_summary(results: Sequence[ProbeResult]) -> dict[str, dict[str, int]]:
    """Per category: probes, passed and failed."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"probes": 0, "passed": 0, "failed": 0})
    for r in results:
        row = out[r.category]
        row["probes"] += 1
        row["passed" if r.passed else "failed"] += 1
    return dict(sorted(out.items()))


def alerts_for(run_id: str, school: str, results: Sequence[ProbeResult]) -> dict[str, Alert]:
    """One alert per alert category for expected blocks the filter allowed, keyed by category."""
    by_cat: dict[str, list[tuple[int, ProbeResult]]] = defaultdict(list)
    for i, r in enumerate(results):
        if r.unexpectedly_allowed and r.alert_category:
            by_cat[r.alert_category].append((i, r))
    alerts: dict[str, Alert] = {}
    for cat, hits in sorted(by_cat.items()):
        rs = [r for _, r in hits]
        groups = sorted({r.group for r in rs})
        checks = sorted({r.check for r in rs})
        alerts[cat] = Alert(
            id=hashlib.sha256(f"filtertest|{run_id}|{cat}".encode()).hexdigest()[:20],
            school=school,
            ts=min(r.started for r in rs),
            last_ts=max(r.finished for r in rs),
            user=None,
            client_ip=None,
            detector="filtertest",
            rule="filtertest:" + ",".join(checks),
            category=cat,
            severity=4,
            title=f"Filter test: {', '.join(sorted({r.category for r in rs}))} not blocked for {', '.join(groups)}",
            evidence={
                "events": [
                    {
                        "ts": r.started,
                        "url": r.url,
                        "host": r.host,
                        "action": "allowed",
                        "group": r.group,
                        "site": r.site,
                        "origin": f"filtertest:{run_id}:{i}",
                    }
                    for i, r in hits
                ],
                "matched": rs[0].url,
                "search_terms": None,
                "url": rs[0].url,
                "host": rs[0].host,
                "run_id": run_id,
                "why": (
                    f"A filter test run ({run_id}) reached test pages the plan expects to be blocked, as "
                    f"{', '.join(groups)}. The filter is not protecting these users: tell the network manager "
                    "and record the resulting action on the run."
                ),
            },
            event_keys=tuple(f"filtertest:{run_id}:{i}" for i, _ in hits),
            subject_kind="unknown",
        )
    return alerts


def new_run_id(started: datetime) -> str:
    """Sortable, unique run id."""
    return f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def save_run(
    store: CaseStore,
    *,
    school: str,
    plan: Plan,
    results: Sequence[ProbeResult],
    actor: str,
    trigger: str,
    proxy: str | None,
    started: datetime,
    finished: datetime,
) -> str:
    """Store a run, its results and an audit entry; raise alerts for unexpected allows. Returns the run id."""
    if trigger not in TRIGGERS:
        raise RecordError(f"unknown trigger {trigger!r}")
    run_id = new_run_id(started)
    alerts = alerts_for(run_id, school, results)
    failures = sum(not r.passed for r in results)
    summary = category_summary(results)
    with store.engine.begin() as conn:
        store.ensure_school(school, conn=conn)
        conn.execute(
            sa.insert(RUNS).values(
                id=run_id,
                school=school,
                started_at=started,
                finished_at=finished,
                actor=actor,
                trigger=trigger,
                plan_name=plan.name,
                plan_sha256=plan_digest(plan),
                proxy=proxy,
                probes=len(results),
                failures=failures,
                passed=failures == 0,
                summary=summary,
            )
        )
        if results:
            conn.execute(sa.insert(R), [_result_row(run_id, school, r, alerts) for r in results])
        audit.append(
            conn,
            actor=actor,
            action="filtertest.run",
            object_type="filtertest_run",
            object_id=run_id,
            school=school,
            detail={
                "plan": plan.name,
                "trigger": trigger,
                "probes": len(results),
                "failures": failures,
                "alerts": sorted(a.id for a in alerts.values()),
            },
        )
    if alerts:
        store.upsert_alerts(list(alerts.values()))
    return run_id


def _result_row(run_id: str, school: str, r: ProbeResult, alerts: dict[str, Alert]) -> dict[str, Any]:
    alert = alerts.get(r.alert_category or "") if r.unexpectedly_allowed else None
    return {
        "run_id": run_id,
        "school": school,
        "check_name": r.check,
        "category": r.category,
        "kind": r.kind,
        "group_name": r.group,
        "site": r.site,
        "url": r.url,
        "host": r.host,
        "method": r.method,
        "expected": r.expected,
        "observed": r.observed,
        "detail": r.detail,
        "status": r.status,
        "started_at": r.started,
        "finished_at": r.finished,
        "monitored": r.monitored,
        "seen_in_logs": r.seen_in_logs,
        "log_action": r.log_action,
        "log_category": r.log_category,
        "log_source": r.log_source,
        "monitoring_detail": r.monitoring_detail,
        "passed": r.passed,
        "reason": r.reason,
        "alert_id": alert.id if alert else None,
    }


def _outstanding() -> Any:
    return (
        sa.select(sa.func.count())
        .where(R.c.run_id == RUNS.c.id, R.c.passed.is_(sa.false()), R.c.action_note.is_(None))
        .scalar_subquery()
    )


def list_runs(store: CaseStore, schools: Sequence[str], *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Runs in these schools, newest first, with the number of failures still awaiting a resulting action."""
    stmt = (
        sa.select(RUNS, _outstanding().label("actions_outstanding"))
        .where(RUNS.c.school.in_(list(schools)))
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as c:
        return [t.row_dict(r) for r in c.execute(stmt)]


def get_run(store: CaseStore, run_id: str, schools: Sequence[str]) -> dict[str, Any]:
    """One run with its results; RecordError when it does not exist or is outside these schools."""
    with store.engine.connect() as c:
        row = c.execute(sa.select(RUNS, _outstanding().label("actions_outstanding")).where(RUNS.c.id == run_id)).first()
        if row is None or row.school not in schools:
            raise RecordError("not permitted, or no such filter-test run")
        results = [t.row_dict(r) for r in c.execute(sa.select(R).where(R.c.run_id == run_id).order_by(R.c.id))]
    return {**t.row_dict(row), "results": results}


def record_action(
    store: CaseStore, run_id: str, note: str, *, actor: str, schools: Sequence[str], result_id: int | None = None
) -> int:
    """Record the resulting action on a run's failures (one result, or every failure still without one)."""
    note = note.strip()
    if len(note) < 3:
        raise RecordError("describe the resulting action (what was changed, who was told)")
    run = get_run(store, run_id, schools)
    failed = [r for r in run["results"] if not r["passed"]]
    if result_id is not None:
        targets = [r for r in failed if r["id"] == result_id]
        if not targets:
            raise RecordError(f"run {run_id} has no failed result {result_id}")
    else:
        targets = [r for r in failed if r["action_note"] is None]
        if not targets:
            raise RecordError(f"run {run_id} has no failure awaiting a resulting action")
    now = t.now()
    ids = [r["id"] for r in targets]
    with store.engine.begin() as conn:
        conn.execute(sa.update(R).where(R.c.id.in_(ids)).values(action_note=note, action_by=actor, action_at=now))
        audit.append(
            conn,
            actor=actor,
            action="filtertest.action",
            object_type="filtertest_run",
            object_id=run_id,
            school=run["school"],
            detail={"results": ids, "note": note},
        )
    return len(ids)


def trend(store: CaseStore, schools: Sequence[str], *, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
    """Per category, oldest first: each run's time, probes, passed and failed (from the run summaries)."""
    runs = list(reversed(list_runs(store, schools, limit=limit)))
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        for cat, counts in (run["summary"] or {}).items():
            out[cat].append({"run_id": run["id"], "school": run["school"], "ts": run["started_at"], **counts})
    return dict(sorted(out.items()))


def results_for_export(
    store: CaseStore, schools: Sequence[str], *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every result of every run in these schools (and period), with its run's when/who/plan, oldest first."""
    where: list[sa.ColumnElement[bool]] = [RUNS.c.school.in_(list(schools))]
    if since:
        where.append(RUNS.c.started_at >= since)
    if until:
        where.append(RUNS.c.started_at < until)
    stmt = (
        sa.select(RUNS.c.started_at.label("run_started"), RUNS.c.actor, RUNS.c.trigger, RUNS.c.plan_name, R)
        .join(RUNS, RUNS.c.id == R.c.run_id)
        .where(*where)
        .order_by(RUNS.c.started_at, R.c.id)
    )
    with store.engine.connect() as c:
        return [t.row_dict(r) for r in c.execute(stmt)]
