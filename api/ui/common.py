"""Shared helpers of the UI pages: the template context (navigation by permission) and the home page per role."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.auth import Principal

NAV: tuple[tuple[str, str, str], ...] = (
    ("/alerts", "Alert queue", "alerts.view"),
    ("/head", "Escalations", "alerts.view"),
    ("/network", "Ingest health", "sources.view"),
    ("/filtertests", "Filter tests", "filtertests.view"),
    ("/reports", "Reports", "reports.aggregate"),
    ("/audit", "Audit log", "audit.view"),
    ("/holds", "Legal holds", "retention.manage"),
    ("/retention", "Retention", "retention.manage"),
    ("/admin/users", "Users", "users.manage"),
    ("/governance", "Governance", "governance.view"),
    ("/governance/mine", "My requests", "governance.submit"),
)


def home_for(principal: Principal) -> str:
    """Where a role lands after signing in."""
    roles = {r for held in principal.account.roles.values() for r in held}
    if roles & {"dsl", "deputy_dsl"}:
        return "/alerts"
    if "head_teacher" in roles:
        return "/head"
    if "network_manager" in roles:
        return "/network"
    if "admin" in roles:
        return "/admin/users"
    if "governor" in roles:
        return "/governance"
    if "staff" in roles:
        return "/governance/mine"
    return "/login"


def nav_for(principal: Principal) -> list[tuple[str, str]]:
    """Navigation links the caller may follow."""
    safeguarding = any(scope in ("safeguarding", "all") for scope in principal.alert_visibility().values())
    # The head teacher's queue is /head; the DSL queue link would only show them the same alerts again.
    return [(href, label) for href, label, perm in NAV if principal.can(perm) and (href != "/alerts" or safeguarding)]


def render(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the common context (user, navigation, CSRF token, timezone)."""
    settings = request.app.state.settings
    base: dict[str, Any] = {
        "principal": principal,
        "nav": nav_for(principal) if principal else [],
        "csrf": principal.session.csrf if principal else context.pop("csrf", ""),
        "tz": settings.timezone,
        "path": request.url.path,
    }
    base.update(context)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, base, status_code=status_code
    )
    return response
