"""Every route x every role x own/other school -> allow or deny, from an expectation table written here.

The table below is the contract (DESIGN.md "Roles"), written independently of api/auth.py: a route that is
missing from it, or declares a different permission, fails; so does any allow/deny that differs.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from workspace_testkit import ROLES, World

from api.auth import declared_permission
from api.main import UndeclaredPermission, api_routes, check_routes

# Which roles hold each permission (DESIGN.md "Roles"); "public" needs no sign-in.
GRANTS: dict[str, set[str]] = {
    "public": set(ROLES),
    "account.self": set(ROLES),
    "alerts.view": {"dsl", "deputy_dsl", "head_teacher"},
    "alerts.triage": {"dsl", "deputy_dsl", "head_teacher"},
    "alerts.export": {"dsl", "deputy_dsl"},
    "events.view_raw": {"dsl", "deputy_dsl"},
    "reports.aggregate": {"dsl", "deputy_dsl", "network_manager", "head_teacher"},
    "sources.view": {"dsl", "deputy_dsl", "network_manager", "head_teacher"},
    "filtertests.view": {"dsl", "deputy_dsl", "network_manager", "head_teacher"},
    "retention.manage": {"dsl"},
    "audit.view": {"dsl", "head_teacher"},
    "users.manage": {"admin"},
}

# (method, path) -> permission. School-scoped routes are exercised with ?school= or with an object
# (alert, user) that belongs to the school.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/metrics"): "public",
    ("POST", "/api/token"): "public",
    ("DELETE", "/api/token"): "account.self",
    ("GET", "/api/me"): "account.self",
    ("GET", "/api/alerts"): "alerts.view",
    ("GET", "/api/alerts/{alert_id}"): "alerts.view",
    ("GET", "/api/alerts/{alert_id}/timeline"): "alerts.view",
    ("POST", "/api/alerts/{alert_id}/triage"): "alerts.triage",
    ("POST", "/api/alerts/{alert_id}/escalate"): "alerts.triage",
    ("POST", "/api/alerts/{alert_id}/close"): "alerts.triage",
    ("GET", "/api/alerts/{alert_id}/notes"): "alerts.view",
    ("POST", "/api/alerts/{alert_id}/notes"): "alerts.triage",
    ("POST", "/api/alerts/{alert_id}/legal-hold"): "retention.manage",
    ("GET", "/api/events"): "events.view_raw",
    ("GET", "/api/users/{user}/timeline"): "events.view_raw",
    ("GET", "/api/reports/summary"): "reports.aggregate",
    ("GET", "/api/reports/digest"): "reports.aggregate",
    ("GET", "/api/reports/governors"): "reports.aggregate",
    ("GET", "/api/reports/governors.pdf"): "reports.aggregate",
    ("GET", "/reports/digest"): "reports.aggregate",
    ("GET", "/reports/governors"): "reports.aggregate",
    ("GET", "/api/alerts/{alert_id}/export.pdf"): "alerts.export",
    ("GET", "/api/alerts/{alert_id}/export.csv"): "alerts.export",
    ("GET", "/api/pupils/{user}/sar"): "retention.manage",
    ("GET", "/api/holds"): "retention.manage",
    ("POST", "/api/holds"): "retention.manage",
    ("POST", "/api/holds/{hold_id}/review"): "retention.manage",
    ("POST", "/api/holds/{hold_id}/release"): "retention.manage",
    ("GET", "/api/holds/{hold_id}/evidence"): "retention.manage",
    ("GET", "/api/holds/{hold_id}/evidence/verify"): "retention.manage",
    ("GET", "/api/holds/{hold_id}/evidence/download"): "events.view_raw",
    ("GET", "/api/retention/plan"): "retention.manage",
    ("GET", "/api/retention/runs"): "audit.view",
    ("GET", "/api/sources"): "sources.view",
    ("GET", "/api/audit"): "audit.view",
    ("GET", "/api/admin/users"): "users.manage",
    ("POST", "/api/admin/users"): "users.manage",
    ("POST", "/api/admin/users/{name}/disable"): "users.manage",
    ("GET", "/"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("GET", "/login/totp"): "public",
    ("POST", "/login/totp"): "public",
    ("POST", "/logout"): "account.self",
    ("GET", "/alerts"): "alerts.view",
    ("GET", "/head"): "alerts.view",
    ("GET", "/alerts/{alert_id}"): "alerts.view",
    ("POST", "/alerts/{alert_id}/triage"): "alerts.triage",
    ("POST", "/alerts/{alert_id}/escalate"): "alerts.triage",
    ("POST", "/alerts/{alert_id}/close"): "alerts.triage",
    ("POST", "/alerts/{alert_id}/notes"): "alerts.triage",
    ("GET", "/network"): "sources.view",
    ("GET", "/reports"): "reports.aggregate",
    ("GET", "/audit"): "audit.view",
    ("GET", "/holds"): "retention.manage",
    ("POST", "/holds"): "retention.manage",
    ("GET", "/holds/{hold_id}"): "retention.manage",
    ("POST", "/holds/{hold_id}/review"): "retention.manage",
    ("POST", "/holds/{hold_id}/release"): "retention.manage",
    ("GET", "/retention"): "retention.manage",
    ("GET", "/admin/users"): "users.manage",
    ("POST", "/admin/users"): "users.manage",
    ("POST", "/admin/users/{name}/disable"): "users.manage",
}

# Governance routes have their own route x role matrix with object fixtures (tests/governance/test_gov_routes.py).
OWN_MATRIX = ("/api/governance", "/governance", "/api/filtertests", "/filtertests")  # tested in their own suites

# Routes whose scope is the caller's own schools (no school parameter or object): same call both ways.
UNSCOPED = {"public", "account.self"}


def app_routes(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """Every (method, path) the app serves, with the permission its decorator declares."""
    out: dict[tuple[str, str], str | None] = {}
    for route in api_routes(app.routes):
        if route.path.startswith(OWN_MATRIX):
            continue
        for method in route.methods or ():
            out[(method, route.path)] = declared_permission(route)
    return out


def test_every_route_is_in_the_table_with_its_permission(world: World) -> None:
    """A new route must be added to ROUTES with the permission it declares (deny by default)."""
    served = app_routes(world.app)
    assert set(served) == set(ROUTES), f"untested: {set(served) - set(ROUTES)}; gone: {set(ROUTES) - set(served)}"
    for key, perm in served.items():
        assert perm == ROUTES[key], f"{key} declares {perm}, the contract says {ROUTES[key]}"


def test_a_route_without_a_permission_stops_the_app(world: World) -> None:
    """check_routes (run by create_app) refuses an undeclared route."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/api/leaky")
    def leaky() -> dict[str, str]:
        return {"pupil": "name"}

    app.include_router(router)

    with pytest.raises(UndeclaredPermission, match="/api/leaky"):
        check_routes(app)
    del leaky


