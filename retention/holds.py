"""Legal holds: the DSL places a hold on a pupil (school + user) or on an alert; retention keeps held rows.

Functions here are what the API calls (its routes check `retention.manage` for holds and the school scope;
pass `schools` to make these functions refuse holds outside the caller's schools as well). Every change is
audited in the same transaction. An alert hold also sets the alert's `legal_hold` flag (and release clears
it when no other hold covers the alert); an alert flagged by the cases API without a hold row gets one
from the retention job before it deletes anything, so both routes protect the alert's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from retention import evidence as ev
from retention.errors import HoldError
from retention.tables import hold_evidence, legal_holds

ALERT_CONTEXT = timedelta(hours=1)
"""An alert hold keeps the subject's events from this long before the alert's first event to this long after
its last (the context window the DSL sees on the alert page), plus the alert's own events by origin."""

MAX_REASON = 5_000


@dataclass(frozen=True)
class ActiveHold:
    """What the job needs to select held rows: a user, optionally a time window and event origins."""

    id: int
    school: str
    kind: str
    user: str | None
    since: datetime | None = None
    until: datetime | None = None
    origins: tuple[str, ...] = ()


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise HoldError(f"{what} is required")
    if len(text) > MAX_REASON:
        raise HoldError(f"{what} longer than {MAX_REASON} characters")
    return text


def _load(conn: Connection, hold_id: int, schools: Sequence[str] | None) -> dict[str, Any]:
    row = conn.execute(sa.select(legal_holds).where(legal_holds.c.id == hold_id)).first()
    if row is None or (schools is not None and row.school not in schools):
        raise HoldError("not permitted, or no such hold")
    return t.row_dict(row)


