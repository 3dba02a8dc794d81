"""`/api/alerts`: the alert queue, alert detail (audited) and the triage actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import Principal, check_alert, require
from api.deps import ApiConfigDep, CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from api.models import (
    AlertDetail,
    AlertSummary,
    CloseIn,
    EscalateIn,
    LegalHoldIn,
    Note,
    NoteIn,
    Sort,
    Status,
    TriageIn,
)
from api.present import events_to_dicts, why_text
from cases import audit, workflow
from cases.escalation import on_escalated_quietly
from cases.store import AlertQuery, CaseStore

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


def alert_query(
    principal: Principal,
    *,
    school: str | None,
    status: str | None,
    min_severity: int | None,
    category: str | None,
    sort: str = "severity",
    limit: int = 50,
    offset: int = 0,
    user: str | None = None,
) -> AlertQuery:
    """The caller's visible alerts, optionally narrowed to one school (which `require` already checked)."""
    visibility = principal.alert_visibility()
    if school is not None:
        if school not in visibility:
            raise Forbidden(f"not permitted: alerts in school {school}")
        visibility = {school: visibility[school]}
    return AlertQuery(
        visibility=visibility,
        status=status,
        min_severity=min_severity,
        category=category,
        user=user,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("", dependencies=[require("alerts.view")], response_model=list[AlertSummary])
def list_alerts(
    principal: CurrentPrincipal,
    store: StoreDep,
    response: Response,
    school: str | None = None,
    status: Status | None = None,
    min_severity: Annotated[int | None, Query(ge=1, le=5)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    sort: Sort = "severity",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Alerts the caller may see, most severe and oldest first (total in X-Total-Count)."""
    q = alert_query(
        principal,
        school=school,
        status=status,
        min_severity=min_severity,
        category=category,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    rows, total = store.list_alerts(q)
    response.headers["X-Total-Count"] = str(total)
    return rows


def load_for(principal: Principal, store: CaseStore, alert_id: str, *, act: bool = False) -> dict[str, Any]:
    """The alert if the caller may see it (or act on it), else 403 (also when it does not exist)."""
    alert = store.get_alert(alert_id[:64])
    return dict(check_alert(principal, alert, act=act))


def detail(principal: Principal, store: CaseStore, alert: dict[str, Any], *, why: str | None = None) -> dict[str, Any]:
    """The full alert for display, and an audit entry for reading it (personal data)."""
    audit.record(
        store,
        actor=principal.name,
        action="alert.view",
        object_type="alert",
        object_id=alert["id"],
        school=alert["school"],
        why=why,
    )
    out = dict(alert)
    out["why"] = why_text(alert)
    out["notes"] = store.notes(alert["id"])
    out["attachments"] = store.attachments(alert["id"])
    out["previous"] = store.previous_alerts(alert, principal.alert_visibility())
    return out


@router.get("/{alert_id}", dependencies=[require("alerts.view")], response_model=AlertDetail)
def get_alert(
    alert_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    why: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """One alert with its evidence, notes and the subject's other alerts (audited)."""
    return detail(principal, store, load_for(principal, store, alert_id), why=why)


@router.get("/{alert_id}/timeline", dependencies=[require("alerts.view")])
async def alert_timeline(
    alert_id: str, principal: CurrentPrincipal, store: StoreDep, warehouse: WarehouseDep, cfg: ApiConfigDep
) -> dict[str, Any]:
    """The subject's events within ± the configured minutes of the alert's first event (audited)."""
    alert = await run_in_threadpool(load_for, principal, store, alert_id)
    events = await run_in_threadpool(timeline_for, store, warehouse, principal, alert, cfg.timeline_minutes)
    return {"alert": alert_id, "around": alert["ts"].isoformat(), "minutes": cfg.timeline_minutes, "events": events}


def timeline_for(
    store: CaseStore, warehouse: Any, principal: Principal, alert: dict[str, Any], minutes: int
) -> list[dict[str, Any]]:
    """Events around an alert from the warehouse, audited as a read of personal data."""
    if not alert.get("user"):
        return []
    table = warehouse.timeline(alert["school"], alert["user"], alert["ts"], minutes=minutes)
    audit.record(
        store,
        actor=principal.name,
        action="timeline.view",
        object_type="alert",
        object_id=alert["id"],
        school=alert["school"],
        detail={"minutes": minutes, "rows": table.num_rows},
    )
    return events_to_dicts(table)


@router.post("/{alert_id}/triage", dependencies=[require("alerts.triage")], response_model=AlertSummary)
def triage(
    alert_id: str, principal: CurrentPrincipal, store: StoreDep, body: Annotated[TriageIn | None, Body()] = None
) -> dict[str, Any]:
    """Acknowledge: new -> triaged, assigned to the caller unless another assignee is given."""
    load_for(principal, store, alert_id, act=True)
    data = body or TriageIn(assignee=None, note=None)
    return workflow.triage(store, alert_id, principal.name, assignee=data.assignee, note=data.note)


@router.post("/{alert_id}/escalate", dependencies=[require("alerts.triage")], response_model=AlertSummary)
def escalate(
    alert_id: str,
    body: EscalateIn,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Escalate to the head teacher with a note (the head teacher is notified after the response)."""
    load_for(principal, store, alert_id, act=True)
    out = workflow.escalate(store, alert_id, principal.name, note=body.note)
    background.add_task(on_escalated_quietly, store, settings, out["id"])
    return out


@router.post("/{alert_id}/close", dependencies=[require("alerts.triage")], response_model=AlertSummary)
def close(alert_id: str, body: CloseIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Close with an outcome and a note."""
    load_for(principal, store, alert_id, act=True)
    return workflow.close(store, alert_id, principal.name, outcome=body.outcome, note=body.note)


@router.get("/{alert_id}/notes", dependencies=[require("alerts.view")], response_model=list[Note])
def notes(alert_id: str, principal: CurrentPrincipal, store: StoreDep) -> list[dict[str, Any]]:
    """Notes on an alert, oldest first."""
    load_for(principal, store, alert_id)
    return store.notes(alert_id)


@router.post("/{alert_id}/notes", dependencies=[require("alerts.triage")], status_code=201)
def add_note(alert_id: str, body: NoteIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, str]:
    """Add a note."""
    load_for(principal, store, alert_id, act=True)
    workflow.add_note(store, alert_id, principal.name, body.body)
    return {"status": "added"}


@router.post("/{alert_id}/legal-hold", dependencies=[require("retention.manage")], response_model=AlertSummary)
def legal_hold(alert_id: str, body: LegalHoldIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Place or release a legal hold (retention then keeps the alert and its evidence)."""
    alert = load_for(principal, store, alert_id)
    if not principal.can("retention.manage", alert["school"]):
        raise Forbidden("not permitted, or no such alert")
    return workflow.set_legal_hold(store, alert_id, principal.name, hold=body.hold, why=body.why)
