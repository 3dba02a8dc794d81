"""The weekly DSL digest and the termly governors' report: aggregates from the case store and the warehouse.

Neither holds a name, a device, a search or matched text. The digest lists its severity 1-2 alerts as links
(reference, time, category, severity, status) only when built for someone who may open them
(`with_items=True`: the DSL or deputy); everyone else gets the same counts without the list. Alerts about
staff are left out of the digest (the DSL never sees them) and appear in the governors' report only as counts.
Rendering is in `cases.reports_html` (HTML with inline SVG charts) and `cases.reports_pdf` (fpdf2).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from cases import schema as t
from cases.channels import Message
from cases.channels.config import NotifyConfig
from cases.channels.records import escalations, notifications
from cases.errors import InvalidInput
from cases.store import CaseStore
from vigil.settings import Settings

TERMS = ("autumn", "spring", "summer")
ACTED = ("alert.triage", "alert.escalate", "alert.close")
_TERM = re.compile(r"^(autumn|spring|summer)-(\d{4})$")


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval with a label for people."""

    since: datetime
    until: datetime
    label: str

    def as_dict(self, tz: str) -> dict[str, str]:
        """ISO bounds, the label, and the first and last local days (what people read)."""
        zone = ZoneInfo(tz)
        last = (self.until - timedelta(microseconds=1)).astimezone(zone).date()
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "label": self.label,
            "first_day": str(self.since.astimezone(zone).date()),
            "last_day": str(last),
        }


def _local_midnight(d: date, tz: str) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def term_period(term: str | None, now: datetime, tz: str) -> Period:
    """`autumn-2026` (1 Sep-31 Dec), `spring-2027` (1 Jan-31 Mar), `summer-2027` (1 Apr-31 Aug); default: now's term.

    School terms move with Easter and each local authority's calendar; these fixed bounds keep every day of the
    year in exactly one term so termly reports add up to the year. `--since/--until` give exact dates.
    """
    if term is None:
        local = now.astimezone(ZoneInfo(tz))
        name = "autumn" if local.month >= 9 else ("spring" if local.month <= 3 else "summer")
        term = f"{name}-{local.year}"
    m = _TERM.match(term.strip().lower())
    if not m:
        raise InvalidInput(f"term {term!r}: use autumn-YYYY, spring-YYYY or summer-YYYY")
    name, year = m.group(1), int(m.group(2))
    start, end = {
        "autumn": (date(year, 9, 1), date(year + 1, 1, 1)),
        "spring": (date(year, 1, 1), date(year, 4, 1)),
        "summer": (date(year, 4, 1), date(year, 9, 1)),
    }[name]
    return Period(_local_midnight(start, tz), _local_midnight(end, tz), f"{name.capitalize()} term {year}")


def explicit_period(since: date, until: date, tz: str) -> Period:
    """From local midnight of `since` to local midnight after `until` (both days included)."""
    if until < since:
        raise InvalidInput("--until is before --since")
    return Period(_local_midnight(since, tz), _local_midnight(until + timedelta(days=1), tz), f"{since} to {until}")


def week_period(now: datetime, tz: str) -> Period:
    """The seven days before `now` (the digest's week)."""
    since = now - timedelta(days=7)
    fmt = "%a %d %b %Y"
    zone = ZoneInfo(tz)
    return Period(since, now, f"{since.astimezone(zone).strftime(fmt)} to {now.astimezone(zone).strftime(fmt)}")


