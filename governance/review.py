"""The annual review of filtering and monitoring (DfE standard 2), per school and academic year.

A guided record: one answer per section of the standard, pre-filled figures from live data (`prefill`),
actions with owners and due dates, and sign-off by the four people the standard names (a member of SLT,
the DSL, the IT lead and the responsible governor). Each signatory is a named account holding the matching
role; only that person can sign their slot, and each sign-off records who and when. Once anyone has signed,
the answers and figures are frozen (actions can still be marked done). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from governance import prefill
from governance.config import GovernanceConfig
from governance.errors import GovernanceForbidden, GovernanceInvalid, GovernanceState
from governance.tables import review_actions as A
from governance.tables import reviews as RV
from governance.tables import signoffs as S

SECTIONS: dict[str, tuple[str, str]] = {
    "risk_profile": ("Risk profile", "Ages, SEND, EAL and other vulnerable groups; how they shape provision"),
    "blocked_allowed": ("What is blocked or allowed, and why", "Categories, exceptions, decisions this year"),
    "roles_training": ("Roles, responsibilities and training", "Who does what (SLT, DSL, IT, governor); training"),
    "checks": ("Checks carried out", "How often, what was checked (sites, devices, groups), results, actions"),
    "monitoring_strategy": ("Monitoring strategy", "What is monitored, how alerts reach the DSL, response times"),
    "byod": ("Bring your own device and guests", "Separate network, filtering and monitoring of personal devices"),
    "generative_ai": ("Generative AI", "Approved tools, filtering of AI output, pupil and staff use"),
    "technical_limits": ("Technical limitations", "Encrypted traffic, apps, gaps in logs, what cannot be seen"),
    "incidents": ("Safeguarding incidents", "Incidents this year and what they teach about provision"),
    "policies_curriculum": ("Related policies and curriculum", "Acceptable use, online safety teaching, procurement"),
}
"""Section key -> (title, prompt), following the review list of the DfE filtering and monitoring standards."""

SLOTS: dict[str, tuple[str, str]] = {
    "slt": ("Member of the senior leadership team", "head_teacher"),
    "dsl": ("Designated safeguarding lead", "dsl"),
    "it_lead": ("IT lead / service provider", "network_manager"),
    "governor": ("Responsible governor", "governor"),
}
"""Sign-off slot -> (title, the role its signatory must hold in the school)."""

MAX_ANSWER = 20_000


def _load(conn: Any, school: str, year: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(RV).where(RV.c.school == school, RV.c.academic_year == year)).first()
    return t.row_dict(row) if row else None


def get(store: CaseStore, school: str, academic_year: str) -> dict[str, Any] | None:
    """The review with its actions and sign-offs, or None."""
    prefill.period(academic_year)
    with store.engine.connect() as c:
        review = _load(c, school, academic_year)
        if review is None:
            return None
        review["actions"] = [
            t.row_dict(r) for r in c.execute(sa.select(A).where(A.c.review_id == review["id"]).order_by(A.c.id))
        ]
        review["signoffs"] = {
            r.slot: t.row_dict(r) for r in c.execute(sa.select(S).where(S.c.review_id == review["id"]))
        }
    return review


def list_reviews(store: CaseStore, schools: Collection[str]) -> list[dict[str, Any]]:
    """Reviews of these schools (newest year first) without their answers."""
    cols = [RV.c.id, RV.c.school, RV.c.academic_year, RV.c.status, RV.c.updated_at, RV.c.prefill_at]
    with store.engine.connect() as c:
        rows = c.execute(
            sa.select(*cols).where(RV.c.school.in_(sorted(schools))).order_by(RV.c.academic_year.desc(), RV.c.school)
        )
        return [t.row_dict(r) for r in rows]


def open_review(
    store: CaseStore, warehouse: Any, school: str, academic_year: str, *, actor: str, config: GovernanceConfig
) -> dict[str, Any]:
    """The review for a school and year, created (and pre-filled) on first use."""
    existing = get(store, school, academic_year)
    if existing is not None:
        return existing
    figures = prefill.build(store, warehouse, school, academic_year, config)
    now = t.now()
    with store.engine.begin() as conn:
        store.ensure_school(school, conn=conn)
        if _load(conn, school, academic_year) is None:
            conn.execute(
                sa.insert(RV).values(
                    school=school,
                    academic_year=academic_year,
                    answers={},
                    signatories={},
                    prefill=figures,
                    prefill_at=now,
                    status="draft",
                    created_by=actor,
                    created_at=now,
                    updated_by=actor,
                    updated_at=now,
                )
            )
            audit.append(
                conn,
                actor=actor,
                action="governance.review_open",
                object_type="gov_review",
                object_id=f"{school}/{academic_year}",
                school=school,
            )
    review = get(store, school, academic_year)
    assert review is not None
    return review


def _editable(conn: Any, school: str, year: str) -> dict[str, Any]:
    review = _load(conn, school, year)
    if review is None:
        raise GovernanceForbidden("not permitted, or no such review")
    if conn.execute(sa.select(sa.func.count()).where(S.c.review_id == review["id"])).scalar_one():
        raise GovernanceState("the review has been signed: its answers and figures are frozen")
    return review


def _holders(conn: Any, school: str, role: str) -> set[str]:
    stmt = (
        sa.select(t.users.c.name)
        .join(t.user_roles, t.user_roles.c.user_id == t.users.c.id)
        .where(t.user_roles.c.school == school, t.user_roles.c.role == role, t.users.c.disabled.is_(sa.false()))
    )
    return {str(n) for n in conn.execute(stmt).scalars()}


def update(
    store: CaseStore,
    school: str,
    academic_year: str,
    *,
    actor: str,
    answers: Mapping[str, str] | None = None,
    signatories: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Save answers (merged per section) and named signatories (each must hold the slot's role)."""
    unknown = sorted(set(answers or {}) - set(SECTIONS)) + sorted(set(signatories or {}) - set(SLOTS))
    if unknown:
        raise GovernanceInvalid(f"unknown review fields: {', '.join(unknown)}")
    with store.engine.begin() as conn:
        review = _editable(conn, school, academic_year)
        merged = dict(review["answers"] or {})
        for key, text in (answers or {}).items():
            if len(text) > MAX_ANSWER:
                raise GovernanceInvalid(f"{key}: at most {MAX_ANSWER} characters")
            merged[key] = text.strip()
        named = dict(review["signatories"] or {})
        for slot, name in (signatories or {}).items():
            clean = name.strip().lower()
            if clean and clean not in _holders(conn, school, SLOTS[slot][1]):
                raise GovernanceInvalid(f"{slot}: {clean} does not hold the {SLOTS[slot][1]} role in {school}")
            named[slot] = clean
        conn.execute(
            sa.update(RV)
            .where(RV.c.id == review["id"])
            .values(answers=merged, signatories=named, updated_by=actor, updated_at=t.now())
        )
        audit.append(
            conn,
            actor=actor,
            action="governance.review_update",
            object_type="gov_review",
            object_id=f"{school}/{academic_year}",
            school=school,
            detail={"sections": sorted(answers or {}), "signatories": named},
        )
    result = get(store, school, academic_year)
    assert result is not None
    return result