def place_hold(
    store: CaseStore,
    *,
    school: str,
    actor: str,
    reason: str,
    user: str | None = None,
    alert_id: str | None = None,
    case_ref: str | None = None,
    review_at: datetime | None = None,
    schools: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Place a hold on a pupil (`user`) or an alert (`alert_id`) in one school; returns the hold row."""
    why = _text(reason, "a reason for the hold")
    if (user is None) == (alert_id is None):
        raise HoldError("a hold is on a pupil (user) or on an alert, exactly one of them")
    if schools is not None and school not in schools:
        raise HoldError("not permitted in this school")
    with store.engine.begin() as conn:
        store.ensure_school(school, conn=conn)
        kind = "pupil"
        if alert_id is not None:
            kind = "alert"
            alert = conn.execute(sa.select(t.alerts.c.school).where(t.alerts.c.id == alert_id)).first()
            if alert is None or alert.school != school:
                raise HoldError("not permitted, or no such alert")
            conn.execute(sa.update(t.alerts).where(t.alerts.c.id == alert_id).values(legal_hold=True))
        norm_user = _text(user, "the pupil's user name").lower() if user is not None else None
        values = {
            "school": school,
            "kind": kind,
            "user": norm_user,
            "alert_id": alert_id,
            "case_ref": case_ref,
            "reason": why,
            "placed_by": actor,
            "placed_at": t.now(),
            "review_at": review_at,
        }
        hold_id = conn.execute(sa.insert(legal_holds).values(**values).returning(legal_holds.c.id)).scalar_one()
        audit.append(
            conn,
            actor=actor,
            action="retention.hold_place",
            object_type="legal_hold",
            object_id=str(hold_id),
            school=school,
            detail={"kind": kind, "alert_id": alert_id, "case_ref": case_ref, "review_at": review_at},
            why=why,
        )
    return {"id": hold_id, **values}


def list_holds(
    store: CaseStore, schools: Sequence[str] | None = None, *, active_only: bool = True, user: str | None = None
) -> list[dict[str, Any]]:
    """Holds in these schools (all when None), newest first; released ones too unless `active_only`."""
    h = legal_holds.c
    q = sa.select(legal_holds).order_by(h.placed_at.desc(), h.id.desc())
    if schools is not None:
        q = q.where(h.school.in_(list(schools)))
    if active_only:
        q = q.where(h.released_at.is_(None))
    if user is not None:
        q = q.where(h.user == user.strip().lower())
    with store.engine.connect() as conn:
        return [t.row_dict(r) for r in conn.execute(q)]


def due_for_review(store: CaseStore, now: datetime, schools: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Active holds whose review date has passed."""
    return [h for h in list_holds(store, schools) if h["review_at"] is not None and h["review_at"] <= now]


def review_hold(
    store: CaseStore,
    hold_id: int,
    *,
    actor: str,
    note: str,
    next_review_at: datetime | None = None,
    schools: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Record that a hold was reviewed and is still needed, with the next review date."""
    why = _text(note, "a review note")
    with store.engine.begin() as conn:
        row = _load(conn, hold_id, schools)
        if row["released_at"] is not None:
            raise HoldError(f"hold {hold_id} was already released")
        values = {"reviewed_by": actor, "reviewed_at": t.now(), "review_at": next_review_at}
        conn.execute(sa.update(legal_holds).where(legal_holds.c.id == hold_id).values(**values))
        audit.append(
            conn,
            actor=actor,
            action="retention.hold_review",
            object_type="legal_hold",
            object_id=str(hold_id),
            school=row["school"],
            detail={"next_review_at": next_review_at},
            why=why,
        )
    return {**row, **values}


def release_hold(
    store: CaseStore, hold_id: int, *, actor: str, reason: str, schools: Sequence[str] | None = None
) -> dict[str, Any]:
    """Release a hold; its evidence is deleted by the next retention run (audited)."""
    why = _text(reason, "a reason for the release")
    with store.engine.begin() as conn:
        row = _load(conn, hold_id, schools)
        if row["released_at"] is not None:
            raise HoldError(f"hold {hold_id} was already released")
        values = {"released_by": actor, "released_at": t.now(), "release_reason": why}
        conn.execute(sa.update(legal_holds).where(legal_holds.c.id == hold_id).values(**values))
        if row["alert_id"]:
            h = legal_holds.c
            others = conn.execute(
                sa.select(sa.func.count())
                .select_from(legal_holds)
                .where(h.alert_id == row["alert_id"], h.released_at.is_(None), h.id != hold_id)
            ).scalar_one()
            if not others:
                conn.execute(sa.update(t.alerts).where(t.alerts.c.id == row["alert_id"]).values(legal_hold=False))
        audit.append(
            conn,
            actor=actor,
            action="retention.hold_release",
            object_type="legal_hold",
            object_id=str(hold_id),
            school=row["school"],
            detail={"kind": row["kind"], "alert_id": row["alert_id"]},
            why=why,
        )
    return {**row, **values}


def adopt_flagged_alerts(store: CaseStore, actor: str, school: str | None = None) -> list[int]:
    """Give every alert with `legal_hold` set but no active hold row a hold row (the job calls this first)."""
    a, h = t.alerts.c, legal_holds.c
    covered = sa.select(h.alert_id).where(h.alert_id.is_not(None), h.released_at.is_(None))
    q = sa.select(a.id, a.school).where(a.legal_hold.is_(sa.true()), a.id.not_in(covered))
    if school:
        q = q.where(a.school == school)
    with store.engine.connect() as conn:
        flagged = conn.execute(q).all()
    return [
        int(
            place_hold(
                store,
                school=row.school,
                actor=actor,
                reason="alert marked legal_hold in the case store",
                alert_id=row.id,
            )["id"]
        )
        for row in flagged
    ]


def _alert_hold(hold_id: int, school: str, r: Any) -> ActiveHold:
    keys = tuple(str(k) for k in (r.event_keys or []))
    return ActiveHold(hold_id, school, "alert", r.alert_user, r.ts - ALERT_CONTEXT, r.last_ts + ALERT_CONTEXT, keys)


def active_holds(store: CaseStore, school: str, *, include_flagged: bool = False) -> list[ActiveHold]:
    """Active holds of one school with what selects their rows (alert holds resolved to user and window).

    With `include_flagged`, alerts flagged `legal_hold` without a hold row appear with id 0 (a dry run
    counts what they keep; a real run adopts them first with `adopt_flagged_alerts`).
    """
    h, a = legal_holds.c, t.alerts.c
    q = (
        sa.select(h.id, h.kind, h.user, a.user.label("alert_user"), a.ts, a.last_ts, a.event_keys)
        .select_from(legal_holds.outerjoin(t.alerts, a.id == h.alert_id))
        .where(h.school == school, h.released_at.is_(None))
        .order_by(h.id)
    )
    out: list[ActiveHold] = []
    with store.engine.connect() as conn:
        for r in conn.execute(q):
            if r.kind == "pupil":
                out.append(ActiveHold(r.id, school, "pupil", r.user))
            elif r.ts is not None:
                out.append(_alert_hold(r.id, school, r))
        if include_flagged:
            covered = sa.select(h.alert_id).where(h.alert_id.is_not(None), h.released_at.is_(None))
            flagged = sa.select(a.user.label("alert_user"), a.ts, a.last_ts, a.event_keys).where(
                a.school == school, a.legal_hold.is_(sa.true()), a.id.not_in(covered)
            )
            out.extend(_alert_hold(0, school, r) for r in conn.execute(flagged))
    return out


def held_users(store: CaseStore, school: str) -> set[str]:
    """Users of one school under an active pupil hold (their alerts are never deleted either)."""
    h = legal_holds.c
    q = sa.select(h.user).where(h.school == school, h.kind == "pupil", h.released_at.is_(None))
    with store.engine.connect() as conn:
        return {str(u) for (u,) in conn.execute(q) if u}


def evidence_for_hold(store: CaseStore, hold_id: int, schools: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The evidence files copied for a hold (path relative to the data directory, SHA-256, rows)."""
    with store.engine.connect() as conn:
        _load(conn, hold_id, schools)
        e = hold_evidence.c
        q = sa.select(hold_evidence).where(e.hold_id == hold_id).order_by(e.partition_date)
        return [t.row_dict(r) for r in conn.execute(q)]


def verify_evidence(
    store: CaseStore, data_dir: Path, hold_id: int, schools: Sequence[str] | None = None
) -> ev.Verification:
    """Check every live evidence file of a hold against the database checksums and the on-disk SHA256SUMS."""
    rows = [r for r in evidence_for_hold(store, hold_id, schools) if r["deleted_at"] is None]
    return ev.verify(data_dir, rows)


def read_evidence(
    store: CaseStore,
    data_dir: Path,
    hold_id: int,
    *,
    actor: str,
    why: str | None = None,
    schools: Sequence[str] | None = None,
) -> pa.Table:
    """The held rows of a hold (verified first; an audited read of personal data)."""
    rows = [r for r in evidence_for_hold(store, hold_id, schools) if r["deleted_at"] is None]
    ev.verify(data_dir, rows).raise_for_failure()
    tables = [pq.read_table(data_dir / r["path"]) for r in rows]
    with store.engine.begin() as conn:
        hold = _load(conn, hold_id, schools)
        audit.append(
            conn,
            actor=actor,
            action="retention.evidence_read",
            object_type="legal_hold",
            object_id=str(hold_id),
            school=hold["school"],
            detail={"files": len(rows), "rows": sum(int(r["rows"]) for r in rows)},
            why=why,
        )
    if not tables:
        from parsers.schema import EVENT_SCHEMA

        return EVENT_SCHEMA.empty_table()
    return pa.concat_tables(tables)
