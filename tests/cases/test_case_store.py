"""Case store on SQLite and PostgreSQL: migrations, idempotent upsert, workflow, append-only audit, accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cases import audit, sessions, users, workflow
from cases import schema as t
from cases.errors import AuthFailed, InvalidInput, InvalidTransition, NotPermitted
from cases.store import AlertQuery, CaseStore
from cases.synthetic import synthetic_alert
from detectors.base import Alert

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _alert(
    keys: tuple[str, ...],
    *,
    severity: int = 3,
    ts: datetime = T0,
    last: datetime | None = None,
    subject_kind: str = "pupil",
    user: str = "pupil.a",
) -> Alert:
    return Alert(
        school="s1",
        ts=ts,
        last_ts=last or ts,
        user=user,
        client_ip="10.0.0.9",
        detector="keywords",
        rule="r1",
        category="bullying",
        severity=severity,
        title=f"sev {severity}",
        evidence={
            "events": [{"ts": ts.isoformat(), "origin": k, "url": f"https://x/{k}"} for k in keys],
            "matched": "nasty words",
            "search_terms": [f"q-{k}" for k in keys],
        },
        event_keys=keys,
        subject_kind=subject_kind,
    )  # type: ignore[arg-type]


def _row(store: CaseStore, alert_id: str) -> dict[str, object]:
    row = store.get_alert(alert_id)
    assert row is not None
    return row


def test_migrations_create_schema_and_are_idempotent(store: CaseStore) -> None:
    store.migrate()  # second run is a no-op
    assert "0002" in store.revisions()  # the core branch head; capabilities add their own
    names = set(sa.inspect(store.engine).get_table_names())
    assert {
        "schools",
        "users",
        "user_roles",
        "alerts",
        "alert_notes",
        "alert_attachments",
        "audit",
        "sessions",
    } <= names


def test_upsert_same_alerts_twice_gives_same_rows(store: CaseStore) -> None:
    alerts = [synthetic_alert("s1", f"p{i}", "drugs", T0 + timedelta(days=i), hits=3, seq=i) for i in range(20)]
    assert store.upsert_alerts(alerts) == 20
    first = {a.id: _row(store, a.id) for a in alerts}
    assert store.upsert_alerts(alerts) == 0  # nothing changed
    for a in alerts:
        row = _row(store, a.id)
        assert row["count"] == 3 == first[a.id]["count"]
        assert row["event_keys"] == first[a.id]["event_keys"]
    with store.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(t.alerts)).scalar_one() == 20


def test_upsert_unions_overlapping_event_keys_and_keeps_triage(store: CaseStore) -> None:
    a1 = _alert(("k1", "k2", "k3"), severity=3, ts=T0 + timedelta(minutes=5))
    store.upsert_alerts([a1])
    workflow.triage(store, a1.id, "dsl.one")
    a2 = _alert(("k3", "k4"), severity=4, ts=T0, last=T0 + timedelta(minutes=40))
    assert a2.id == a1.id  # same episode
    assert store.upsert_alerts([a2]) == 1
    row = _row(store, a1.id)
    assert row["event_keys"] == ["k1", "k2", "k3", "k4"]
    assert row["count"] == 4
    assert row["severity"] == 4
    assert row["ts"] == T0
    assert row["last_ts"] == T0 + timedelta(minutes=40)
    assert row["status"] == "triaged" and row["assignee"] == "dsl.one"  # never reset by ingest
    evidence = row["evidence"]
    assert isinstance(evidence, dict)
    assert [e["origin"] for e in evidence["events"]] == ["k4", "k1", "k2", "k3"]  # time order, deduplicated
    assert set(evidence["search_terms"]) == {"q-k1", "q-k2", "q-k3", "q-k4"}
    # replaying either batch again changes nothing
    assert store.upsert_alerts([a1, a2]) == 0


def test_upsert_folds_duplicates_within_one_call(store: CaseStore) -> None:
    assert store.upsert_alerts([_alert(("a",)), _alert(("b",)), _alert(("a", "c"))]) == 1
    assert _row(store, _alert(("a",)).id)["count"] == 3


def test_workflow_transitions_and_audit(store: CaseStore) -> None:
    a = _alert(("x1",))
    store.upsert_alerts([a])
    with pytest.raises(InvalidInput):
        workflow.escalate(store, a.id, "dsl.one", note="   ")
    workflow.triage(store, a.id, "dsl.one")
    with pytest.raises(InvalidTransition):
        workflow.triage(store, a.id, "dsl.one")
    workflow.escalate(store, a.id, "dsl.one", note="needs the head")
    assert _row(store, a.id)["escalated_to"] == "head_teacher"
    with pytest.raises(InvalidInput, match="outcome"):
        workflow.close(store, a.id, "head", outcome="shrug", note="x")
    with pytest.raises(InvalidInput, match="note"):
        workflow.close(store, a.id, "head", outcome="pastoral_support", note="")
    workflow.close(store, a.id, "head", outcome="pastoral_support", note="spoke to parents and pupil")
    row = _row(store, a.id)
    assert (row["status"], row["outcome"]) == ("closed", "pastoral_support")
    with pytest.raises(InvalidTransition):
        workflow.close(store, a.id, "head", outcome="police", note="again")
    entries, total = audit.entries(store, ["s1"], object_id=a.id)
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["alert.triage", "alert.note", "alert.escalate", "alert.close"]
    assert total == 4
    with pytest.raises(NotPermitted):
        workflow.triage(store, "no-such-alert", "dsl.one")


def test_staff_alerts_cannot_be_escalated_and_stay_out_of_the_dsl_queue(store: CaseStore) -> None:
    pupil = _alert(("p1",))
    staff = _alert(("s1",), user="teacher.b", subject_kind="staff")
    store.upsert_alerts([pupil, staff])
    with pytest.raises(InvalidTransition):
        workflow.escalate(store, staff.id, "dsl.one", note="x")
    dsl_rows, _ = store.list_alerts(AlertQuery(visibility={"s1": "safeguarding"}))
    head_rows, _ = store.list_alerts(AlertQuery(visibility={"s1": "head_teacher"}))
    assert [r["id"] for r in dsl_rows] == [pupil.id]
    assert [r["id"] for r in head_rows] == [staff.id]
    nobody, total = store.list_alerts(AlertQuery(visibility={"s2": "all"}))
    assert nobody == [] and total == 0


def test_queue_order_filters_and_counts(store: CaseStore) -> None:
    alerts = [
        synthetic_alert("s1", f"p{i}", "drugs", T0 + timedelta(days=i), severity=1 + i % 5, seq=i) for i in range(10)
    ]
    store.upsert_alerts(alerts)
    rows, total = store.list_alerts(AlertQuery(visibility={"s1": "all"}, limit=3))
    assert total == 10 and len(rows) == 3
    assert [r["severity"] for r in rows] == [5, 5, 4]
    assert rows[0]["ts"] < rows[1]["ts"]  # oldest first within a severity
    rows, total = store.list_alerts(AlertQuery(visibility={"s1": "all"}, min_severity=4))
    assert total == 4
    workflow.close(store, rows[0]["id"], "d", outcome="false_positive", note="n")
    counts = store.status_counts(AlertQuery(visibility={"s1": "all"}))
    assert counts == {"new": 9, "closed": 1}
    _, open_total = store.list_alerts(AlertQuery(visibility={"s1": "all"}, status="open"))
    assert open_total == 9


def test_audit_is_append_only_at_the_database(store: CaseStore) -> None:
    audit.record(store, actor="a", action="alert.view", object_type="alert", object_id="x", school="s1")
    for stmt in (sa.update(t.audit).values(actor="mallory"), sa.delete(t.audit)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(stmt)
    rows, total = audit.entries(store, ["s1"])
    assert total == 1 and rows[0]["actor"] == "a"
    assert not hasattr(audit, "delete") and not hasattr(audit, "update")


def test_accounts_lockout_and_sessions(store: CaseStore) -> None:
    users.create_user(store, "Dsl.One", "dsl", ["s1", "s2"], "long enough pw")
    with pytest.raises(InvalidInput):
        users.create_user(store, "dsl.one", "dsl", ["s1"], "long enough pw")
    with pytest.raises(InvalidInput):
        users.create_user(store, "x", "wizard", ["s1"], "long enough pw")
    account = users.authenticate(store, "dsl.one", "long enough pw")
    assert account.roles == {"s1": frozenset({"dsl"}), "s2": frozenset({"dsl"})}
    now = datetime.now(UTC)
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(AuthFailed):
            users.authenticate(store, "dsl.one", "wrong", now=now)
    with pytest.raises(AuthFailed):  # locked: even the right password fails
        users.authenticate(store, "dsl.one", "long enough pw", now=now + timedelta(minutes=1))
    assert users.authenticate(store, "dsl.one", "long enough pw", now=now + users.LOCKOUT + timedelta(seconds=1))
    with store.engine.connect() as c:
        stored = c.execute(sa.select(t.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    token, sess = sessions.create(store, account.id, "api")
    assert sessions.resolve(store, token, "api") == sess
    assert sessions.resolve(store, token, "ui") is None
    users.set_disabled(store, "dsl.one")
    assert sessions.resolve(store, token, "api") is None
    with pytest.raises(AuthFailed):
        users.authenticate(store, "dsl.one", "long enough pw", now=now + timedelta(hours=1))


def test_totp(store: CaseStore) -> None:
    import pyotp

    uid = users.create_user(store, "head", "head_teacher", ["s1"], "long enough pw")
    secret = users.enable_totp(store, "head")
    assert users.verify_totp(store, uid, pyotp.TOTP(secret).now())
    assert not users.verify_totp(store, uid, "000000") or pyotp.TOTP(secret).now() == "000000"
