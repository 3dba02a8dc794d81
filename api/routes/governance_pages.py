"""Web pages for governance: my requests and concerns (any staff), the register, a request, reviews, AI use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.auth import can_view_alert, check_alert, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from api.routes.governance import (
    load_request,
    need,
    request_scope,
    visible_requests,
)
from api.routes.governance_review import window
from api.ui.charts import bars_svg
from api.ui.common import render
from governance import ai_tools, concerns, followup, prefill, requests, review
from governance.config import load_config
from governance.errors import GovernanceInvalid

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
OptText = Annotated[str, Form()]


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/governance/mine", dependencies=[require("governance.submit")], response_model=None)
def mine_page(request: Request, principal: CurrentPrincipal, store: StoreDep, done: str = "") -> Response:
    """Any member of staff: their own requests and concerns, and the forms to make new ones."""
    schools = principal.schools_for("governance.submit")
    return render(
        request,
        "governance_mine.html",
        principal,
        schools=schools,
        done=done,
        requests=requests.list_requests(store, schools, requested_by=principal.name),
        concerns=concerns.mine(store, principal.name, schools),
        categories=requests.REQUEST_CATEGORIES,
        guidance=concerns.GUIDANCE,
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
    )


@router.post("/governance/requests", dependencies=[require("governance.submit")], response_model=None)
def submit_request_form(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Text,
    kind: Text,
    url: Text,
    category: Text,
    group: Text,
    reason: Text,
) -> Response:
    """Submit a block/allow request from the form."""
    need(principal, "governance.submit", school)
    row = requests.submit(
        store, school=school, actor=principal.name, kind=kind, url=url, category=category, group=group, reason=reason
    )
    return _back(f"/governance/mine?done=request+{row['id']}+sent+to+the+DSL")


@router.post("/governance/concerns", dependencies=[require("governance.submit")], response_model=None)
def submit_concern_form(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Text,
    what: Text,
    who: Text,
    when: Text,
    where: Text,
    category: Text,
    subject_kind: Text,
    subject_user: Annotated[str, Form()] = "",
    immediate: Annotated[str, Form()] = "",
) -> Response:
    """Record a concern from the form."""
    need(principal, "governance.submit", school)
    try:
        moment = datetime.fromisoformat(when)
    except ValueError as exc:
        raise GovernanceInvalid("when: give a date and time") from exc
    out = concerns.submit(
        store,
        school=school,
        reporter=principal.name,
        what=what,
        who=who,
        when=moment,
        where=where,
        category=category,
        subject_kind=subject_kind,
        subject_user=subject_user or None,
        immediate=bool(immediate),
    )
    to = "the head teacher" if out["routed_to"] == "head_teacher" else "the DSL"
    return _back(f"/governance/mine?done=concern+recorded+and+sent+to+{to.replace(' ', '+')}")


@router.get("/governance", dependencies=[require("governance.view")], response_model=None)
def register_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    school: str | None = None,
    status: str | None = None,
) -> Response:
    """The register (scoped per role), delegations, reviews and links to exports and AI use."""
    schools = principal.schools_for("governance.view") if not school else [school]
    rows = visible_requests(store, principal, school or None, status=status or None)
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[f"{r['kind']} {r['status']}"] = by_status.get(f"{r['kind']} {r['status']}", 0) + 1
    return render(
        request,
        "governance.html",
        principal,
        rows=rows,
        schools=schools,
        status=status or "",
        chart=bars_svg(by_status, "Requests by kind and decision"),
        delegations={s: sorted(requests.delegated(store, s)) for s in schools},
        scope=request_scope(store, principal, schools),
        categories=requests.REQUEST_CATEGORIES,
        reviews=review.list_reviews(store, schools),
        year=prefill.current_year(),
        can_delegate=principal.schools_for("governance.delegate"),
        can_review=principal.schools_for("governance.review"),
    )


@router.get("/governance/requests/{request_id}", dependencies=[require("governance.view")], response_model=None)
def request_page(request: Request, request_id: str, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """One request: the decision form for whoever may decide it."""
    row = load_request(store, principal, request_id)
    role = requests.decider_role(
        principal.roles_in(row["school"]), row["category"], requests.delegated(store, row["school"])
    )
    return render(request, "governance_request.html", principal, r=row, decider=role)


@router.post(
    "/governance/requests/{request_id}/decision", dependencies=[require("governance.decide")], response_model=None
)
def decide_form(
    request_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    decision: Text,
    reason: Text,
    filter_change: Annotated[str, Form()] = "",
    review_by: Annotated[str, Form()] = "",
) -> Response:
    """Approve or decline from the form."""
    row = load_request(store, principal, request_id)
    requests.decide(
        store,
        request_id,
        actor=principal.name,
        roles=principal.roles_in(row["school"]),
        approve=decision == "approve",
        reason=reason,
        filter_change=filter_change or None,
        config=load_config(settings),
        review_by=date.fromisoformat(review_by) if review_by else None,
    )
    return _back(f"/governance/requests/{request_id}")


@router.post(
    "/governance/requests/{request_id}/followup", dependencies=[require("governance.decide")], response_model=None
)
async def followup_form(
    request_id: str, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep
) -> Response:
    """Run the follow-up filter test now."""
    row = load_request(store, principal, request_id)
    if (
        requests.decider_role(
            principal.roles_in(row["school"]), row["category"], requests.delegated(store, row["school"])
        )
        is None
    ):
        raise Forbidden("not permitted: this category is decided by the DSL")
    await run_in_threadpool(followup.run_followup, store, request_id, load_config(settings), actor=principal.name)
    return _back(f"/governance/requests/{request_id}")


@router.post("/governance/delegations", dependencies=[require("governance.delegate")], response_model=None)
def delegations_form(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Text,
    category: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save the categories delegated to the network manager."""
    need(principal, "governance.delegate", school)
    requests.set_delegations(store, school, category or [], actor=principal.name)
    return _back("/governance")


