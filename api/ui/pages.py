"""The DSL's pages: alert queue, head teacher's view, alert detail (audited) and the triage forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, require
from api.deps import ApiConfigDep, CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from api.routes.alerts import detail, load_for, timeline_for
from api.ui.charts import timeline_svg
from api.ui.common import render
from cases import workflow
from cases.escalation import on_escalated_quietly
from cases.store import AlertQuery, Scope
from cases.workflow import OUTCOMES
from detectors.base import CATEGORIES

router = APIRouter(include_in_schema=False)
PAGE = 50
STATUS_CHOICES = ("open", "new", "triaged", "escalated", "closed")


def _queue(
    request: Request,
    principal: Principal,
    store: Any,
    visibility: dict[str, Scope],
    *,
    title: str,
    intro: str,
    school: str | None,
    status: str | None,
    category: str | None,
    min_severity: int | None,
    sort: str,
    page: int,
) -> Response:
    if school:
        if school not in visibility:
            raise Forbidden(f"not permitted: alerts in school {school}")
        visibility = {school: visibility[school]}
    status = status if status in STATUS_CHOICES else "open"
    category = category if category in CATEGORIES else None
    q = AlertQuery(
        visibility=visibility,
        status=status,
        min_severity=min_severity,
        category=category,
        sort=sort,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    rows, total = store.list_alerts(q)
    counts = store.status_counts(q)
    return render(
        request,
        "queue.html",
        principal,
        title=title,
        intro=intro,
        alerts=rows,
        total=total,
        counts=counts,
        schools=sorted(principal.alert_visibility()),
        filters={
            "school": school or "",
            "status": status,
            "category": category or "",
            "min_severity": min_severity or "",
            "sort": sort,
        },
        page=page,
        pages=max(1, (total + PAGE - 1) // PAGE),
        statuses=STATUS_CHOICES,
    )


Sev = Annotated[int | None, Query(ge=1, le=5)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]


def _opt_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= 5 else None


@router.get("/alerts", dependencies=[require("alerts.view")], response_model=None)
def queue(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    school: str | None = None,
    status: str | None = None,
    category: str | None = None,
    min_severity: str | None = None,
    sort: str = "severity",
    page: PageNo = 1,
) -> Response:
    """The alert queue: most severe and longest-waiting first, with filters and counts."""
    return _queue(
        request,
        principal,
        store,
        principal.alert_visibility(),
        title="Alert queue",
        intro="Alerts waiting for you, most severe and longest-waiting first.",
        school=school or None,
        status=status,
        category=category,
        min_severity=_opt_int(min_severity),
        sort=sort if sort in ("severity", "newest", "oldest") else "severity",
        page=page,
    )


@router.get("/head", dependencies=[require("alerts.view")], response_model=None)
def head(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    school: str | None = None,
    status: str | None = None,
    category: str | None = None,
    min_severity: str | None = None,
    sort: str = "severity",
    page: PageNo = 1,
) -> Response:
    """The head teacher's view: escalated alerts and alerts about staff (a DSL sees what they escalated)."""
    vis: dict[str, Scope] = {
        s: ("head_teacher" if scope in ("head_teacher", "all") else "escalated")
        for s, scope in principal.alert_visibility().items()
    }
    return _queue(
        request,
        principal,
        store,
        vis,
        title="Escalations and staff alerts",
        intro="Alerts a DSL escalated to the head teacher, and every alert about a member of staff.",
        school=school or None,
        status=status,
        category=category,
        min_severity=_opt_int(min_severity),
        sort=sort if sort in ("severity", "newest", "oldest") else "severity",
        page=page,
    )


@router.get("/alerts/{alert_id}", dependencies=[require("alerts.view")], response_model=None)
async def alert_page(
    alert_id: str,
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    warehouse: WarehouseDep,
    cfg: ApiConfigDep,
    done: str | None = None,
) -> Response:
    """One alert: why it fired, evidence, the ±60-minute timeline chart, previous alerts, and the actions."""
    alert = await run_in_threadpool(load_for, principal, store, alert_id)
    full = await run_in_threadpool(detail, principal, store, alert)
    try:
        events = await run_in_threadpool(timeline_for, store, warehouse, principal, alert, cfg.timeline_minutes)
        timeline_error = None
    except Exception as exc:  # noqa: BLE001 - the page must still open when the warehouse cannot be read
        events, timeline_error = [], f"The timeline could not be read from the warehouse ({type(exc).__name__})."
    evidence = full.get("evidence") or {}
    matched = {str(e.get("origin")) for e in evidence.get("events") or [] if isinstance(e, dict)}
    matched |= set(full.get("event_keys") or [])
    chart = timeline_svg(events, alert["ts"], cfg.timeline_minutes, matched, tz=request.app.state.settings.timezone)
    return render(
        request,
        "alert.html",
        principal,
        a=full,
        events=events,
        chart=chart,
        matched=matched,
        timeline_error=timeline_error,
        can_act=_can_act(principal, full),
        done=done,
        can_hold=principal.can("retention.manage", alert["school"]),
        can_export=principal.can("alerts.export", alert["school"]),
        outcomes=OUTCOMES,
    )


def _can_act(principal: Principal, alert: dict[str, Any]) -> bool:
    from api.auth import can_act_on_alert

    return can_act_on_alert(principal, alert)


def _back(alert_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/alerts/{alert_id}?done={done}", status_code=303)


Text = Annotated[str, Form(max_length=10_000)]


@router.post("/alerts/{alert_id}/triage", dependencies=[require("alerts.triage")], response_model=None)
def triage_form(alert_id: str, principal: CurrentPrincipal, store: StoreDep, note: Text = "") -> Response:
    """Acknowledge the alert (assigns it to you)."""
    load_for(principal, store, alert_id, act=True)
    workflow.triage(store, alert_id, principal.name, note=note or None)
    return _back(alert_id, "triaged")


@router.post("/alerts/{alert_id}/escalate", dependencies=[require("alerts.triage")], response_model=None)
def escalate_form(
    alert_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    note: Text = "",
) -> Response:
    """Escalate to the head teacher with a note (the head teacher is notified after the response)."""
    load_for(principal, store, alert_id, act=True)
    out = workflow.escalate(store, alert_id, principal.name, note=note)
    background.add_task(on_escalated_quietly, store, settings, out["id"])
    return _back(alert_id, "escalated")


@router.post("/alerts/{alert_id}/close", dependencies=[require("alerts.triage")], response_model=None)
def close_form(
    alert_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Text = "",
) -> Response:
    """Close with an outcome and a note."""
    load_for(principal, store, alert_id, act=True)
    workflow.close(store, alert_id, principal.name, outcome=outcome, note=note)
    return _back(alert_id, "closed")


@router.post("/alerts/{alert_id}/notes", dependencies=[require("alerts.triage")], response_model=None)
def note_form(alert_id: str, principal: CurrentPrincipal, store: StoreDep, body: Text = "") -> Response:
    """Add a note."""
    load_for(principal, store, alert_id, act=True)
    workflow.add_note(store, alert_id, principal.name, body)
    return _back(alert_id, "noted")