def refresh(
    store: CaseStore, warehouse: Any, school: str, academic_year: str, *, actor: str, config: GovernanceConfig
) -> dict[str, Any]:
    """Recompute the pre-filled figures (until the first sign-off freezes them)."""
    figures = prefill.build(store, warehouse, school, academic_year, config)
    with store.engine.begin() as conn:
        review = _editable(conn, school, academic_year)
        conn.execute(sa.update(RV).where(RV.c.id == review["id"]).values(prefill=figures, prefill_at=t.now()))
        audit.append(
            conn,
            actor=actor,
            action="governance.review_prefill",
            object_type="gov_review",
            object_id=f"{school}/{academic_year}",
            school=school,
        )
    result = get(store, school, academic_year)
    assert result is not None
    return result


def add_action(
    store: CaseStore, school: str, academic_year: str, *, actor: str, text: str, owner: str, due: date | None = None
) -> dict[str, Any]:
    """Record an action arising from the review, with its owner and due date."""
    body, who = text.strip(), owner.strip()
    if len(body) < 3 or not who:
        raise GovernanceInvalid("an action needs a description and an owner")
    with store.engine.begin() as conn:
        review = _load(conn, school, academic_year)
        if review is None:
            raise GovernanceForbidden("not permitted, or no such review")
        pk = conn.execute(
            sa.insert(A).values(
                review_id=review["id"],
                text=body[:4000],
                owner=who[:128],
                due=due.isoformat() if due else None,
                status="open",
                created_by=actor,
                created_at=t.now(),
            )
        ).inserted_primary_key
        assert pk is not None
        audit.append(
            conn,
            actor=actor,
            action="governance.review_action",
            object_type="gov_review",
            object_id=f"{school}/{academic_year}",
            school=school,
            detail={"action": int(pk[0]), "owner": who},
        )
    return {"id": int(pk[0]), "text": body, "owner": who, "status": "open"}