@router.get("/governance/reviews/{school}/{year}", dependencies=[require("governance.view")], response_model=None)
def review_page(request: Request, school: str, year: str, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """The review: figures and charts, the guided sections, actions and sign-offs."""
    need(principal, "governance.view", school)
    found = review.get(store, school, year)
    fig = (found or {}).get("prefill") or {}
    charts = (
        [
            bars_svg((fig.get("alerts") or {}).get("by_category") or {}, "Alerts by category"),
            bars_svg((fig.get("alerts") or {}).get("by_outcome") or {}, "Closed alerts by outcome"),
            bars_svg(
                {k: v["failed"] for k, v in ((fig.get("filter_checks") or {}).get("by_category") or {}).items()},
                "Failed filter-test probes by category",
            ),
            bars_svg((fig.get("ai_use") or {}).get("by_category") or {}, "AI use by kind of service"),
        ]
        if found
        else []
    )
    return render(
        request,
        "governance_review.html",
        principal,
        review=found,
        school=school,
        year=year,
        charts=charts,
        sections=review.SECTIONS,
        slots=review.SLOTS,
        fig=fig,
        can_edit=principal.can("governance.review", school),
        can_sign=principal.can("governance.signoff", school),
    )


@router.post("/governance/reviews/{school}/{year}", dependencies=[require("governance.review")], response_model=None)
async def review_form(
    request: Request,
    school: str,
    year: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
) -> Response:
    """Open the review, save answers and signatories, refresh figures or add an action (by `op`)."""
    need(principal, "governance.review", school)
    form = await request.form()
    op = str(form.get("op", "save"))
    cfg = load_config(settings)
    if op == "open":
        await run_in_threadpool(review.open_review, store, warehouse, school, year, actor=principal.name, config=cfg)
    elif op == "refresh":
        await run_in_threadpool(review.refresh, store, warehouse, school, year, actor=principal.name, config=cfg)
    elif op == "action":
        due = str(form.get("due") or "")
        review.add_action(
            store,
            school,
            year,
            actor=principal.name,
            text=str(form.get("text", "")),
            owner=str(form.get("owner", "")),
            due=date.fromisoformat(due) if due else None,
        )
    elif op == "done":
        review.complete_action(store, school, year, int(str(form.get("action_id", "0"))), actor=principal.name)
    else:
        answers = {k: str(form.get(f"answer_{k}", "")) for k in review.SECTIONS if f"answer_{k}" in form}
        names = {k: str(form.get(f"sign_{k}", "")) for k in review.SLOTS if f"sign_{k}" in form}
        review.update(store, school, year, actor=principal.name, answers=answers, signatories=names)
    return _back(f"/governance/reviews/{school}/{year}")


@router.post(
    "/governance/reviews/{school}/{year}/signoff", dependencies=[require("governance.signoff")], response_model=None
)
def signoff_form(
    school: str,
    year: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    slot: Text,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Sign one slot."""
    need(principal, "governance.signoff", school)
    review.sign(store, school, year, slot, actor=principal.name, roles=principal.roles_in(school), note=note)
    return _back(f"/governance/reviews/{school}/{year}")


@router.get("/governance/ai", dependencies=[require("governance.view")], response_model=None)
async def ai_page(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: str | None = None,
    days: int = 30,
) -> Response:
    """AI-tool use against the policy, aggregated (no names)."""
    schools = principal.schools_for("governance.view")
    chosen = school or (schools[0] if schools else "")
    need(principal, "governance.view", chosen)
    since, until = window(max(1, min(days, 400)))
    usage = await run_in_threadpool(
        ai_tools.usage, warehouse, chosen, since, until, load_config(settings).policy_for(chosen)
    )
    return render(
        request,
        "governance_ai.html",
        principal,
        usage=usage,
        school=chosen,
        schools=schools,
        days=days,
        chart=bars_svg(usage["by_category"], "Requests by kind of AI service"),
        detail=principal.can("governance.ai_detail", chosen),
        names=ai_tools.AI_CATEGORIES,
    )


@router.get("/governance/ai/pupils", dependencies=[require("governance.ai_detail")], response_model=None)
async def ai_pupils_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: str,
    days: int = 30,
    unapproved: bool = True,
) -> Response:
    """Per-pupil AI-tool use for the DSL (audited)."""
    need(principal, "governance.ai_detail", school)
    since, until = window(max(1, min(days, 400)))
    policy = load_config(settings).policy_for(school)

    def load() -> list[dict[str, Any]]:
        return ai_tools.pupil_detail(
            store,
            warehouse,
            school,
            since,
            until,
            policy,
            actor=principal.name,
            why="AI-use page",
            only_unapproved=unapproved,
        )

    rows = await run_in_threadpool(load)
    return render(
        request, "governance_ai_pupils.html", principal, rows=rows, school=school, days=days, unapproved=unapproved
    )


@router.get("/governance/concerns", dependencies=[require("alerts.view")], response_model=None)
def concerns_page(request: Request, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """Staff-reported concerns the caller may handle (DSL: pupils; head teacher: staff), with event attachment."""
    rows = [
        r
        for r in concerns.recent(store, principal.schools_for("alerts.view"))
        if can_view_alert(principal, {**r, "id": r["alert_id"]})
    ]
    for r in rows:
        r["can_attach"] = principal.can("events.view_raw", r["school"])
        r["since"] = (r["ts"] - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        r["until"] = (r["ts"] + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    return render(request, "governance_concerns.html", principal, rows=rows)


@router.post("/governance/concerns/{alert_id}/events", dependencies=[require("events.view_raw")], response_model=None)
async def attach_form(
    alert_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    warehouse: WarehouseDep,
    user: Text,
    since: Text,
    until: Text,
    host: Annotated[str, Form()] = "",
) -> Response:
    """Attach a user's warehouse events around the concern (audited), then show the case."""
    alert = check_alert(principal, store.get_alert(alert_id), act=True)
    if not principal.can("events.view_raw", alert["school"]):
        raise Forbidden("not permitted, or no such alert")
    concerns.ensure_concern(store, alert_id)
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        end = datetime.fromisoformat(until).replace(tzinfo=UTC)
    except ValueError as exc:
        raise GovernanceInvalid("give the window as dates and times") from exc
    await run_in_threadpool(
        lambda: concerns.attach_events(
            store, warehouse, dict(alert), actor=principal.name, user=user, since=start, until=end, host=host or None
        )
    )
    return _back(f"/alerts/{alert_id}")
