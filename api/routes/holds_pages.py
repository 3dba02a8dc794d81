"""The legal-holds pages (the school's DSL only): the list with evidence verification, one hold with its files,
and the place/review/release forms (CSRF-checked by `require` like every other form of the UI)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote_plus

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from api.auth import Principal, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep
from api.routes.holds import (
    HoldIn,
    HoldReleaseIn,
    HoldReviewIn,
    load_hold,
    place,
    public,
    release,
    review,
    scope,
    verification,
)
from api.ui.common import render
from cases.errors import InvalidInput
from cases.store import CaseStore
from retention import holds

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=holds.MAX_REASON)]
Short = Annotated[str, Form(max_length=255)]
M = TypeVar("M", bound=BaseModel)


def _model(cls: type[M], **data: Any) -> M:
    """Validate form fields with the API's model; a bad field is one clear 422 line, not a traceback."""
    try:
        return cls.model_validate({k: v for k, v in data.items() if v not in ("", None)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise InvalidInput(f"{where}: {first['msg']}") from exc


def _back(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={quote_plus(done)}", status_code=303)


def evidence_status(store: CaseStore, data_dir: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A hold's evidence at a glance: files and rows kept, and whether every live file verifies now."""
    files = holds.evidence_for_hold(store, row["id"], schools=[row["school"]])
    live = [f for f in files if f["deleted_at"] is None]
    checked = verification(store, data_dir, row) if live else None
    return {
        "files": files,
        "live": len(live),
        "rows": sum(int(f["rows"]) for f in live),
        "deleted": len(files) - len(live),
        "checked": checked,
        "failed": [f for f in checked["files"] if f["status"] != "ok"] if checked else [],
    }


def _list(
    store: CaseStore, data_dir: Any, principal: Principal, school: str | None, status: str
) -> list[dict[str, Any]]:
    rows = holds.list_holds(store, scope(principal, school), active_only=status == "active")
    return [{**public(r), "evidence": evidence_status(store, data_dir, r)} for r in rows]


@router.get("/holds", dependencies=[require("retention.manage")], response_model=None)
async def holds_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    school: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["active", "all"] = "active",
    done: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Active (or all) holds in the DSL's schools, evidence verified now, and the form to place a hold."""
    rows = await run_in_threadpool(_list, store, settings.data_dir, principal, school or None, status)
    return render(
        request,
        "holds.html",
        principal,
        holds=rows,
        schools=principal.schools_for("retention.manage"),
        school=school or "",
        status=status,
        done=done,
    )


@router.get("/holds/{hold_id}", dependencies=[require("retention.manage")], response_model=None)
async def hold_page(
    hold_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    done: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """One hold: its history, each evidence file with its checksum and status, review and release."""
    row = await run_in_threadpool(load_hold, principal, store, hold_id)
    status = await run_in_threadpool(evidence_status, store, settings.data_dir, row)
    return render(
        request,
        "holds_detail.html",
        principal,
        h=public(row),
        ev=status,
        can_download=principal.can("events.view_raw", row["school"]),
        done=done,
    )


@router.post("/holds", dependencies=[require("retention.manage")], response_model=None)
def place_form(
    principal: CurrentPrincipal,
    store: StoreDep,
    school_query: Annotated[str | None, Query(alias="school", max_length=64)] = None,
    school: Annotated[str, Form(max_length=64)] = "",
    reason: Text = "",
    user: Short = "",
    alert_id: Annotated[str, Form(max_length=64)] = "",
    review_at: Annotated[str, Form(max_length=10)] = "",
    case_ref: Short = "",
) -> Response:
    """Place a hold on a pupil or an alert (from this page, an alert page or its timeline).

    The school comes from the query (checked by `require`) or, from the holds page's school menu, the form
    (checked by `place`); both given and different is refused.
    """
    if school_query and school and school_query != school:
        raise InvalidInput("two different schools given")
    school = school_query or school
    if not school:
        raise InvalidInput("choose the school")
    body = _model(HoldIn, user=user, alert_id=alert_id, reason=reason, review_at=_day(review_at), case_ref=case_ref)
    row = place(principal, store, school, body)
    what = f"alert {row['alert_id'][:8]}" if row["alert_id"] else f"pupil {row['user']}"
    return _back("/holds", f"hold {row['id']} placed on {what}")


def _day(value: str) -> date | str | None:
    """The form's date (an <input type=date> sends YYYY-MM-DD); anything else is left for the model to refuse."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return value


@router.post("/holds/{hold_id}/review", dependencies=[require("retention.manage")], response_model=None)
def review_form(
    hold_id: int,
    principal: CurrentPrincipal,
    store: StoreDep,
    note: Text = "",
    next_review_at: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record a review of the hold."""
    review(principal, store, hold_id, _model(HoldReviewIn, note=note, next_review_at=_day(next_review_at)))
    return _back(f"/holds/{hold_id}", "review recorded")


@router.post("/holds/{hold_id}/release", dependencies=[require("retention.manage")], response_model=None)
def release_form(hold_id: int, principal: CurrentPrincipal, store: StoreDep, reason: Text = "") -> Response:
    """Release the hold; its evidence goes at the next retention run."""
    release(principal, store, hold_id, _model(HoldReleaseIn, reason=reason))
    return _back(f"/holds/{hold_id}", "hold released; its evidence is deleted at the next retention run")
