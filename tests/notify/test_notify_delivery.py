"""Email over real STARTTLS SMTP and webhooks on loopback: routing, idempotency, retries, and no identities."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from notify_testkit import Hooks, Smtp, notify_section

from cases.channels.config import notify_config
from cases.channels.records import notifications
from cases.notify import deliver_due, notify_raised, notifying_sink, recipients_for
from cases.store import CaseStore
from cases.synthetic import synthetic_alert
from vigil.settings import Settings

PUPIL = "pupil.zebedee"
SEARCH = "how many pills is too many"


def _store(tmp_path: Path) -> CaseStore:
    store = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    store.migrate()
    return store


def _settings(tmp_path: Path, smtp: Smtp, hooks: Hooks, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, notify=notify_section(smtp, hooks, **extra))


def _forbidden(alert: Any) -> list[bytes]:
    """Strings that must never leave Vigil in a notification."""
    ev = alert.evidence
    return [s.encode() for s in (alert.user, alert.client_ip, ev["matched"], *ev["search_terms"], alert.title)]


def _decoded(raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, policy=policy.default)
    parts = [str(msg["Subject"])] + [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts).encode()


@pytest.fixture
def clean(smtp_server: Smtp, webhook_server: Hooks) -> None:
    smtp_server.box.clear()
    webhook_server.bodies.clear()
    webhook_server.fail = 0


def test_severity_5_pupil_alert_reaches_dsl_deputy_and_channel_over_starttls(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks, clean: None
) -> None:
    settings = _settings(tmp_path, smtp_server, webhook_server)
    store = _store(tmp_path)
    alert = synthetic_alert("north", PUPIL, "suicide_self_harm", datetime.now(UTC), severity=5, seq=1)
    sink = notifying_sink(store, settings)
    assert sink([alert]) == 1
    rcpts = sorted(r for batch in smtp_server.box.rcpts for r in batch)
    assert rcpts == ["deputy@north.example", "dsl@north.example"]  # not the head (pupil, not escalated)
    assert all(smtp_server.box.tls), "every message went over STARTTLS"
    assert len(webhook_server.bodies) == 1
    card = webhook_server.bodies[0]
    assert b"MessageCard" in card and b"https://vigil.north.example/alerts/" + alert.id.encode() in card
    for raw in [*smtp_server.box.messages, *webhook_server.bodies]:
        for text in (raw, _decoded(raw) if raw in smtp_server.box.messages else raw):
            for bad in _forbidden(alert):
                assert bad not in text, f"{bad!r} leaked into a notification"
    first = _decoded(smtp_server.box.messages[0])
    assert b"severity 5" in first and b"suicide or self-harm" in first and b"north" in first
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(notifications)).mappings().all()
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 3
    assert all(r["attempts"] == 1 and r["sent_at"] is not None for r in rows)


def test_idempotent_one_notification_per_alert_recipient_event(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks, clean: None
) -> None:
    settings = _settings(tmp_path, smtp_server, webhook_server)
    store = _store(tmp_path)
    alert = synthetic_alert("north", PUPIL, "extremism", datetime.now(UTC), severity=4, seq=2)
    sink = notifying_sink(store, settings)
    sink([alert])
    sink([alert])  # a replayed batch
    cfg = notify_config(settings)
    assert notify_raised(store, settings, cfg, [alert.id], datetime.now(UTC)) == []
    assert len(smtp_server.box.messages) == 2 and len(webhook_server.bodies) == 1


def test_thresholds_staff_alerts_and_low_severity(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks, clean: None
) -> None:
    settings = _settings(tmp_path, smtp_server, webhook_server)
    store = _store(tmp_path)
    now = datetime.now(UTC)
    low = synthetic_alert("north", PUPIL, "bullying", now, severity=3, seq=3)
    staff = synthetic_alert("north", "teacher.q", "pornography", now, severity=4, subject_kind="staff", seq=4)
    other = synthetic_alert("south", PUPIL, "suicide_self_harm", now, severity=5, seq=5)  # south not configured
    notifying_sink(store, settings)([low, staff, other])
    assert [r for batch in smtp_server.box.rcpts for r in batch] == ["head@north.example"]
    assert webhook_server.bodies == []  # the DSL channel never hears of staff alerts
    assert b"teacher.q" not in smtp_server.box.messages[0]


def test_out_of_hours_list_only_outside_the_school_day(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks
) -> None:
    day = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:30"}
    settings = _settings(tmp_path, smtp_server, webhook_server, hours=day)
    cfg = notify_config(settings)
    row = {"id": "x", "school": "north", "severity": 5, "subject_kind": "pupil", "escalated_to": None}
    tuesday_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    tuesday_22 = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    saturday_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    inside = {r.key for r in recipients_for(cfg, row, "raised", tuesday_10, "Europe/London")}
    assert "email:oncall@north.example" not in inside
    for moment in (tuesday_22, saturday_10):
        assert "email:oncall@north.example" in {
            r.key for r in recipients_for(cfg, row, "raised", moment, "Europe/London")
        }


def test_failed_delivery_retries_with_backoff_then_gives_up(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks, clean: None
) -> None:
    section = notify_section(smtp_server, webhook_server)
    section["smtp"]["port"] = 1  # nothing listens: connection refused
    settings = Settings(data_dir=tmp_path, notify=section)
    store = _store(tmp_path)
    alert = synthetic_alert("north", PUPIL, "weapons_violence", datetime.now(UTC), severity=4, seq=6)
    webhook_server.fail = 1
    notifying_sink(store, settings)([alert])
    cfg = notify_config(settings)

    def state() -> dict[str, dict[str, Any]]:
        with store.engine.connect() as conn:
            return {r["recipient"]: dict(r) for r in conn.execute(sa.select(notifications)).mappings()}

    first = state()
    assert {r["status"] for r in first.values()} == {"pending"} and all(r["attempts"] == 1 for r in first.values())
    t1 = first["email:dsl@north.example"]["next_attempt_at"]
    # Not due yet: nothing is attempted.
    assert deliver_due(store, cfg, t1 - timedelta(seconds=1)).sent == 0
    stats = deliver_due(store, cfg, t1)
    assert stats.sent == 1 and len(webhook_server.bodies) == 1  # the webhook recovered
    second = state()
    t2 = second["email:dsl@north.example"]["next_attempt_at"]
    assert (t2 - t1) == timedelta(seconds=60), "backoff doubles: 30 s, then 60 s"
    deliver_due(store, cfg, t2)
    final = state()
    assert final["email:dsl@north.example"]["status"] == "failed" and final["email:dsl@north.example"]["attempts"] == 3
    assert "smtp" in final["email:dsl@north.example"]["last_error"]
    assert deliver_due(store, cfg, t2 + timedelta(days=1)).sent == 0


def test_plain_smtp_without_starttls_is_refused(tmp_path: Path) -> None:
    aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
    from notify_testkit import Mailbox, free_port

    from cases.channels import DeliveryError, Message
    from cases.channels.config import SmtpConfig
    from cases.channels.email import send_email

    box = Mailbox()
    port = free_port()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        msg = Message(subject="s", text="t", link="https://x/", school="north", event="raised")
        with pytest.raises(DeliveryError, match="STARTTLS"):
            send_email(SmtpConfig(host="127.0.0.1", port=port, starttls=True), msg, "dsl@north.example")
        assert box.messages == []
    finally:
        controller.stop()
