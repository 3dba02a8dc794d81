"""`/healthz` and `/metrics` (no auth: no personal data in either)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import public
from api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[public()])
def healthz(store: StoreDep, request: Request) -> JSONResponse:
    """200 when the case store answers and the warehouse directory is readable, else 503."""
    settings = request.app.state.settings
    checks = {"cases": store.ping(), "warehouse": _warehouse_ok(settings.warehouse_dir)}
    ok = all(checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)


def _warehouse_ok(path: object) -> bool:
    from pathlib import Path

    p = Path(str(path))
    # A fresh install has no warehouse yet; that is healthy. An unreadable one is not.
    return not p.exists() or p.is_dir()


@router.get("/metrics", dependencies=[public()], include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
