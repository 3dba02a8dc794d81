"""The minute sweep: escalate unacknowledged severity-5 alerts, notify escalations, retry deliveries, digests.

`run_due(store, settings, now)` is what `vigil serve` runs every minute (a background task) and what
`vigil notify run-due` runs from cron or a systemd timer. Every step is idempotent, so overlapping runs in
two processes are harmless: escalation stages are rows with a primary key, notifications have a unique key,
and deliveries are claimed before they are sent. `now` is injected so tests drive the clock.

Timing: an alert of severity >= `escalation.min_severity` still `new` `deputy_after_minutes` after Vigil stored
it is escalated to the deputy DSL (notified); still `new` at `head_after_minutes`, it is escalated to the head
teacher (the alert gets `escalated_to = head_teacher`, so the head teacher can open it, and stays `new` so
the DSL can still acknowledge it). Alerts about staff already go to the head teacher and are not chained.
A DSL's own escalation (workflow.escalate) is picked up here too and notifies the head teacher.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.channels.config import DAYS, NotifyConfig, notify_config
from cases.channels.records import escalations
from cases.ingest_health import queue_silent_sources
from cases.notify import (
    DeliveryStats,
    Recipient,
    Sender,
    deliver_due,
    lowest_threshold,
    notify_alert,
    notify_raised,
    queue,
    send,
)
from cases.store import CaseStore
from vigil.settings import Settings

log = logging.getLogger("vigil.escalation")
ACTOR = "vigil"


@dataclass
class DueReport:
    """What one sweep did (printed by `vigil notify run-due`)."""

    queued: int = 0
    to_deputy: list[str] = field(default_factory=list)
    to_head: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    delivery: DeliveryStats = field(default_factory=DeliveryStats)

    def summary(self) -> dict[str, Any]:
        """Counts only (alert ids are not personal data, but counts are all an operator needs)."""
        return {
            "queued": self.queued,
            "escalated_to_deputy": len(self.to_deputy),
            "escalated_to_head": len(self.to_head),
            "dsl_escalations_notified": len(self.manual),
            "digests": len(self.digests),
            "sent": self.delivery.sent,
            "retrying": self.delivery.retrying,
            "failed": self.delivery.failed,
        }


class _Skip(Exception):
    """Roll back a stage that lost a race (already recorded, or acknowledged meanwhile)."""


def _stage(conn: sa.Connection, alert: Mapping[str, Any], stage: str, source: str, now: datetime) -> None:
    """Record that an alert reached a stage, as the transaction's first write (a duplicate raises _Skip)."""
    try:
        conn.execute(
            sa.insert(escalations).values(
                alert_id=alert["id"], stage=stage, school=alert["school"], source=source, ts=now
            )
        )
    except sa.exc.IntegrityError as exc:
        raise _Skip from exc


def _once(store: CaseStore, alert: Mapping[str, Any], stage: str, source: str, now: datetime) -> bool:
    """Record a stage in its own transaction; False when another sweep got there first."""
    try:
        with store.engine.begin() as conn:
            _stage(conn, alert, stage, source, now)
    except _Skip:
        return False
    return True


def _unacknowledged(
    store: CaseStore, cfg: NotifyConfig, stage: str, older_than: datetime, since: datetime
) -> list[dict[str, Any]]:
    a, e = t.alerts.c, escalations.c
    reached = sa.select(e.alert_id).where(e.stage == stage)
    q = sa.select(t.alerts).where(
        a.severity >= cfg.escalation.min_severity,
        a.status == "new",
        a.subject_kind != "staff",
        a.created_at <= older_than,
        a.created_at >= since,
        a.school.in_(list(cfg.schools)),
        a.id.not_in(reached),
    )
    with store.engine.connect() as conn:
        return [t.row_dict(r) for r in conn.execute(q.order_by(a.created_at))]


def escalate_unacknowledged(
    store: CaseStore, settings: Settings, cfg: NotifyConfig, now: datetime, report: DueReport
) -> None:
    """Move each unacknowledged severity-5 alert up the chain one stage at a time (deputy, then head)."""
    since = now - timedelta(hours=cfg.retry.lookback_hours)
    esc = cfg.escalation
    for stage, minutes, event, done in (
        ("deputy_dsl", esc.deputy_after_minutes, "escalation_deputy", report.to_deputy),
        ("head_teacher", esc.head_after_minutes, "escalation_head", report.to_head),
    ):
        for alert in _unacknowledged(store, cfg, stage, now - timedelta(minutes=minutes), since):
            try:
                alert = _escalate_one(store, alert, stage, minutes, now)
            except _Skip:
                continue
            done.append(alert["id"])
            log.warning("alert escalated", extra={"alert": alert["id"], "stage": stage})
            report.queued += len(notify_alert(store, settings, cfg, alert, event, now))


