"""Routing and delivery of notifications: who hears of an alert, what they are told, and that it arrives.

Routing (`recipients_for`): pupil alerts go to DSL and deputy contacts at or above their role's threshold;
alerts about staff go to the head teacher only; the head teacher hears of a pupil alert only when it is
escalated. Outside the school day the out-of-hours list is added. Messages (`alert_message`) hold the school,
the category, the severity, the time and a link: never the pupil's name, device, search or matched text.

Delivery: `queue` records one row per (alert, event, recipient) (idempotent); `deliver_due` claims due rows,
sends them, and retries failures with exponential backoff until `retry.max_attempts`. `notifying_sink` wraps
the ingest worker's alert sink so new or raised severity 4-5 alerts notify at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from api.present import category_words
from cases import schema as t
from cases.channels import DeliveryError, Message
from cases.channels.config import Contact, NotifyConfig, Webhook, notify_config
from cases.channels.email import send_email
from cases.channels.records import notifications
from cases.channels.webhook import send_webhook
from cases.store import CaseStore
from detectors.base import Alert
from vigil.settings import Settings

log = logging.getLogger("vigil.notify")

EVENTS: dict[str, str] = {
    "raised": "A new alert needs attention.",
    "escalation_deputy": "Nobody has acknowledged this alert yet, so it has been escalated to you (deputy DSL).",
    "escalation_head": "Nobody has acknowledged this alert yet, so it has been escalated to you (head teacher).",
    "escalated": "The DSL has escalated this alert to you with a note (read it in Vigil).",
    "digest": "Your weekly safeguarding digest is ready.",
}
SEVERITY_LABEL = {1: "info", 2: "low", 3: "medium", 4: "high", 5: "imminent risk"}
STALE_CLAIM = timedelta(minutes=10)
"""A row left `sending` this long (a crashed sender) is taken over by the next sweep."""


@dataclass(frozen=True)
class Recipient:
    """One destination in one role; `key` identifies it in the delivery log (never a webhook URL: a secret)."""

    channel: Literal["email", "webhook"]
    name: str
    role: str
    address: str = ""
    fmt: str = "slack"

    @property
    def key(self) -> str:
        """Stable identity for idempotency."""
        return f"email:{self.address.lower()}" if self.channel == "email" else f"webhook:{self.name}"


@dataclass
class DeliveryStats:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _contact(c: Contact) -> Recipient:
    return Recipient("email", c.name, c.role, address=c.email)


def _hook(w: Webhook) -> Recipient:
    return Recipient("webhook", w.name, w.role, fmt=w.format)


def role_may_see(role: str, alert: Mapping[str, Any]) -> bool:
    """Whether a role may be told about this alert at all (mirrors the API's object-level rules)."""
    staff = alert.get("subject_kind") == "staff"
    if role in ("dsl", "deputy_dsl"):
        return not staff
    if role == "head_teacher":
        return staff or bool(alert.get("escalated_to"))
    return False


def recipients_for(cfg: NotifyConfig, alert: Mapping[str, Any], event: str, now: datetime, tz: str) -> list[Recipient]:
    """Who to notify of `event` on this alert, deduplicated (thresholds apply to `raised` only)."""
    school = cfg.school(alert["school"])
    limits = cfg.thresholds_for(alert["school"])
    pool: list[tuple[Recipient, int | None]] = [(_contact(c), c.min_severity) for c in school.contacts]
    pool += [(_hook(w), w.min_severity) for w in school.webhooks]
    if not cfg.hours_for(alert["school"]).within(now, tz):
        pool += [(_contact(c), c.min_severity) for c in school.out_of_hours]
    wanted_role = {"escalation_deputy": "deputy_dsl", "escalation_head": "head_teacher", "escalated": "head_teacher"}
    out: dict[str, Recipient] = {}
    for rcpt, own_min in pool:
        if event == "raised":
            if not role_may_see(rcpt.role, alert):
                continue  # e.g. the network manager: told about feeds, never about alerts
            threshold = own_min or int(getattr(limits, rcpt.role))
            if int(alert["severity"]) < threshold:
                continue
            if rcpt.role == "head_teacher" and alert.get("subject_kind") != "staff":
                continue  # the head teacher hears of pupil alerts through escalation only
        elif rcpt.role != wanted_role.get(event) or not role_may_see(rcpt.role, alert):
            continue
        out.setdefault(rcpt.key, rcpt)
    return list(out.values())


def school_name(settings: Settings, school: str) -> str:
    """The configured display name of a school, else its id."""
    cfg = settings.schools.get(school)
    return (cfg.name if cfg and cfg.name else "") or school


def alert_message(cfg: NotifyConfig, settings: Settings, alert: Mapping[str, Any], event: str) -> Message:
    """The notification text: school, category, severity, time, a link. Nothing that identifies anyone."""
    sev = int(alert["severity"])
    words = category_words(str(alert["category"]))
    name = school_name(settings, alert["school"])
    tz = settings.school_tz(alert["school"])
    first = alert["ts"].astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")
    prefix = "Escalated: " if event.startswith("escalat") else ""
    subject = f"[Vigil] {prefix}severity {sev} ({SEVERITY_LABEL.get(sev, sev)}) alert: {words} at {name}"
    lines = [
        EVENTS[event],
        f"School: {name}",
        f"Category: {words}",
        f"Severity: {sev} ({SEVERITY_LABEL.get(sev, sev)})",
        f"First seen: {first} ({tz})",
        f"Subject: {'a member of staff' if alert.get('subject_kind') == 'staff' else 'a pupil'} (name shown in Vigil)",
        f"Reference: {str(alert['id'])[:12]}",
        "Sign in to Vigil to see who and why; details are never sent by email or chat.",
    ]
    return Message(
        subject=subject,
        text="\n".join(lines),
        link=cfg.link(f"/alerts/{alert['id']}"),
        school=str(alert["school"]),
        event=event,
        severity=sev,
        category=str(alert["category"]),
    )


def queue(
    store: CaseStore,
    *,
    ref: str,
    event: str,
    school: str,
    recipients: Iterable[Recipient],
    message: Message,
    now: datetime,
    alert_id: str | None = None,
) -> list[int]:
    """Record pending notifications, once per (ref, event, recipient); returns the ids newly queued."""
    n = notifications.c
    wanted = {r.key: r for r in recipients}
    if not wanted:
        return []
    with store.engine.connect() as conn:
        seen = set(conn.execute(sa.select(n.recipient).where(n.ref == ref, n.event == event)).scalars())
    ids: list[int] = []
    for key, rcpt in wanted.items():
        if key in seen:
            continue
        row = {
            "ref": ref,
            "event": event,
            "recipient": key,
            "school": school,
            "alert_id": alert_id,
            "channel": rcpt.channel,
            "role": rcpt.role,
            "severity": message.severity,
            "message": message.to_json(),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        try:
            with store.engine.begin() as conn:
                pk = conn.execute(sa.insert(notifications).values(**row)).inserted_primary_key
        except sa.exc.IntegrityError:
            continue  # another process queued the same notification first: one is enough
        if pk is not None:
            ids.append(int(pk[0]))
    return ids


def _recipient(cfg: NotifyConfig, row: Mapping[str, Any]) -> Recipient | None:
    """Resolve a stored recipient key against the current configuration (a removed webhook is not sent)."""
    school = cfg.school(row["school"])
    channel, _, ident = str(row["recipient"]).partition(":")
    if channel == "email":
        return Recipient("email", ident, row["role"], address=ident)
    for w in school.webhooks:
        if w.name == ident:
            return _hook(w)
    return None


Sender = Callable[[NotifyConfig, Recipient, Message], None]


def send(cfg: NotifyConfig, rcpt: Recipient, msg: Message) -> None:
    """Deliver one message over the recipient's channel."""
    if rcpt.channel == "email":
        send_email(cfg.smtp, msg, rcpt.address)
        return
    hook = next((w for s in cfg.schools.values() for w in s.webhooks if w.name == rcpt.name), None)
    if hook is None:
        raise DeliveryError(f"webhook {rcpt.name} is no longer configured")
    send_webhook(hook.url, msg, rcpt.fmt, timeout=cfg.smtp.timeout_seconds)


def _claim(store: CaseStore, row: Mapping[str, Any], now: datetime) -> bool:
    n = notifications.c
    stmt = sa.update(notifications).where(n.id == row["id"], n.status == row["status"])
    if row["claimed_at"] is not None:
        stmt = stmt.where(n.claimed_at == row["claimed_at"])
    else:
        stmt = stmt.where(n.claimed_at.is_(None))
    with store.engine.begin() as conn:
        return bool(conn.execute(stmt.values(status="sending", claimed_at=now)).rowcount == 1)


def deliver_due(
    store: CaseStore,
    cfg: NotifyConfig,
    now: datetime,
    *,
    ids: Sequence[int] | None = None,
    sender: Sender = send,
) -> DeliveryStats:
    """Send every due notification (or just `ids`), each claimed first so two workers never both send it."""
    n = notifications.c
    due = sa.or_(
        sa.and_(n.status == "pending", n.next_attempt_at <= now),
        sa.and_(n.status == "sending", n.claimed_at < now - STALE_CLAIM),
    )
    q = sa.select(notifications).where(due).order_by(n.severity.desc(), n.id)
    if ids is not None:
        if not ids:
            return DeliveryStats()
        q = q.where(n.id.in_(list(ids)))
    with store.engine.connect() as conn:
        rows = [t.row_dict(r) for r in conn.execute(q.limit(500))]
    stats = DeliveryStats()
    for row in rows:
        if not _claim(store, row, now):
            continue
        attempts = int(row["attempts"]) + 1
        rcpt = _recipient(cfg, row)
        try:
            if rcpt is None:
                raise DeliveryError(f"recipient {row['recipient']} is no longer configured")
            sender(cfg, rcpt, Message.from_json(row["message"]))
        except DeliveryError as exc:
            gave_up = attempts >= cfg.retry.max_attempts
            values: dict[str, Any] = {
                "status": "failed" if gave_up else "pending",
                "attempts": attempts,
                "last_error": str(exc)[:1000],
                "claimed_at": None,
                "next_attempt_at": now + timedelta(seconds=cfg.retry.delay(attempts)),
            }
            stats.failed += gave_up
            stats.retrying += not gave_up
            stats.errors.append(str(exc))
            level = logging.ERROR if gave_up else logging.WARNING
            log.log(level, "notification not delivered", extra={"notification": row["id"], "attempts": attempts})
        else:
            values = {"status": "sent", "attempts": attempts, "sent_at": now, "last_error": None}
            stats.sent += 1
            log.info("notification sent", extra={"notification": row["id"], "event": row["event"]})
        with store.engine.begin() as conn:
            conn.execute(sa.update(notifications).where(n.id == row["id"]).values(**values))
    return stats


def notify_alert(
    store: CaseStore, settings: Settings, cfg: NotifyConfig, alert: Mapping[str, Any], event: str, now: datetime
) -> list[int]:
    """Queue `event` on one alert for everyone routing says should hear of it; returns new notification ids."""
    recipients = recipients_for(cfg, alert, event, now, settings.school_tz(alert["school"]))
    if not recipients:
        return []
    return queue(
        store,
        ref=str(alert["id"]),
        event=event,
        school=str(alert["school"]),
        recipients=recipients,
        message=alert_message(cfg, settings, alert, event),
        now=now,
        alert_id=str(alert["id"]),
    )


def lowest_threshold(cfg: NotifyConfig) -> int:
    """The smallest severity that notifies anyone (skip everything below it cheaply)."""
    values = [cfg.thresholds.dsl, cfg.thresholds.deputy_dsl, cfg.thresholds.head_teacher]
    for school in cfg.schools.values():
        if school.thresholds:
            values += [school.thresholds.dsl, school.thresholds.deputy_dsl, school.thresholds.head_teacher]
        values += [c.min_severity for c in (*school.contacts, *school.out_of_hours) if c.min_severity]
        values += [w.min_severity for w in school.webhooks if w.min_severity]
    return min(values)


def notify_raised(
    store: CaseStore, settings: Settings, cfg: NotifyConfig, alert_ids: Sequence[str], now: datetime
) -> list[int]:
    """Queue `raised` for these stored alerts (open, configured school, at or above some threshold)."""
    a = t.alerts.c
    if not alert_ids or not cfg.enabled or not cfg.schools:
        return []
    rows: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for start in range(0, len(alert_ids), 500):
            q = sa.select(t.alerts).where(
                a.id.in_(list(alert_ids[start : start + 500])),
                a.severity >= lowest_threshold(cfg),
                a.status != "closed",
                a.school.in_(list(cfg.schools)),
            )
            rows += [t.row_dict(r) for r in conn.execute(q)]
    ids: list[int] = []
    for row in rows:
        ids += notify_alert(store, settings, cfg, row, "raised", now)
    return ids


def notifying_sink(store: CaseStore, settings: Settings) -> Callable[[Sequence[Alert]], int]:
    """Wrap `store.upsert_alerts`: after the alerts are durable, notify at once of those that need it."""
    cfg = notify_config(settings)  # a bad [notify] section stops ingest at start-up, not at the first alert

    def sink(alerts: Sequence[Alert]) -> int:
        changed = store.upsert_alerts(alerts)
        if cfg.enabled and cfg.schools:
            try:
                now = t.now()
                ids = notify_raised(store, settings, cfg, list(dict.fromkeys(x.id for x in alerts)), now)
                deliver_due(store, cfg, now, ids=ids)
            except Exception:  # noqa: BLE001 - ingest must go on; the minute sweep (run_due) catches up
                log.exception("notification after upsert failed; the next sweep retries")
        return changed

    return sink
