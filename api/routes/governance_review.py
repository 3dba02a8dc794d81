"""`/api/governance/reviews` (the annual review, DfE standard 2) and `/api/governance/ai-*` (AI-tool use).

Object rules as for the register: school scope per route; per-pupil AI detail is the DSL's and audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Principal, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from api.routes.governance import School, need
from cases.store import CaseStore
from governance import ai_tools, pdf, prefill, review
from governance.config import load_config

router = APIRouter(prefix="/api/governance", tags=["governance"])


class ReviewIn(BaseModel):
    """Answers per section and named signatories (slot -> account name)."""

    answers: dict[str, str] = Field(default_factory=dict)
    signatories: dict[str, str] = Field(default_factory=dict)


class ActionIn(BaseModel):
    """An action arising from the review."""

    text: str = Field(min_length=3, max_length=4000)
    owner: str = Field(min_length=1, max_length=128)
    due: date | None = None


class SignIn(BaseModel):
    """A sign-off."""

    slot: Literal["slt", "dsl", "it_lead", "governor"]
    note: str = Field("", max_length=2000)


# ---- annual review -------------------------------------------------------------------------------------------
@router.get("/reviews", dependencies=[require("governance.view")])
def reviews(principal: CurrentPrincipal, store: StoreDep, school: str | None = None) -> list[dict[str, Any]]:
    """Reviews of the caller's schools."""
    schools = principal.schools_for("governance.view") if school is None else [school]
    if school is not None:
        need(principal, "governance.view", school)
    return review.list_reviews(store, schools)


def _review(store: CaseStore, principal: Principal, school: str, year: str) -> dict[str, Any]:
    need(principal, "governance.view", school)
    found = review.get(store, school, year)
    if found is None:
        raise Forbidden("not permitted, or no such review")
    return found


@router.get("/reviews/{school}/{year}", dependencies=[require("governance.view")])
def get_review(school: str, year: str, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """One review with figures, actions and sign-offs."""
    return _review(store, principal, school, year)


@router.post("/reviews/{school}/{year}", dependencies=[require("governance.review")])
async def open_review(
    school: str,
    year: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
) -> dict[str, Any]:
    """Start the review for a school and academic year (pre-filled from live data)."""
    need(principal, "governance.review", school)
    prefill.period(year)
    return await run_in_threadpool(
        review.open_review, store, warehouse, school, year, actor=principal.name, config=load_config(settings)
    )


@router.put("/reviews/{school}/{year}", dependencies=[require("governance.review")])
def update_review(
    school: str, year: str, body: ReviewIn, principal: CurrentPrincipal, store: StoreDep
) -> dict[str, Any]:
    """Save answers and named signatories."""
    need(principal, "governance.review", school)
    return review.update(store, school, year, actor=principal.name, answers=body.answers, signatories=body.signatories)


@router.post("/reviews/{school}/{year}/prefill", dependencies=[require("governance.review")])
async def refresh_review(
    school: str,
    year: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
) -> dict[str, Any]:
    """Recompute the live figures (until the first sign-off)."""
    need(principal, "governance.review", school)
    return await run_in_threadpool(
        review.refresh, store, warehouse, school, year, actor=principal.name, config=load_config(settings)
    )


@router.post("/reviews/{school}/{year}/actions", dependencies=[require("governance.review")], status_code=201)
def add_review_action(
    school: str, year: str, body: ActionIn, principal: CurrentPrincipal, store: StoreDep
) -> dict[str, Any]:
    """Record an action with its owner."""
    need(principal, "governance.review", school)
    return review.add_action(store, school, year, actor=principal.name, text=body.text, owner=body.owner, due=body.due)


@router.post("/reviews/{school}/{year}/actions/{action_id}/done", dependencies=[require("governance.review")])
def complete_review_action(
    school: str,
    year: str,
    action_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: CurrentPrincipal,
    store: StoreDep,
) -> dict[str, Any]:
    """Mark an action done."""
    need(principal, "governance.review", school)
    review.complete_action(store, school, year, action_id, actor=principal.name)
    return {"id": action_id, "status": "done"}


@router.post("/reviews/{school}/{year}/signoff", dependencies=[require("governance.signoff")])
def sign_review(school: str, year: str, body: SignIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Sign one slot (only the named person, in their role)."""
    need(principal, "governance.signoff", school)
    return review.sign(
        store, school, year, body.slot, actor=principal.name, roles=principal.roles_in(school), note=body.note
    )


@router.get("/reviews/{school}/{year}/pdf", dependencies=[require("governance.view")])
async def review_export_pdf(school: str, year: str, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """The review as PDF with charts."""
    found = _review(store, principal, school, year)
    data = await run_in_threadpool(pdf.review_pdf, found)
    headers = {"Content-Disposition": f'attachment; filename="review-{school}-{year}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


# ---- AI-tool use ---------------------------------------------------------------------------------------------
def window(days: int) -> tuple[datetime, datetime]:
    until = datetime.now(UTC) + timedelta(minutes=1)
    return until - timedelta(days=days), until


@router.get("/ai-services", dependencies=[require("governance.view")])
def ai_services() -> list[dict[str, Any]]:
    """The generative-AI services Vigil recognises."""
    return [
        {"id": s.id, "name": s.name, "vendor": s.vendor, "category": s.category, "domains": list(s.domains)}
        for s in ai_tools.services()
    ]


@router.get("/ai-use", dependencies=[require("governance.view")])
async def ai_use(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: School,
    days: Annotated[int, Query(ge=1, le=400)] = 30,
) -> dict[str, Any]:
    """AI-tool use by group, service and week against the policy (aggregates only, no identities)."""
    need(principal, "governance.view", school)
    since, until = window(days)
    policy = load_config(settings).policy_for(school)
    return await run_in_threadpool(ai_tools.usage, warehouse, school, since, until, policy)


@router.get("/ai-use/pupils", dependencies=[require("governance.ai_detail")])
async def ai_use_pupils(
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: School,
    days: Annotated[int, Query(ge=1, le=400)] = 30,
    unapproved: bool = False,
    why: str | None = None,
) -> list[dict[str, Any]]:
    """Per-pupil AI-tool use (DSL only; every call audited)."""
    need(principal, "governance.ai_detail", school)
    since, until = window(days)
    policy = load_config(settings).policy_for(school)
    return await run_in_threadpool(
        lambda: ai_tools.pupil_detail(
            store, warehouse, school, since, until, policy, actor=principal.name, why=why, only_unapproved=unapproved
        )
    )
