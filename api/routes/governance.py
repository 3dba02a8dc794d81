"""`/api/governance`: block/allow register, delegations, staff concerns, annual reviews, AI-tool use.

Object-level rules (the decorators check the permission; these functions check the object):
- staff see only their own requests and concerns (`/mine`); a request's detail is for its requester or a viewer;
- the network manager sees and decides only the request categories the DSL has delegated in that school;
- a governor sees the register and exports with roles instead of names, and no per-pupil data anywhere.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Principal, check_alert, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from cases.store import CaseStore
from governance import concerns, followup, pdf, requests
from governance.config import load_config
from governance.exports import register_csv

router = APIRouter(prefix="/api/governance", tags=["governance"])
FULL_VIEW = frozenset({"dsl", "deputy_dsl", "head_teacher"})
School = Annotated[str, Query(min_length=1, max_length=64)]


# ---- scope helpers (also used by the UI pages) ---------------------------------------------------------------
def need(principal: Principal, permission: str, school: str) -> None:
    """Forbidden unless the caller holds `permission` in `school`."""
    if not principal.can(permission, school):
        raise Forbidden(f"not permitted: {permission} in school {school}")


def request_scope(store: CaseStore, principal: Principal, schools: Collection[str]) -> dict[str, set[str]]:
    """Per school, the request categories the caller may see in the register."""
    out: dict[str, set[str]] = {}
    for school in schools:
        roles = principal.roles_in(school)
        if roles & (FULL_VIEW | {"governor"}):
            out[school] = set(requests.REQUEST_CATEGORIES)
        elif "network_manager" in roles:
            out[school] = requests.delegated(store, school)
    return out


def named(principal: Principal, school: str) -> bool:
    """Whether the caller sees people's names in this school's register (everyone but governors)."""
    return bool(principal.roles_in(school) - {"governor", "staff"})


def visible_requests(store: CaseStore, principal: Principal, school: str | None, **kw: Any) -> list[dict[str, Any]]:
    """The register as the caller may see it (names replaced by roles for governors)."""
    schools = principal.schools_for("governance.view") if school is None else [school]
    if school is not None:
        need(principal, "governance.view", school)
    scope = request_scope(store, principal, schools)
    rows = requests.list_requests(store, list(scope), only_categories=scope, **kw)
    return [r if named(principal, r["school"]) else requests.export_rows([r], identities=False)[0] for r in rows]


def load_request(store: CaseStore, principal: Principal, request_id: str) -> dict[str, Any]:
    """One request for its requester or a viewer whose scope covers it; else 403 (missing looks the same)."""
    row = requests.get(store, request_id)
    if row is not None:
        school = row["school"]
        if row["requested_by"] == principal.name and principal.can("governance.submit", school):
            return row
        if principal.can("governance.view", school) and row["category"] in request_scope(
            store, principal, [school]
        ).get(school, set()):
            return row if named(principal, school) else requests.export_rows([row], identities=False)[0]
    raise Forbidden("not permitted, or no such request")


# ---- models ----------------------------------------------------------------------------------------------------
class RequestIn(BaseModel):
    """A block or unblock request."""

    school: str = Field(min_length=1, max_length=64)
    kind: Literal["block", "unblock"]
    url: str = Field(min_length=1, max_length=2000)
    category: str
    group: str = Field(min_length=1, max_length=128, description="the filter group affected (e.g. students)")
    reason: str = Field(min_length=1, max_length=4000)


class DecisionIn(BaseModel):
    """Approve or decline, with the reason and (approving) the filter change made."""

    approve: bool
    reason: str = Field(min_length=1, max_length=4000)
    filter_change: str | None = Field(None, max_length=4000)
    review_by: date | None = None


class DelegationIn(BaseModel):
    """The request categories the network manager may decide in a school."""

    school: str = Field(min_length=1, max_length=64)
    categories: list[str]


class ConcernIn(BaseModel):
    """An eSafety incident a member of staff witnessed."""

    school: str = Field(min_length=1, max_length=64)
    what: str = Field(min_length=1, max_length=4000)
    who: str = Field(min_length=1, max_length=500)
    when: datetime
    where: str = Field(min_length=1, max_length=500)
    category: str
    subject_kind: Literal["pupil", "staff", "unknown"] = "pupil"
    subject_user: str | None = Field(None, max_length=255, description="the pupil's login name, if known")
    immediate: bool = False


class AttachIn(BaseModel):
    """Warehouse events to attach to a concern."""

    user: str = Field(min_length=1, max_length=255)
    since: datetime
    until: datetime
    host: str | None = None


# ---- block/allow register ------------------------------------------------------------------------------------
@router.post("/requests", dependencies=[require("governance.submit")], status_code=201)
def submit_request(body: RequestIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Ask for a site to be blocked or unblocked."""
    need(principal, "governance.submit", body.school)
    return requests.submit(
        store,
        school=body.school,
        actor=principal.name,
        kind=body.kind,
        url=body.url,
        category=body.category,
        group=body.group,
        reason=body.reason,
    )