def _escalate_one(store: CaseStore, alert: dict[str, Any], stage: str, minutes: int, now: datetime) -> dict[str, Any]:
    """Record the stage, hand the alert to the head teacher (last stage) and audit, in one transaction."""
    with store.engine.begin() as conn:
        _stage(conn, alert, stage, "auto", now)
        if stage == "head_teacher":
            # Only while still `new`: a DSL acknowledging at this instant wins, and nothing is changed.
            res = conn.execute(
                sa.update(t.alerts)
                .where(t.alerts.c.id == alert["id"], t.alerts.c.status == "new")
                .values(escalated_to="head_teacher", updated_at=now)
            )
            if res.rowcount != 1:
                raise _Skip
            alert = {**alert, "escalated_to": "head_teacher"}
        audit.append(
            conn,
            actor=ACTOR,
            action="alert.auto_escalate",
            object_type="alert",
            object_id=alert["id"],
            school=alert["school"],
            detail={"stage": stage, "after_minutes": minutes, "status": alert["status"]},
            why=f"severity {alert['severity']} alert not acknowledged within {minutes} minutes",
        )
    return alert


def notify_dsl_escalations(
    store: CaseStore, settings: Settings, cfg: NotifyConfig, now: datetime, report: DueReport
) -> None:
    """Tell the head teacher about alerts a DSL escalated to them (workflow.escalate) that they have not heard of."""
    a, e = t.alerts.c, escalations.c
    reached = sa.select(e.alert_id).where(e.stage == "head_teacher")
    q = sa.select(t.alerts).where(
        a.escalated_to == "head_teacher",
        a.status != "closed",
        a.school.in_(list(cfg.schools)),
        a.updated_at >= now - timedelta(hours=cfg.retry.lookback_hours),
        a.id.not_in(reached),
    )
    with store.engine.connect() as conn:
        rows = [t.row_dict(r) for r in conn.execute(q)]
    for alert in rows:
        if not _once(store, alert, "head_teacher", "dsl", now):
            continue
        report.manual.append(alert["id"])
        report.queued += len(notify_alert(store, settings, cfg, alert, "escalated", now))


def on_escalated(store: CaseStore, settings: Settings, alert_id: str, *, now: datetime | None = None) -> int:
    """Hook for the escalate routes: notify the head teacher now (the minute sweep would otherwise do it)."""
    cfg = notify_config(settings)
    moment = now or t.now()
    alert = store.get_alert(alert_id)
    if (
        not cfg.enabled
        or alert is None
        or alert["school"] not in cfg.schools
        or alert.get("escalated_to") != "head_teacher"
    ):
        return 0
    if not _once(store, alert, "head_teacher", "dsl", moment):
        return 0
    ids = notify_alert(store, settings, cfg, alert, "escalated", moment)
    return deliver_due(store, cfg, moment, ids=ids).sent


def digest_due(cfg: NotifyConfig, settings: Settings, school: str, now: datetime) -> str | None:
    """The digest reference (`digest:<school>:<ISO week>`) when this school's weekly digest hour has come."""
    local = now.astimezone(ZoneInfo(settings.school_tz(school)))
    if DAYS[local.weekday()] != cfg.digest.weekday or local.hour < cfg.digest.hour:
        return None
    year, week, _ = local.isocalendar()
    return f"digest:{school}:{year}-W{week:02d}"


def queue_digests(store: CaseStore, settings: Settings, cfg: NotifyConfig, now: datetime, report: DueReport) -> None:
    """Email each configured school's weekly digest (counts and a link) to its DSL and deputy contacts, once."""
    from cases.reports import digest_message  # reports imports the warehouse stack: only when digests are on

    for school, conf in cfg.schools.items():
        ref = digest_due(cfg, settings, school, now)
        if ref is None:
            continue
        recipients = [
            Recipient("email", c.name, c.role, address=c.email)
            for c in conf.contacts
            if c.role in ("dsl", "deputy_dsl")
        ]
        if not recipients:
            continue
        ids = queue(
            store,
            ref=ref,
            event="digest",
            school=school,
            recipients=recipients,
            message=digest_message(store, settings, cfg, school, now),
            now=now,
        )
        if ids:
            report.digests.append(ref)
            report.queued += len(ids)


def run_due(
    store: CaseStore, settings: Settings, now: datetime, *, cfg: NotifyConfig | None = None, sender: Sender = send
) -> DueReport:
    """One sweep: missed `raised` notifications, escalations, DSL escalations, digests, silent log sources, then
    every due delivery."""
    conf = cfg or notify_config(settings)
    report = DueReport()
    if not conf.enabled or not conf.schools:
        return report  # a school without [notify.schools.<id>] gets neither notifications nor auto-escalation
    since = now - timedelta(hours=conf.retry.lookback_hours)
    a = t.alerts.c
    with store.engine.connect() as conn:
        recent = list(
            conn.execute(
                sa.select(a.id).where(
                    a.created_at >= since,
                    a.severity >= lowest_threshold(conf),
                    a.status != "closed",
                    a.school.in_(list(conf.schools)),
                )
            ).scalars()
        )
    report.queued += len(notify_raised(store, settings, conf, recent, now))
    escalate_unacknowledged(store, settings, conf, now, report)
    notify_dsl_escalations(store, settings, conf, now, report)
    if conf.digest.send:
        queue_digests(store, settings, conf, now, report)
    report.queued += queue_silent_sources(store, settings, conf, now)
    report.delivery = deliver_due(store, conf, now, sender=sender)
    return report


def on_escalated_quietly(store: CaseStore, settings: Settings, alert_id: str) -> None:
    """`on_escalated` for a background task after the HTTP response: failures are logged, the sweep retries."""
    try:
        on_escalated(store, settings, alert_id)
    except Exception:  # noqa: BLE001 - the escalation itself is committed; the minute sweep notifies instead
        log.exception("escalation notification failed; the next sweep retries")
