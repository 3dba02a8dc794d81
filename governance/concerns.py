"""Staff-reported eSafety concerns: a member of staff records what they witnessed; it becomes a case.

The concern enters the DSL's queue as an alert (detector `staff_report`), so it follows the same workflow,
outcomes and audit as detector alerts. Its severity comes from the category guidance the reporter chose
(raised to 5 when they tick "a child is at immediate risk"); allegations about a member of staff are stored
with `subject_kind="staff"`, which the case store routes to the head teacher, not the DSL queue. The DSL can
attach events found in the warehouse around the reported time (audited, like any read of raw events).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from cases import audit, workflow
from cases import schema as t
from cases.store import CaseStore
from detectors.base import Alert
from governance.errors import GovernanceForbidden, GovernanceInvalid
from governance.tables import concerns as C

GUIDANCE: dict[str, tuple[int, str]] = {
    "suicide_self_harm": (4, "Self-harm or suicide: tell the DSL in person as well, today"),
    "sexual_exploitation": (4, "Grooming, sexual exploitation, sharing nudes or semi-nudes"),
    "abuse": (4, "Abuse or neglect disclosed or seen online"),
    "extremism": (4, "Radicalisation or extremist material (Prevent)"),
    "weapons_violence": (4, "Threats, weapons or violence"),
    "illegal_content": (4, "Illegal content (child abuse images, terrorist material): do not copy or forward it"),
    "bullying": (3, "Cyberbullying, harassment, unkind messages or images"),
    "discrimination": (3, "Racist, sexist, homophobic or other hateful content"),
    "eating_disorders": (3, "Pro-eating-disorder content"),
    "drugs": (3, "Drugs or alcohol"),
    "pornography": (3, "Pornography seen on a school device or network"),
    "gambling": (2, "Gambling"),
    "circumvention": (2, "Getting round the filter: VPNs, proxies, hotspots"),
    "other": (3, "Any other eSafety incident"),
}
"""Category -> (severity, guidance shown to the reporter)."""

SUBJECT_KINDS = ("pupil", "staff", "unknown")
IMMEDIATE = 5
MAX_TEXT = 4000
EVENT_COLUMNS = ("ts", "user", "client_ip", "host", "url", "action", "category", "search_terms", "origin")


def _text(value: str | None, what: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise GovernanceInvalid(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise GovernanceInvalid(f"{what}: at most {MAX_TEXT} characters")
    return text


def concern_alert(
    *,
    school: str,
    reporter: str,
    reported_at: datetime,
    what: str,
    who: str,
    when: datetime,
    where: str,
    category: str,
    subject_kind: str,
    subject_user: str | None = None,
    immediate: bool = False,
) -> Alert:
    """The case for a report: detector `staff_report`, severity from the guidance, the report as evidence."""
    if category not in GUIDANCE:
        raise GovernanceInvalid(f"unknown category {category!r}; one of: {', '.join(GUIDANCE)}")
    if subject_kind not in SUBJECT_KINDS:
        raise GovernanceInvalid(f"subject must be one of: {', '.join(SUBJECT_KINDS)}")
    what_text = _text(what, "what happened")
    who_text = _text(who, "who was involved")
    where_text = _text(where, "where it happened")
    when_utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when_utc > reported_at + timedelta(minutes=5):
        raise GovernanceInvalid("when it happened cannot be in the future")
    severity = IMMEDIATE if immediate else GUIDANCE[category][0]
    # deterministic: the same report submitted twice (a double click, a retried post) is one case
    key = f"staff_report|{school}|{reporter}|{when_utc.isoformat()}|{category}|{what_text}"
    alert_id = hashlib.sha256(key.encode()).hexdigest()[:20]
    user = (subject_user or "").strip().lower() or None
    report = {
        "what": what_text,
        "who": who_text,
        "when": when_utc.isoformat(),
        "where": where_text,
        "category": category,
        "subject_kind": subject_kind,
        "reported_by": reporter,
        "reported_at": reported_at.isoformat(),
        "immediate_risk": immediate,
    }
    return Alert(
        id=alert_id,
        school=school,
        ts=when_utc,
        last_ts=when_utc,
        user=user,
        client_ip=None,
        detector="staff_report",
        rule=f"staff_report:{category}",
        category=category,
        severity=severity,
        title=f"Staff report: {GUIDANCE[category][1].split(':')[0]} ({where_text[:80]})",
        evidence={
            "report": report,
            "events": [],
            "matched": what_text[:500],
            "search_terms": None,
            "why": f"Reported by {reporter}, who witnessed it: {what_text[:300]}",
        },
        event_keys=(f"staff_report:{alert_id}",),
        subject_kind=subject_kind,  # type: ignore[arg-type]  # validated against SUBJECT_KINDS above
    )


def submit(store: CaseStore, *, school: str, reporter: str, **fields: Any) -> dict[str, Any]:
    """Record a staff concern as a case (alert + register row + audit); returns the concern row."""
    now = t.now()
    alert = concern_alert(school=school, reporter=reporter, reported_at=now, **fields)
    store.upsert_alerts([alert])
    with store.engine.begin() as conn:
        exists = conn.execute(sa.select(C.c.alert_id).where(C.c.alert_id == alert.id)).first()
        if exists is None:
            conn.execute(
                sa.insert(C).values(
                    alert_id=alert.id,
                    school=school,
                    reported_by=reporter,
                    reported_at=now,
                    category=alert.category,
                    subject_kind=alert.subject_kind,
                )
            )
            audit.append(
                conn,
                actor=reporter,
                action="governance.concern",
                object_type="alert",
                object_id=alert.id,
                school=school,
                detail={"category": alert.category, "severity": alert.severity, "subject_kind": alert.subject_kind},
            )
    return {
        "alert_id": alert.id,
        "school": school,
        "severity": alert.severity,
        "category": alert.category,
        "subject_kind": alert.subject_kind,
        "routed_to": "head_teacher" if alert.subject_kind == "staff" else "dsl",
    }


def mine(store: CaseStore, reporter: str, schools: Sequence[str]) -> list[dict[str, Any]]:
    """A reporter's own concerns with their case status only (never notes, outcome or other evidence)."""
    a = t.alerts.c
    stmt = (
        sa.select(C.c.alert_id, C.c.school, C.c.reported_at, C.c.category, C.c.subject_kind, a.status, a.title)
        .join(t.alerts, t.alerts.c.id == C.c.alert_id)
        .where(C.c.reported_by == reporter, C.c.school.in_(list(schools)))
        .order_by(C.c.reported_at.desc())
    )
    with store.engine.connect() as c:
        rows = [t.row_dict(r) for r in c.execute(stmt)]
    for row in rows:  # the reporter learns that it is being handled, not how
        row["status"] = "closed" if row["status"] == "closed" else ("received" if row["status"] == "new" else "in hand")
    return rows


