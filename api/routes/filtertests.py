"""`/api/filtertests` (record of filter-effectiveness checks, run, resulting actions, exports) and its pages.

Permissions (DESIGN role matrix, "filter tests"): every staff role views (`filtertests.view`), the network
manager runs (`filtertests.run`). Recording a resulting action is declared `filtertests.view` and then checked
per object: the caller must be the network manager, DSL or deputy DSL of the run's school. No pupil data is
involved: probes run as test accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from api.auth import Principal, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep
from api.errors import Forbidden
from api.ui.common import render
from cases.store import CaseStore
from filtertests import export, records
from filtertests.errors import RecordError
from vigil.settings import Settings

router = APIRouter(prefix="/api/filtertests", tags=["filter tests"])
pages = APIRouter(include_in_schema=False)

ACTION_ROLES = frozenset({"network_manager", "dsl", "deputy_dsl"})


class RunIn(BaseModel):
    """Run the configured plan (`[filtertests] plan`), optionally only some groups."""

    groups: list[str] = Field(default_factory=list)


class ActionIn(BaseModel):
    """The resulting action for a run's failures (one result, or every failure still without one)."""

    note: str = Field(min_length=3, max_length=4000)
    result_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


def _schools(principal: Principal, permission: str, school: str | None) -> list[str]:
    allowed = principal.schools_for(permission)
    if school is None:
        return allowed
    if school not in allowed:
        raise Forbidden(f"not permitted: {permission} in school {school}")
    return [school]


def _run(store: CaseStore, principal: Principal, run_id: str) -> dict[str, Any]:
    try:
        return records.get_run(store, run_id, principal.schools_for("filtertests.view"))
    except RecordError as exc:
        raise Forbidden(str(exc)) from exc  # same answer for missing and out of scope


def _with_categories(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "categories": r["summary"]} for r in runs]


@router.get("", dependencies=[require("filtertests.view")])
def list_filtertests(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Recorded runs, newest first: when, who, plan, pass/fail per category, failures awaiting an action."""
    schools = _schools(principal, "filtertests.view", school)
    return _with_categories(records.list_runs(store, schools, limit=limit, offset=offset))


@router.get("/trend", dependencies=[require("filtertests.view")])
def filtertest_trend(principal: CurrentPrincipal, store: StoreDep, school: str | None = None) -> dict[str, Any]:
    """Per category, each run's passed and failed probes, oldest first."""
    return records.trend(store, _schools(principal, "filtertests.view", school))


def _export_rows(store: CaseStore, principal: Principal, school: str | None, since: str | None) -> list[Any]:
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError as exc:
            raise RecordError(f"since: not a date: {since!r}") from exc
    return records.results_for_export(store, _schools(principal, "filtertests.view", school), since=start)


@router.get("/export.csv", dependencies=[require("filtertests.view")], response_model=None)
def export_csv(
    principal: CurrentPrincipal, store: StoreDep, school: str | None = None, since: str | None = None
) -> Response:
    """Every probe of every run as CSV (annual review)."""
    text = export.to_csv(_export_rows(store, principal, school, since))
    headers = {"Content-Disposition": 'attachment; filename="vigil-filtertests.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/export.pdf", dependencies=[require("filtertests.view")], response_model=None)
def export_pdf(
    principal: CurrentPrincipal, store: StoreDep, school: str | None = None, since: str | None = None
) -> Response:
    """The record as a PDF for governors."""
    rows = _export_rows(store, principal, school, since)
    body = export.to_pdf(rows, title="Filter and monitoring checks", generated=datetime.now(UTC))
    headers = {"Content-Disposition": 'attachment; filename="vigil-filtertests.pdf"'}
    return Response(body, media_type="application/pdf", headers=headers)


def _start_run(settings: Settings, store: CaseStore, principal: Principal, school: str, groups: list[str]) -> str:
    from filtertests.plans import load_plan
    from filtertests.schedule import config_of
    from filtertests.service import run_and_record

    cfg = config_of(settings)
    plan = load_plan(cfg.plan)
    if groups:
        plan = plan.only_groups(groups)
    report = run_and_record(
        settings, plan, store=store, school=school, proxy=cfg.proxy, actor=principal.name, trigger="api"
    )
    return report.run_id


@router.post("/run", dependencies=[require("filtertests.run")])
async def run_filtertests(
    principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep, school: str, body: RunIn | None = None
) -> dict[str, Any]:
    """Run the configured plan now for `school` (probes, monitoring check, record); returns the run."""
    _schools(principal, "filtertests.run", school)
    run_id = await run_in_threadpool(_start_run, settings, store, principal, school, (body or RunIn()).groups)
    return _run(store, principal, run_id)


@router.get("/{run_id}", dependencies=[require("filtertests.view")])
def get_filtertest(run_id: str, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """One run with every probe: group, site, URL, expected, observed, logs, pass/fail, action."""
    return _run(store, principal, run_id)


def _act(store: CaseStore, principal: Principal, run_id: str, note: str, result_id: int | None) -> int:
    run = _run(store, principal, run_id)
    if not principal.roles_in(run["school"]) & ACTION_ROLES:
        raise Forbidden("not permitted: only the network manager or the DSL record resulting actions")
    return records.record_action(
        store, run_id, note, actor=principal.name, schools=[run["school"]], result_id=result_id
    )


@router.post("/{run_id}/action", dependencies=[require("filtertests.view")])
def record_filtertest_action(
    run_id: str, principal: CurrentPrincipal, store: StoreDep, body: Annotated[ActionIn, Body()]
) -> dict[str, Any]:
    """Record the resulting action for a run's failures (audited)."""
    n = _act(store, principal, run_id, body.note, body.result_id)
    return {"run_id": run_id, "results": n}


# ---- pages ------------------------------------------------------------------------------------------------
@pages.get("/filtertests", dependencies=[require("filtertests.view")], response_model=None)
def filtertests_page(
    request: Request, principal: CurrentPrincipal, store: StoreDep, school: str | None = None
) -> Response:
    """Runs with pass/fail per category and outstanding actions."""
    schools = _schools(principal, "filtertests.view", school or None)
    runs = _with_categories(records.list_runs(store, schools, limit=100))
    categories = sorted({c for r in runs for c in r["summary"]})
    return render(request, "filtertests.html", principal, runs=runs, categories=categories, schools=schools)


@pages.get("/filtertests/{run_id}", dependencies=[require("filtertests.view")], response_model=None)
def filtertest_run_page(run_id: str, request: Request, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """One run: every probe, what the user and the monitoring saw, and the resulting-action form."""
    run = _run(store, principal, run_id)
    can_act = bool(principal.roles_in(run["school"]) & ACTION_ROLES)
    return render(request, "filtertests_run.html", principal, run=run, can_act=can_act, done=request.query_params)


@pages.post("/filtertests/{run_id}/action", dependencies=[require("filtertests.view")], response_model=None)
def filtertest_action_form(
    run_id: str,
    principal: CurrentPrincipal,
    store: StoreDep,
    note: Annotated[str, Form()] = "",
    result_id: Annotated[str, Form()] = "",
) -> Response:
    """The page's resulting-action form."""
    _act(store, principal, run_id, note, int(result_id) if result_id.isdigit() else None)
    return RedirectResponse(f"/filtertests/{run_id}?saved=1", status_code=303)
