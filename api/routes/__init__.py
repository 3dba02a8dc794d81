"""Every router of the app, listed explicitly (JSON API first, then the web UI)."""

from fastapi import APIRouter

from api.routes import (
    account,
    admin,
    alerts,
    audit_log,
    events,
    filtertests,
    governance,
    governance_pages,
    governance_review,
    health,
    holds,
    holds_pages,
    reports,
    retention,
    sources,
    summary,
)
from api.ui import login, manage, pages

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    account.router,
    alerts.router,
    events.router,
    summary.router,
    reports.router,
    filtertests.router,
    sources.router,
    audit_log.router,
    admin.router,
    governance.router,
    governance_review.router,
    holds.router,
    retention.router,
    login.router,
    pages.router,
    manage.router,
    filtertests.pages,
    governance_pages.router,
    holds_pages.router,
    retention.pages,
)