def _count(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    c = Counter(str(r[key]) for r in rows if r[key] is not None)
    return dict(sorted(c.items()))


def _alerts(store: CaseStore, school: str, period: Period, *, staff: bool) -> list[dict[str, Any]]:
    a = t.alerts.c
    cols = (a.id, a.ts, a.created_at, a.category, a.severity, a.status, a.outcome, a.subject_kind, a.escalated_to)
    where = [a.school == school, a.ts >= period.since, a.ts < period.until]
    if not staff:
        where.append(a.subject_kind != "staff")
    with store.engine.connect() as conn:
        return [t.row_dict(r) for r in conn.execute(sa.select(*cols).where(*where).order_by(a.ts, a.id))]


def _first_action(store: CaseStore, ids: list[str]) -> dict[str, datetime]:
    """When each alert was first acted on (triaged, escalated or closed), from the audit trail."""
    au = t.audit.c
    out: dict[str, datetime] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            q = (
                sa.select(au.object_id, sa.func.min(au.ts))
                .where(au.object_type == "alert", au.action.in_(ACTED), au.object_id.in_(ids[start : start + 500]))
                .group_by(au.object_id)
            )
            out.update({str(k): v if v.tzinfo else v.replace(tzinfo=UTC) for k, v in conn.execute(q)})
    return out


def response_minutes(store: CaseStore, rows: list[dict[str, Any]], min_severity: int = 4) -> dict[str, Any]:
    """Minutes from Vigil storing an alert to a person first acting on it, for alerts of `min_severity`+."""
    high = [r for r in rows if int(r["severity"]) >= min_severity]
    acted = _first_action(store, [r["id"] for r in high])
    waits = [(acted[r["id"]] - r["created_at"]).total_seconds() / 60 for r in high if r["id"] in acted]
    return {
        "alerts": len(high),
        "acted_on": len(waits),
        "median_minutes": round(statistics.median(waits), 1) if waits else None,
        "within_15_minutes": sum(1 for w in waits if w <= 15),
    }


def _per_week(rows: list[dict[str, Any]], tz: str) -> dict[str, dict[str, int]]:
    """Alerts per week (Monday's date) split into severity bands, for the 'over time' chart."""
    zone = ZoneInfo(tz)
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        local = r["ts"].astimezone(zone).date()
        monday = str(local - timedelta(days=local.weekday()))
        band = "4-5" if r["severity"] >= 4 else ("3" if r["severity"] == 3 else "1-2")
        week = out.setdefault(monday, {"1-2": 0, "3": 0, "4-5": 0})
        week[band] += 1
    return dict(sorted(out.items()))


def _school_days(period: Period, now: datetime, tz: str) -> list[date]:
    zone = ZoneInfo(tz)
    first = period.since.astimezone(zone).date()
    last = (min(period.until, now) - timedelta(microseconds=1)).astimezone(zone).date()
    return [
        first + timedelta(days=i) for i in range((last - first).days + 1) if (first + timedelta(days=i)).weekday() < 5
    ]


def coverage(warehouse: Any, school: str, period: Period, now: datetime, tz: str) -> dict[str, Any]:
    """Ingest coverage: school days with logged events, events by source, days with none (no identities)."""
    days = _school_days(period, now, tz)
    out: dict[str, Any] = {"school_days": len(days), "days_with_events": 0, "missing_days": [], "by_source": {}}
    if warehouse is None:
        out["note"] = "the warehouse could not be read"
        return out
    summary = warehouse.summary(school, since=period.since, until=min(period.until, now))
    seen = {d for d, n in summary.get("by_day", {}).items() if n}
    out["events"] = int(summary.get("events", 0))
    out["by_source"] = {str(k): int(v) for k, v in summary.get("by_source", {}).items()}
    out["days_with_events"] = sum(1 for d in days if str(d) in seen)
    out["missing_days"] = [str(d) for d in days if str(d) not in seen]
    return out


def filter_checks(store: CaseStore, school: str, period: Period) -> dict[str, Any] | None:
    """Filter-effectiveness checks run in the period (runs, passes, failures per category); None if none kept."""
    try:
        from filtertests.tables import filtertest_runs as runs
    except ImportError:
        return None
    r = runs.c
    q = sa.select(r.started_at, r.passed, r.probes, r.failures, r.summary).where(
        r.school == school, r.started_at >= period.since, r.started_at < period.until
    )
    try:
        with store.engine.connect() as conn:
            rows = [t.row_dict(x) for x in conn.execute(q.order_by(r.started_at))]
    except sa.exc.DBAPIError:
        return None  # the filter-test tables are not in this database
    per_category: dict[str, dict[str, int]] = {}
    for row in rows:
        for cat, counts in (row["summary"] or {}).items():
            agg = per_category.setdefault(str(cat), {"passed": 0, "failed": 0})
            agg["passed"] += int(counts.get("passed", 0))
            agg["failed"] += int(counts.get("failed", 0))
    return {
        "runs": len(rows),
        "runs_passed": sum(1 for x in rows if x["passed"]),
        "probes": sum(int(x["probes"]) for x in rows),
        "failures": sum(int(x["failures"]) for x in rows),
        "last_run": rows[-1]["started_at"].isoformat() if rows else None,
        "by_category": dict(sorted(per_category.items())),
    }


def digest(
    store: CaseStore, settings: Settings, school: str, now: datetime, *, with_items: bool, base_url: str = ""
) -> dict[str, Any]:
    """The weekly DSL digest: the week's pupil alerts in counts, open alerts, outcomes, and low-severity links."""
    tz = settings.school_tz(school)
    period = week_period(now, tz)
    rows = _alerts(store, school, period, staff=False)
    a = t.alerts.c
    with store.engine.connect() as conn:
        open_rows = [
            t.row_dict(r)
            for r in conn.execute(
                sa.select(a.severity, a.status, a.ts).where(
                    a.school == school, a.status != "closed", a.subject_kind != "staff"
                )
            )
        ]
        esc = conn.execute(
            sa.select(escalations.c.stage, sa.func.count())
            .where(escalations.c.school == school, escalations.c.ts >= period.since, escalations.c.ts < period.until)
            .group_by(escalations.c.stage)
        ).all()
        sent = conn.execute(
            sa.select(notifications.c.status, sa.func.count())
            .where(
                notifications.c.school == school,
                notifications.c.created_at >= period.since,
                notifications.c.created_at < period.until,
                notifications.c.event != "digest",
            )
            .group_by(notifications.c.status)
        ).all()
    low = [r for r in rows if int(r["severity"]) <= 2]
    oldest = min((r["ts"] for r in open_rows), default=None)
    out: dict[str, Any] = {
        "kind": "digest",
        "school": school,
        "school_name": (settings.schools.get(school).name if settings.schools.get(school) else "") or school,  # type: ignore[union-attr]
        "period": period.as_dict(tz),
        "generated": now.isoformat(),
        "raised": {
            "total": len(rows),
            "by_severity": _count(rows, "severity"),
            "by_category": _count(rows, "category"),
        },
        "open": {
            "total": len(open_rows),
            "by_severity": _count(open_rows, "severity"),
            "by_status": _count(open_rows, "status"),
            "oldest_days": round((now - oldest).total_seconds() / 86400, 1) if oldest else None,
        },
        "closed_by_outcome": _count([r for r in rows if r["status"] == "closed"], "outcome"),
        "escalations": {str(k): int(n) for k, n in esc},
        "notifications": {str(k): int(n) for k, n in sent},
        "response": response_minutes(store, rows),
        "low_severity": {"total": len(low), "by_category": _count(low, "category")},
    }
    if with_items:
        out["low_severity"]["list"] = [
            {
                "id": r["id"],
                "ts": r["ts"].isoformat(),
                "category": r["category"],
                "severity": int(r["severity"]),
                "status": r["status"],
                "link": f"{base_url.rstrip('/')}/alerts/{r['id']}",
            }
            for r in low[:500]
        ]
    return out


def governors(
    store: CaseStore, settings: Settings, warehouse: Any, school: str, period: Period, now: datetime
) -> dict[str, Any]:
    """The termly governors' report: alerts by category, severity, outcome and week; checks; ingest coverage."""
    tz = settings.school_tz(school)
    rows = _alerts(store, school, period, staff=True)
    conf = settings.schools.get(school)
    return {
        "kind": "governors",
        "school": school,
        "school_name": (conf.name if conf else "") or school,
        "period": period.as_dict(tz),
        "generated": now.isoformat(),
        "alerts": {
            "total": len(rows),
            "about_staff": sum(1 for r in rows if r["subject_kind"] == "staff"),
            "by_category": _count(rows, "category"),
            "by_severity": _count(rows, "severity"),
            "by_status": _count(rows, "status"),
            "by_outcome": _count([r for r in rows if r["status"] == "closed"], "outcome"),
            "escalated_to_head": sum(1 for r in rows if r["escalated_to"]),
            "per_week": _per_week(rows, tz),
        },
        "response": response_minutes(store, rows),
        "filter_checks": filter_checks(store, school, period),
        "coverage": coverage(warehouse, school, period, now, tz),
    }


def digest_message(store: CaseStore, settings: Settings, cfg: NotifyConfig, school: str, now: datetime) -> Message:
    """The digest email: counts and a link to the full digest (no list of alerts in the email itself)."""
    d = digest(store, settings, school, now, with_items=False)
    sev: Mapping[str, int] = d["raised"]["by_severity"]
    lines = [
        f"Weekly safeguarding digest for {d['school_name']}, {d['period']['label']}.",
        f"Alerts raised: {d['raised']['total']} "
        + "("
        + ", ".join(f"severity {k}: {v}" for k, v in sorted(sev.items(), reverse=True))
        + ")"
        if sev
        else "Alerts raised: 0",
        f"Open now: {d['open']['total']}"
        + (f" (oldest {d['open']['oldest_days']} days)" if d["open"]["oldest_days"] is not None else ""),
        f"Low-severity (1-2) alerts to review: {d['low_severity']['total']}",
        f"Closed this week: {sum(d['closed_by_outcome'].values())}",
    ]
    return Message(
        subject=f"[Vigil] Weekly digest: {d['school_name']}",
        text="\n".join(lines),
        link=cfg.link(f"/reports/digest?school={school}"),
        school=school,
        event="digest",
    )