def _call(client: TestClient, world: World, role: str, school: str, method: str, path: str) -> Any:
    """Make the request for one matrix cell, filling parameters from the seeded world."""
    who = f"{role.replace('_', '-')}-north"
    headers = world.headers(who)
    params: dict[str, Any] = {}
    url = path
    if "{alert_id}" in url:
        url = url.replace("{alert_id}", world.alerts[school]["escalated"])
    if "{user}" in url:
        url = url.replace("{user}", "pupil.one")
    if "{name}" in url:
        target = f"t-{role.replace('_', '-')}-{school}-{uuid.uuid4().hex[:6]}"
        from cases.users import create_user

        create_user(world.store, target, "dsl", [school], "password123")
        url = url.replace("{name}", target)
    if "{hold_id}" in url:  # a fresh hold per cell, so release and review always find it active
        from retention.holds import place_hold

        held = place_hold(world.store, school=school, actor="matrix", reason="matrix", user=f"p-{uuid.uuid4().hex[:6]}")
        url = url.replace("{hold_id}", str(held["id"]))
    perm = ROUTES[(method, path)]
    by_object = "{alert_id}" in path or "{name}" in path or "{hold_id}" in path
    admin_write = method == "POST" and path.startswith(("/api/admin", "/admin"))
    if perm not in UNSCOPED and not by_object and not admin_write:
        params["school"] = school
    body: dict[str, Any] | None = None
    form: dict[str, Any] | None = None
    if path.endswith("/escalate"):
        body = form = {"note": "matrix test escalation"}
    elif path.endswith("/close"):
        body = form = {"outcome": "no_further_action", "note": "matrix test close"}
    elif path.endswith("/notes") and method == "POST":
        body, form = {"body": "matrix note"}, {"body": "matrix note"}
    elif path in ("/api/holds", "/holds") and method == "POST":
        body = form = {"user": f"p-{uuid.uuid4().hex[:6]}", "reason": "matrix test hold"}
    elif path.endswith("/review") and "/holds/" in path:
        body = form = {"note": "matrix review: still needed"}
    elif path.endswith("/release") and "/holds/" in path:
        body = form = {"reason": "matrix release"}
    elif path.endswith("/legal-hold"):
        body = {"hold": True, "why": "matrix test"}
    elif path == "/api/admin/users":
        body = {
            "name": f"new-{uuid.uuid4().hex[:8]}",
            "role": "deputy_dsl",
            "schools": [school],
            "password": "password123",
        }
    elif path == "/admin/users" and method == "POST":
        form = {
            "name": f"new-{uuid.uuid4().hex[:8]}",
            "role": "deputy_dsl",
            "school": [school],
            "password": "password123",
        }
    elif path in ("/api/token", "/login"):
        form = {"username": who, "password": "correct horse battery"}
    elif path == "/login/totp":
        form = {"code": "000000"}
    if path.startswith("/api/") and method == "POST" and path != "/api/token":
        return client.request(method, url, params=params, headers=headers, json=body, follow_redirects=False)
    return client.request(method, url, params=params, headers=headers, data=form, follow_redirects=False)


def _cells() -> list[tuple[str, str, str, str]]:
    return [(m, p, role, school) for (m, p) in ROUTES for role in ROLES for school in ("north", "south")]


@pytest.mark.parametrize(("method", "path", "role", "school"), _cells())
def test_route_role_school(client: TestClient, world: World, method: str, path: str, role: str, school: str) -> None:
    """Own school and permission held -> allowed; anything else -> 403, never a leak-shaped 404 or 200."""
    perm = ROUTES[(method, path)]
    resp = _call(client, world, role, school, method, path)
    own = school == "north" or perm in UNSCOPED
    allowed = role in GRANTS[perm] and own
    if allowed:
        assert resp.status_code not in (401, 403), f"{role} denied {method} {path} in {school}: {resp.text[:200]}"
        assert resp.status_code < 500
        if not path.startswith("/api/") and perm != "public" and path != "/logout":
            assert not resp.headers.get("location", "").startswith("/login")
    else:
        assert resp.status_code == 403, f"{role} got {resp.status_code} for {method} {path} in {school}"