def recent(store: CaseStore, schools: Sequence[str], limit: int = 200) -> list[dict[str, Any]]:
    """Concerns in these schools with their case fields, newest first (the caller filters by alert visibility)."""
    a = t.alerts.c
    stmt = (
        sa.select(
            C.c.alert_id,
            C.c.school,
            C.c.reported_by,
            C.c.reported_at,
            C.c.category,
            a.subject_kind,
            a.severity,
            a.status,
            a.user,
            a.ts,
            a.escalated_to,
            a.title,
        )
        .join(t.alerts, t.alerts.c.id == C.c.alert_id)
        .where(C.c.school.in_(list(schools)))
        .order_by(C.c.reported_at.desc())
        .limit(limit)
    )
    with store.engine.connect() as c:
        return [t.row_dict(r) for r in c.execute(stmt)]


def count(store: CaseStore, school: str, since: datetime, until: datetime) -> dict[str, int]:
    """Concerns reported in a period by category (no identities)."""
    stmt = (
        sa.select(C.c.category, sa.func.count())
        .where(C.c.school == school, C.c.reported_at >= since, C.c.reported_at < until)
        .group_by(C.c.category)
    )
    with store.engine.connect() as c:
        return {str(k): int(n) for k, n in c.execute(stmt)}


def attach_events(
    store: CaseStore,
    warehouse: Any,
    alert: dict[str, Any],
    *,
    actor: str,
    user: str,
    since: datetime,
    until: datetime,
    host: str | None = None,
    limit: int = 200,
) -> int:
    """Attach one user's warehouse events in a window to a case (the read and the attachment are audited)."""
    if until <= since or until - since > timedelta(days=7):
        raise GovernanceInvalid("choose a window of up to 7 days")
    who = user.strip().lower()
    if not who:
        raise GovernanceInvalid("whose events? give the user name")
    table = warehouse.events(alert["school"], since=since, until=until, user=who, limit=None)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if host:
        frame = frame.filter(pl.col("host").str.ends_with(host.strip().lower()))
    frame = frame.head(limit).select(EVENT_COLUMNS)
    audit.record(
        store,
        actor=actor,
        action="events.read",
        object_type="alert",
        object_id=alert["id"],
        school=alert["school"],
        detail={
            "user": who,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "rows": frame.height,
            "host": host,
        },
        why="attach warehouse events to a staff-reported concern",
    )
    if frame.is_empty():
        return 0
    events = [{**r, "ts": r["ts"].isoformat()} for r in frame.to_dicts()]
    workflow.attach(store, alert["id"], actor, "events", {"user": who, "events": events})
    return len(events)


def ensure_concern(store: CaseStore, alert_id: str) -> None:
    """Raise unless this alert is a staff-reported concern."""
    with store.engine.connect() as c:
        if c.execute(sa.select(C.c.alert_id).where(C.c.alert_id == alert_id)).first() is None:
            raise GovernanceForbidden("not permitted, or no such concern")
