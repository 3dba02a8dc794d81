"""Pages outside the alert queue: ingest health and filter tests, reports, audit log, user admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.auth import require
from api.deps import ApiConfigDep, CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from api.present import category_words
from api.routes.admin import managed
from api.routes.sources import filtertest_history, source_health
from api.routes.summary import build_summary
from api.ui.charts import bars_svg
from api.ui.common import render
from cases import audit, users
from cases.errors import CaseError
from cases.users import ROLES
from cases.workflow import OUTCOMES

router = APIRouter(include_in_schema=False)


def _pick(allowed: list[str], school: str | None) -> list[str]:
    if school:
        if school not in allowed:
            raise Forbidden(f"not permitted in school {school}")
        return [school]
    return allowed


@router.get("/network", dependencies=[require("sources.view")], response_model=None)
async def network(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    cfg: ApiConfigDep,
    warehouse: WarehouseDep,
    store: StoreDep,
    school: str | None = None,
) -> Response:
    """Sources, lag and silent sources, and the filter-test history (no pupil identities)."""
    schools = _pick(principal.schools_for("sources.view"), school or None)
    rows = await run_in_threadpool(source_health, settings, cfg, warehouse, schools)
    tests = await run_in_threadpool(
        filtertest_history, store, _pick(principal.schools_for("filtertests.view"), school or None), 20
    )
    return render(
        request,
        "network.html",
        principal,
        sources=rows,
        tests=tests,
        schools=schools,
        silent_after=cfg.silent_after_minutes,
        health_days=cfg.health_days,
    )


@router.get("/reports", dependencies=[require("reports.aggregate")], response_model=None)
async def reports(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    warehouse: WarehouseDep,
    school: str | None = None,
    days: Annotated[int, Query(ge=1, le=400)] = 30,
) -> Response:
    """Aggregates with charts: alerts by category, severity and outcome; events by action and source."""
    from datetime import UTC, datetime, timedelta

    allowed = principal.schools_for("reports.aggregate")
    chosen = _pick(allowed, school or None)[0]
    until = datetime.now(UTC)
    data = await run_in_threadpool(build_summary, store, warehouse, chosen, until - timedelta(days=days), until)
    charts = {
        "Alerts by category": bars_svg(
            {category_words(k): v for k, v in data["alerts"]["by_category"].items()}, "Alerts by category"
        ),
        "Alerts by severity": bars_svg(data["alerts"]["by_severity"], "Alerts by severity"),
        "Alerts by outcome": bars_svg(
            {OUTCOMES.get(k, k): v for k, v in data["alerts"]["by_outcome"].items()}, "Alerts by outcome"
        ),
        "Events by action": bars_svg(data["events"].get("by_action", {}), "Events by action"),
        "Events by source": bars_svg(data["events"].get("by_source", {}), "Events by source"),
    }
    return render(
        request, "reports.html", principal, data=data, charts=charts, schools=allowed, school=chosen, days=days
    )


@router.get("/audit", dependencies=[require("audit.view")], response_model=None)
def audit_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    school: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The audit log of the caller's schools, newest first."""
    schools = _pick(principal.schools_for("audit.view"), school or None)
    rows, total = audit.entries(store, schools, limit=100, offset=(page - 1) * 100)
    return render(
        request,
        "audit.html",
        principal,
        entries=rows,
        total=total,
        page=page,
        pages=max(1, (total + 99) // 100),
        schools=principal.schools_for("audit.view"),
        school=school or "",
    )


@router.get("/admin/users", dependencies=[require("users.manage")], response_model=None)
def users_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    error: str | None = None,
    done: str | None = None,
    school: str | None = None,
) -> Response:
    """Accounts in the admin's schools (or one of them), and a form to add one."""
    rows = users.list_users(store, [school] if school else principal.schools_for("users.manage"))
    return render(
        request,
        "users.html",
        principal,
        users=rows,
        roles=ROLES,
        schools=principal.schools_for("users.manage"),
        error=error,
        done=done,
    )


@router.post("/admin/users", dependencies=[require("users.manage")], response_model=None)
def add_user(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    name: Annotated[str, Form(max_length=128)],
    role: Annotated[str, Form(max_length=32)],
    school: Annotated[list[str], Form()],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Create an account in the admin's schools."""
    if not set(school) <= set(principal.schools_for("users.manage")):
        raise Forbidden("not permitted: users.manage in every school given")
    try:
        users.create_user(store, name, role, school, password, actor=principal.name)
    except CaseError as exc:
        return users_page(request, principal, store, error=str(exc))
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post("/admin/users/{name}/disable", dependencies=[require("users.manage")], response_model=None)
def disable(name: str, principal: CurrentPrincipal, store: StoreDep) -> Response:
    """Disable an account."""
    row: dict[str, Any] = managed(principal, store, name)
    users.set_disabled(store, row["name"], True, actor=principal.name)
    return RedirectResponse("/admin/users?done=disabled", status_code=303)
