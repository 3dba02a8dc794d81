"""The app factory: `create_app(settings)` wires the case store, warehouse, routes, UI and error handler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from api import errors
from api.auth import declared_permission, ensure_known_roles
from api.config import api_config
from api.metrics import Metrics, MetricsMiddleware
from api.routes import ROUTERS
from api.schedules import install_schedules
from api.sweeper import install_sweeper
from api.ui.filters import install_filters
from cases.store import CaseStore
from vigil import __version__
from vigil.settings import Settings

HERE = Path(__file__).parent


class UndeclaredPermission(RuntimeError):
    """A route was added without a permission in its decorator (deny by default)."""


def api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, descending into included routers (FastAPI wraps them in `_IncludedRouter`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def check_routes(app: FastAPI) -> None:
    """Refuse to start when any route lacks a declared permission (or `public()`)."""
    missing = [f"{sorted(r.methods or ())} {r.path}" for r in api_routes(app.routes) if declared_permission(r) is None]
    if missing:
        raise UndeclaredPermission("routes without a declared permission: " + ", ".join(missing))


def create_app(settings: Settings, *, store: CaseStore | None = None, warehouse: Any = None) -> FastAPI:
    """Build the API and web UI for these settings (migrating the case store)."""
    settings.check_secrets()
    ensure_known_roles()
    cfg = api_config(settings)
    app = FastAPI(
        title="Vigil",
        version=__version__,
        description="Safeguarding alerts, triage and ingest health for schools. Bearer tokens from POST /api/token.",
        docs_url=None,  # Swagger/ReDoc load scripts from a CDN; schools get /openapi.json instead
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.api_config = cfg
    app.state.store = store or CaseStore.from_url(settings.case_db_url)
    app.state.store.migrate()
    app.state.warehouse = warehouse
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    install_filters(templates)
    app.state.templates = templates
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    check_routes(app)
    install_sweeper(app)  # escalations, notification retries and digests every minute while serving
    install_schedules(app)  # daily retention and scheduled filter tests
    return app


SETTINGS_ENV = "SERVE_VIGIL_SETTINGS"
"""Where `vigil serve --workers N` passes its resolved settings to worker processes (JSON)."""


def app_from_env() -> FastAPI:
    """uvicorn factory for worker processes: the settings the parent `vigil serve` resolved."""
    import json
    import os

    from vigil.settings import load_settings

    raw = os.environ.get(SETTINGS_ENV)
    settings = Settings(**json.loads(raw)) if raw else load_settings()
    return create_app(settings)