@router.get("/requests/mine", dependencies=[require("governance.submit")])
def my_requests(principal: CurrentPrincipal, store: StoreDep) -> list[dict[str, Any]]:
    """The caller's own requests with their decisions and follow-ups."""
    return requests.list_requests(store, principal.schools_for("governance.submit"), requested_by=principal.name)


@router.get("/requests", dependencies=[require("governance.view")])
def list_register(
    principal: CurrentPrincipal, store: StoreDep, school: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The register (network manager: delegated categories; governor: without names)."""
    return visible_requests(store, principal, school, status=status)


@router.get("/requests/{request_id}", dependencies=[require("governance.view")])
def request_detail(request_id: str, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """One request."""
    return load_request(store, principal, request_id)


@router.post("/requests/{request_id}/decision", dependencies=[require("governance.decide")])
def decide_request(
    request_id: str, body: DecisionIn, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    """Approve or decline (DSL; network manager for delegated categories)."""
    row = requests.get(store, request_id)
    if row is None or not principal.can("governance.decide", row["school"]):
        raise Forbidden("not permitted, or no such request")
    return requests.decide(
        store,
        request_id,
        actor=principal.name,
        roles=principal.roles_in(row["school"]),
        approve=body.approve,
        reason=body.reason,
        filter_change=body.filter_change,
        config=load_config(settings),
        review_by=body.review_by,
    )


@router.post("/requests/{request_id}/followup", dependencies=[require("governance.decide")])
async def run_request_followup(
    request_id: str, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    """Run the follow-up filter test of an approved request now."""
    row = requests.get(store, request_id)
    roles = principal.roles_in(row["school"]) if row else frozenset()
    if row is None or requests.decider_role(roles, row["category"], requests.delegated(store, row["school"])) is None:
        raise Forbidden("not permitted, or no such request")
    return await run_in_threadpool(
        followup.run_followup, store, request_id, load_config(settings), actor=principal.name
    )


def _export_rows(store: CaseStore, principal: Principal, school: str) -> list[dict[str, Any]]:
    need(principal, "governance.view", school)
    rows = visible_requests(store, principal, school)
    return requests.export_rows(rows, identities=named(principal, school))


@router.get("/register.csv", dependencies=[require("governance.view")])
def register_export_csv(principal: CurrentPrincipal, store: StoreDep, school: School) -> Response:
    """The register as CSV (governors: roles instead of names)."""
    text = register_csv(_export_rows(store, principal, school))
    headers = {"Content-Disposition": f'attachment; filename="register-{school}.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/register.pdf", dependencies=[require("governance.view")])
async def register_export_pdf(principal: CurrentPrincipal, store: StoreDep, school: School) -> Response:
    """The register as PDF with charts."""
    rows = _export_rows(store, principal, school)
    data = await run_in_threadpool(pdf.register_pdf, rows, school=school)
    headers = {"Content-Disposition": f'attachment; filename="register-{school}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/delegations", dependencies=[require("governance.view")])
def get_delegations(principal: CurrentPrincipal, store: StoreDep, school: School) -> dict[str, Any]:
    """Categories delegated to the network manager in a school."""
    need(principal, "governance.view", school)
    return {"school": school, "categories": sorted(requests.delegated(store, school))}


@router.put("/delegations", dependencies=[require("governance.delegate")])
def put_delegations(body: DelegationIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Replace the delegated categories (DSL)."""
    need(principal, "governance.delegate", body.school)
    cats = requests.set_delegations(store, body.school, body.categories, actor=principal.name)
    return {"school": body.school, "categories": sorted(cats)}


# ---- staff concerns ------------------------------------------------------------------------------------------
@router.post("/concerns", dependencies=[require("governance.submit")], status_code=201)
def submit_concern(body: ConcernIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Record an eSafety incident; it becomes a case (staff allegations go to the head teacher)."""
    need(principal, "governance.submit", body.school)
    fields = body.model_dump(exclude={"school"})
    return concerns.submit(store, school=body.school, reporter=principal.name, **fields)


@router.get("/concerns/mine", dependencies=[require("governance.submit")])
def my_concerns(principal: CurrentPrincipal, store: StoreDep) -> list[dict[str, Any]]:
    """The caller's own concerns and whether they are being handled (no case detail)."""
    return concerns.mine(store, principal.name, principal.schools_for("governance.submit"))


@router.post("/concerns/{alert_id}/events", dependencies=[require("events.view_raw")])
async def attach_concern_events(
    alert_id: str, body: AttachIn, principal: CurrentPrincipal, store: StoreDep, warehouse: WarehouseDep
) -> dict[str, Any]:
    """Attach a user's warehouse events to a concern (DSL, deputy; the read is audited)."""
    alert = check_alert(principal, store.get_alert(alert_id), act=True)
    if not principal.can("events.view_raw", alert["school"]):
        raise Forbidden("not permitted, or no such alert")
    concerns.ensure_concern(store, alert_id)
    n = await run_in_threadpool(
        concerns.attach_events,
        store,
        warehouse,
        dict(alert),
        actor=principal.name,
        user=body.user,
        since=body.since,
        until=body.until,
        host=body.host,
    )
    return {"alert_id": alert_id, "attached": n}
