"""The triage workflow: new -> triaged -> escalated -> closed, each change with an audit entry.

Authorisation (who may act on which alert) is the API's job; this module enforces the state machine,
the close outcome and note, and that every change is audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases import audit
from cases import schema as t
from cases.errors import InvalidInput, InvalidTransition, NotPermitted
from cases.store import CaseStore

STATUSES: tuple[str, ...] = ("new", "triaged", "escalated", "closed")

OUTCOMES: dict[str, str] = {
    "false_positive": "False positive: nothing of concern",
    "no_further_action": "Looked into: no further action",
    "pastoral_support": "Pastoral support arranged",
    "parents_contacted": "Parents or carers contacted",
    "prevent_referral": "Prevent referral",
    "social_care_referral": "Children's social care referral",
    "police": "Reported to the police",
    "lado": "Referred to the LADO (allegation about staff)",
}

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "triage": ("new",),
    "escalate": ("new", "triaged"),
    "close": ("new", "triaged", "escalated"),
}

MAX_NOTE = 10_000


def _note(text: str | None, what: str) -> str:
    note = (text or "").strip()
    if not note:
        raise InvalidInput(f"{what} needs a note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note longer than {MAX_NOTE} characters")
    return note


def _lock(conn: Connection, store: CaseStore, alert_id: str) -> dict[str, Any]:
    q = sa.select(t.alerts).where(t.alerts.c.id == alert_id)
    if store.dialect == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotPermitted("not permitted, or no such alert")
    return t.row_dict(row)


def _check(action: str, row: dict[str, Any]) -> None:
    if row["status"] not in TRANSITIONS[action]:
        raise InvalidTransition(f"cannot {action} an alert that is {row['status']}")


def _apply(conn: Connection, alert_id: str, values: dict[str, Any]) -> None:
    values["updated_at"] = t.now()
    conn.execute(sa.update(t.alerts).where(t.alerts.c.id == alert_id).values(**values))


def triage(
    store: CaseStore, alert_id: str, actor: str, *, assignee: str | None = None, note: str | None = None
) -> dict[str, Any]:
    """Acknowledge an alert: new -> triaged, assigned to `assignee` (default the actor)."""
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        _check("triage", row)
        values = {"status": "triaged", "assignee": assignee or actor}
        _apply(conn, alert_id, values)
        if note and note.strip():
            _add_note(conn, alert_id, actor, _note(note, "a note"), row["school"])
        audit.append(
            conn,
            actor=actor,
            action="alert.triage",
            object_type="alert",
            object_id=alert_id,
            school=row["school"],
            detail={"from": row["status"], "to": "triaged", "assignee": values["assignee"]},
        )
    return {**row, **values}


def escalate(store: CaseStore, alert_id: str, actor: str, *, note: str) -> dict[str, Any]:
    """Escalate a pupil alert to the head teacher with a note: new|triaged -> escalated."""
    text = _note(note, "escalation")
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        if row["subject_kind"] == "staff":
            raise InvalidTransition("alerts about staff already go to the head teacher")
        _check("escalate", row)
        values = {"status": "escalated", "escalated_to": "head_teacher"}
        _apply(conn, alert_id, values)
        _add_note(conn, alert_id, actor, text, row["school"])
        audit.append(
            conn,
            actor=actor,
            action="alert.escalate",
            object_type="alert",
            object_id=alert_id,
            school=row["school"],
            detail={"from": row["status"], "to": "escalated"},
            why=text,
        )
    return {**row, **values}


def close(store: CaseStore, alert_id: str, actor: str, *, outcome: str, note: str) -> dict[str, Any]:
    """Close an alert with an outcome from DESIGN.md and a note."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    text = _note(note, "closing an alert")
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        _check("close", row)
        values = {"status": "closed", "outcome": outcome, "close_note": text}
        _apply(conn, alert_id, values)
        audit.append(
            conn,
            actor=actor,
            action="alert.close",
            object_type="alert",
            object_id=alert_id,
            school=row["school"],
            detail={"from": row["status"], "to": "closed", "outcome": outcome},
            why=text,
        )
    return {**row, **values}


def _add_note(conn: Connection, alert_id: str, author: str, body: str, school: str) -> None:
    conn.execute(sa.insert(t.alert_notes).values(alert_id=alert_id, author=author, ts=t.now(), body=body))
    audit.append(
        conn,
        actor=author,
        action="alert.note",
        object_type="alert",
        object_id=alert_id,
        school=school,
        detail={"chars": len(body)},
    )


def add_note(store: CaseStore, alert_id: str, author: str, body: str) -> None:
    """Add a note to an alert (audited)."""
    text = _note(body, "a note")
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        _add_note(conn, alert_id, author, text, row["school"])


def attach(store: CaseStore, alert_id: str, author: str, kind: str, content: dict[str, Any]) -> None:
    """Attach an evidence snippet (e.g. an event excerpt) to an alert (audited)."""
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        conn.execute(
            sa.insert(t.alert_attachments).values(
                alert_id=alert_id, author=author, ts=t.now(), kind=kind, content=content
            )
        )
        audit.append(
            conn,
            actor=author,
            action="alert.attach",
            object_type="alert",
            object_id=alert_id,
            school=row["school"],
            detail={"kind": kind},
        )


def set_legal_hold(store: CaseStore, alert_id: str, actor: str, *, hold: bool, why: str) -> dict[str, Any]:
    """Put an alert (and so its evidence) under legal hold, or release it; retention must skip held alerts."""
    text = _note(why, "a legal hold change")
    with store.engine.begin() as conn:
        row = _lock(conn, store, alert_id)
        _apply(conn, alert_id, {"legal_hold": hold})
        audit.append(
            conn,
            actor=actor,
            action="alert.legal_hold" if hold else "alert.legal_hold_release",
            object_type="alert",
            object_id=alert_id,
            school=row["school"],
            detail={"hold": hold},
            why=text,
        )
    return {**row, "legal_hold": hold}