def complete_action(store: CaseStore, school: str, academic_year: str, action_id: int, *, actor: str) -> None:
    """Mark an action done."""
    with store.engine.begin() as conn:
        review = _load(conn, school, academic_year)
        found = conn.execute(sa.select(A).where(A.c.id == action_id)).first()
        if review is None or found is None or found.review_id != review["id"]:
            raise GovernanceForbidden("not permitted, or no such action")
        conn.execute(sa.update(A).where(A.c.id == action_id).values(status="done", done_at=t.now()))
        audit.append(
            conn,
            actor=actor,
            action="governance.review_action_done",
            object_type="gov_review",
            object_id=f"{school}/{academic_year}",
            school=school,
            detail={"action": action_id},
        )


def sign(
    store: CaseStore, school: str, academic_year: str, slot: str, *, actor: str, roles: Collection[str], note: str = ""
) -> dict[str, Any]:
    """Sign one slot: the caller must be the person named for it and hold its role in the school."""
    if slot not in SLOTS:
        raise GovernanceInvalid(f"unknown sign-off {slot!r}; one of: {', '.join(SLOTS)}")
    with store.engine.begin() as conn:
        review = _load(conn, school, academic_year)
        if review is None:
            raise GovernanceForbidden("not permitted, or no such review")
        named = review["signatories"] or {}
        missing = [s for s in SLOTS if not named.get(s)]
        if missing:
            raise GovernanceState(f"name every signatory first (missing: {', '.join(missing)})")
        if named[slot] != actor or SLOTS[slot][1] not in roles:
            raise GovernanceForbidden(f"not permitted: this sign-off is for {named[slot]} as {SLOTS[slot][0]}")
        if conn.execute(sa.select(S).where(S.c.review_id == review["id"], S.c.slot == slot)).first() is not None:
            raise GovernanceState(f"{SLOTS[slot][0]} has already signed")
        conn.execute(
            sa.insert(S).values(
                review_id=review["id"], slot=slot, name=actor, signed_at=t.now(), note=note.strip()[:2000]
            )
        )
        signed = conn.execute(sa.select(sa.func.count()).where(S.c.review_id == review["id"])).scalar_one()
        status = "signed" if signed == len(SLOTS) else "signing"
        conn.execute(sa.update(RV).where(RV.c.id == review["id"]).values(status=status))
        audit.append(
            conn,
            actor=actor,
            action="governance.review_signoff",
            object_type="gov_review",
            object_id=f"{school}/{academic_year}",
            school=school,
            detail={"slot": slot, "status": status},
        )
    result = get(store, school, academic_year)
    assert result is not None
    return result
