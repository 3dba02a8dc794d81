"""Live figures for the annual review: filter checks, alerts, log-source coverage, block/allow decisions, AI use.

Every number is computed from the records themselves for the academic year (1 September to 31 August, UTC),
so the review states what happened, not what someone remembered; tests check each figure against the rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import sqlalchemy as sa

from cases import schema as t
from cases.store import CaseStore
from filtertests.tables import filtertest_results as FR
from filtertests.tables import filtertest_runs as RUNS
from governance import ai_tools, concerns
from governance.config import GovernanceConfig
from governance.tables import requests as R


def period(academic_year: str) -> tuple[datetime, datetime]:
    """[1 Sept, next 1 Sept) of an academic year written `2025-26`."""
    try:
        first, second = academic_year.split("-")
        start = int(first)
        if len(first) != 4 or len(second) != 2 or int(second) != (start + 1) % 100:
            raise ValueError
    except ValueError:
        from governance.errors import GovernanceInvalid

        raise GovernanceInvalid(f"academic year {academic_year!r}: write it as 2025-26") from None
    return datetime(start, 9, 1, tzinfo=UTC), datetime(start + 1, 9, 1, tzinfo=UTC)


def current_year(today: date | None = None) -> str:
    """The academic year containing today."""
    d = today or datetime.now(UTC).date()
    start = d.year if d.month >= 9 else d.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def filter_checks(store: CaseStore, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Runs, probes, failures (by category) and failures still without a recorded action."""
    where = (RUNS.c.school == school, RUNS.c.started_at >= since, RUNS.c.started_at < until)
    with store.engine.connect() as c:
        runs = c.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(RUNS.c.probes), 0),
                sa.func.coalesce(sa.func.sum(RUNS.c.failures), 0),
                sa.func.count().filter(RUNS.c.passed.is_(sa.false())),
                sa.func.max(RUNS.c.started_at),
            ).where(*where)
        ).one()
        joined = (
            sa.select(FR.c.category, FR.c.passed, FR.c.action_note)
            .join(RUNS, RUNS.c.id == FR.c.run_id)
            .where(*where)
            .subquery()
        )
        by_cat = c.execute(
            sa.select(joined.c.category, sa.func.count(), sa.func.count().filter(joined.c.passed.is_(sa.false())))
            .group_by(joined.c.category)
            .order_by(joined.c.category)
        ).all()
        outstanding = c.execute(
            sa.select(sa.func.count()).where(joined.c.passed.is_(sa.false()), joined.c.action_note.is_(None))
        ).scalar_one()
    return {
        "runs": int(runs[0]),
        "probes": int(runs[1]),
        "failures": int(runs[2]),
        "failed_runs": int(runs[3]),
        "last_run": runs[4].isoformat() if runs[4] else None,
        "by_category": {str(k): {"probes": int(n), "failed": int(f)} for k, n, f in by_cat},
        "actions_outstanding": int(outstanding),
    }


def alert_volumes(store: CaseStore, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Alerts by category, severity, status and outcome (staff alerts counted, never named)."""
    a = t.alerts.c
    where = (a.school == school, a.ts >= since, a.ts < until)
    out: dict[str, Any] = {}
    with store.engine.connect() as c:
        for key, col in (
            ("by_category", a.category),
            ("by_severity", a.severity),
            ("by_status", a.status),
            ("by_outcome", a.outcome),
            ("by_detector", a.detector),
        ):
            stmt = sa.select(col, sa.func.count()).where(*where, col.is_not(None)).group_by(col).order_by(col)
            rows = c.execute(stmt)
            out[key] = {str(k): int(n) for k, n in rows}
        out["total"] = int(c.execute(sa.select(sa.func.count()).select_from(t.alerts).where(*where)).scalar_one())
        out["about_staff"] = int(
            c.execute(
                sa.select(sa.func.count()).select_from(t.alerts).where(*where, a.subject_kind == "staff")
            ).scalar_one()
        )
    return out


def source_coverage(warehouse: Any, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Per log source: events, days with data and the last event, against the days of the period so far."""
    end = min(until, datetime.now(UTC) + timedelta(days=1))
    files = warehouse.files("events", school, since, end) if warehouse is not None else []
    days_in_period = max(1, (min(end, until).date() - since.date()).days)
    if not files:
        return {"days_in_period": days_in_period, "days_with_data": 0, "sources": []}
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        base = "FROM read_parquet(?, union_by_name=true) WHERE ts >= ? AND ts < ?"
        args: list[Any] = [files, since, until]
        rows = (
            con.sql(
                f"SELECT source, count(*) AS events, count(DISTINCT CAST(ts AS DATE)) AS days, "
                f"CAST(max(ts) AS VARCHAR) AS last_ts, count(user) AS with_user {base} GROUP BY 1 ORDER BY 1",
                params=args,
            )
            .to_arrow_table()
            .to_pylist()
        )
        total_days = con.execute(f"SELECT count(DISTINCT CAST(ts AS DATE)) {base}", args).fetchone()
    finally:
        con.close()
    return {
        "days_in_period": days_in_period,
        "days_with_data": int(total_days[0]) if total_days else 0,
        "sources": [
            {
                **r,
                "events": int(r["events"]),
                "days": int(r["days"]),
                "user_identified_pct": round(100 * int(r["with_user"]) / max(1, int(r["events"])), 1),
            }
            for r in rows
        ],
    }


def decisions(store: CaseStore, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Block/allow requests by kind and status, by category, and follow-up verdicts."""
    where = (R.c.school == school, R.c.requested_at >= since, R.c.requested_at < until)
    with store.engine.connect() as c:
        rows = c.execute(
            sa.select(R.c.kind, R.c.status, R.c.category, R.c.followup_status, sa.func.count())
            .where(*where)
            .group_by(R.c.kind, R.c.status, R.c.category, R.c.followup_status)
        ).all()
    out: dict[str, Any] = {"total": 0, "by_kind_status": {}, "by_category": {}, "followups": {}}
    for kind, status, category, follow, n in rows:
        n = int(n)
        out["total"] += n
        key = f"{kind}:{status}"
        out["by_kind_status"][key] = out["by_kind_status"].get(key, 0) + n
        out["by_category"][category] = out["by_category"].get(category, 0) + n
        out["followups"][follow] = out["followups"].get(follow, 0) + n
    return out


def build(
    store: CaseStore, warehouse: Any, school: str, academic_year: str, config: GovernanceConfig
) -> dict[str, Any]:
    """Every pre-filled figure for one school's review, with the period and when it was computed."""
    since, until = period(academic_year)
    ai: dict[str, Any] = {"events": 0, "unapproved_events": 0, "by_category": {}}
    if warehouse is not None:
        usage = ai_tools.usage(warehouse, school, since, until, config.policy_for(school))
        ai = {k: usage[k] for k in ("events", "unapproved_events", "by_category", "by_week")}
    return {
        "school": school,
        "academic_year": academic_year,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "filter_checks": filter_checks(store, school, since, until),
        "alerts": alert_volumes(store, school, since, until),
        "sources": source_coverage(warehouse, school, since, until),
        "decisions": decisions(store, school, since, until),
        "concerns": concerns.count(store, school, since, until),
        "ai_use": ai,
    }
