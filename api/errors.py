"""HTTP-facing errors and the one handler that maps every VigilError to a status (JSON, or HTML for the UI)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from cases.errors import AuthFailed, InvalidInput, InvalidTransition, NotFound, NotPermitted
from vigil.errors import ConfigError, VigilError


class ApiError(VigilError):
    """Root of errors raised by the API layer itself."""


class NotAuthenticated(ApiError):
    """No valid session cookie or bearer token."""


class Forbidden(NotPermitted):
    """The caller lacks the permission, the school scope, or the object-level right (also for CSRF)."""


class Unavailable(ApiError):
    """A store the request needs cannot be reached (the warehouse, the case database)."""


STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (NotAuthenticated, 401),
    (AuthFailed, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (InvalidTransition, 409),
    (InvalidInput, 422),
    (Unavailable, 503),
    (ConfigError, 500),
    (VigilError, 400),
)


def status_for(exc: BaseException) -> int:
    """The HTTP status for a VigilError."""
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def wants_html(request: Request) -> bool:
    """UI pages answer errors with HTML; /api/* and machine endpoints with JSON."""
    path = request.url.path
    return not (path.startswith("/api/") or path in ("/healthz", "/metrics", "/openapi.json"))


def install(app: FastAPI) -> None:
    """Register the one handler for every VigilError."""

    async def handle(request: Request, exc: Exception) -> Response:
        code = status_for(exc)
        if wants_html(request):
            if code == 401:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                return RedirectResponse(f"/login?next={target}", status_code=303)
            from api.ui.common import render  # the UI imports this module; import late

            principal = getattr(request.state, "principal", None)
            return render(request, "error.html", principal, status_code=code, status=code, message=str(exc))
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    app.add_exception_handler(VigilError, handle)
