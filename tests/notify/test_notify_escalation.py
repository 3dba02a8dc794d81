"""Escalation timing with an injected clock: 15 minutes -> deputy DSL, 30 -> head teacher; DSL escalations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from notify_testkit import Hooks, Smtp, notify_section

from cases import audit, workflow
from cases.channels.records import escalations, notifications
from cases.escalation import on_escalated, run_due
from cases.notify import notifying_sink
from cases.store import CaseStore
from cases.synthetic import synthetic_alert
from vigil.settings import Settings


def _world(tmp_path: Path, smtp: Smtp, hooks: Hooks) -> tuple[CaseStore, Settings]:
    smtp.box.clear()
    hooks.bodies.clear()
    store = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    store.migrate()
    return store, Settings(data_dir=tmp_path, notify=notify_section(smtp, hooks))


def _sent_to(smtp: Smtp) -> list[str]:
    return [r for batch in smtp.box.rcpts for r in batch]


def test_unacknowledged_severity_5_goes_to_deputy_then_head(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks
) -> None:
    store, settings = _world(tmp_path, smtp_server, webhook_server)
    alert = synthetic_alert("north", "pupil.q", "suicide_self_harm", datetime.now(UTC), severity=5)
    notifying_sink(store, settings)([alert])
    stored = store.get_alert(alert.id)
    assert stored is not None
    t0 = stored["created_at"]
    smtp_server.box.clear()

    report = run_due(store, settings, t0 + timedelta(minutes=14, seconds=59))
    assert report.to_deputy == [] and _sent_to(smtp_server) == []

    report = run_due(store, settings, t0 + timedelta(minutes=15))
    assert report.to_deputy == [alert.id] and report.to_head == []
    assert _sent_to(smtp_server) == ["deputy@north.example"]
    assert b"escalated to you (deputy DSL)" in smtp_server.box.messages[0].replace(b"=\r\n", b"")
    # Running again in the same minute changes nothing (idempotent sweep).
    assert run_due(store, settings, t0 + timedelta(minutes=16)).summary()["queued"] == 0

    smtp_server.box.clear()
    report = run_due(store, settings, t0 + timedelta(minutes=30))
    assert report.to_head == [alert.id]
    assert _sent_to(smtp_server) == ["head@north.example"]
    row = store.get_alert(alert.id)
    assert row is not None and row["escalated_to"] == "head_teacher" and row["status"] == "new"
    entries, _ = audit.entries(store, ["north"], object_id=alert.id)
    stages = [e["detail"]["stage"] for e in entries if e["action"] == "alert.auto_escalate"]
    assert sorted(stages) == ["deputy_dsl", "head_teacher"]
    assert run_due(store, settings, t0 + timedelta(hours=2)).to_head == []
    for raw in smtp_server.box.messages:
        assert b"pupil.q" not in raw


def test_acknowledged_alert_is_not_escalated(tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks) -> None:
    store, settings = _world(tmp_path, smtp_server, webhook_server)

    alert = synthetic_alert("north", "pupil.r", "abuse", datetime.now(UTC), severity=5, seq=2)
    store.upsert_alerts([alert])
    t0 = store.get_alert(alert.id)["created_at"]  # type: ignore[index]
    workflow.triage(store, alert.id, "dsl-north")
    report = run_due(store, settings, t0 + timedelta(minutes=45))
    assert report.to_deputy == [] and report.to_head == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(escalations)).scalar_one() == 0


def test_severity_4_is_not_chained(tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks) -> None:
    store, settings = _world(tmp_path, smtp_server, webhook_server)

    alert = synthetic_alert("north", "pupil.s", "drugs", datetime.now(UTC), severity=4, seq=3)
    store.upsert_alerts([alert])
    t0 = store.get_alert(alert.id)["created_at"]  # type: ignore[index]
    report = run_due(store, settings, t0 + timedelta(hours=1))
    assert report.to_deputy == [] and report.to_head == []
    # ...but the sweep did send the `raised` notification the ingest hook would have sent.
    assert sorted(_sent_to(smtp_server)) == ["deputy@north.example", "dsl@north.example"]


def test_dsl_escalation_notifies_the_head_teacher_once(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks
) -> None:
    store, settings = _world(tmp_path, smtp_server, webhook_server)

    alert = synthetic_alert("north", "pupil.t", "bullying", datetime.now(UTC), severity=3, seq=4)
    store.upsert_alerts([alert])
    workflow.escalate(store, alert.id, "dsl-north", note="Third time this week; please call the parents.")
    assert on_escalated(store, settings, alert.id) == 1
    assert _sent_to(smtp_server) == ["head@north.example"]
    text = smtp_server.box.messages[0]
    assert b"DSL has escalated" in text.replace(b"=\r\n", b"") and b"call the parents" not in text
    assert on_escalated(store, settings, alert.id) == 0
    report = run_due(store, settings, datetime.now(UTC) + timedelta(minutes=1))
    assert report.manual == [] and _sent_to(smtp_server) == ["head@north.example"]
    with store.engine.connect() as conn:
        events = conn.execute(sa.select(notifications.c.event, notifications.c.role)).all()
    assert [tuple(e) for e in events] == [("escalated", "head_teacher")]


def test_sweep_catches_an_escalation_made_without_the_hook(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks
) -> None:
    store, settings = _world(tmp_path, smtp_server, webhook_server)

    alert = synthetic_alert("north", "pupil.u", "discrimination", datetime.now(UTC), severity=2, seq=5)
    store.upsert_alerts([alert])
    workflow.escalate(store, alert.id, "dsl-north", note="Head teacher to decide.")
    report = run_due(store, settings, datetime.now(UTC))
    assert report.manual == [alert.id] and _sent_to(smtp_server) == ["head@north.example"]
