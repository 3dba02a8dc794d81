"""Every FastAPI dependency as an `Annotated` alias (the full-stack template's pattern)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.templating import Jinja2Templates

from api.auth import Principal
from api.config import ApiConfig
from api.errors import NotAuthenticated, Unavailable
from cases import sessions
from cases.store import CaseStore
from vigil.settings import Settings

COOKIE = "vigil_session"


def sign(secret: str, token: str) -> str:
    """Cookie value: the token and an HMAC of it, so a forged cookie never reaches the database."""
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{token}.{mac}"


def unsign(secret: str, value: str) -> str | None:
    """The token inside a signed cookie value, or None if the signature is wrong."""
    token, _, mac = value.rpartition(".")
    if not token or not hmac.compare_digest(sign(secret, token), value):
        return None
    return token


def get_store(request: Request) -> CaseStore:
    """The case store opened at start-up."""
    store: CaseStore = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_api_config(request: Request) -> ApiConfig:
    """The validated `[api]` section."""
    cfg: ApiConfig = request.app.state.api_config
    return cfg


def get_warehouse(request: Request) -> Any:
    """The read-only warehouse (warehouse.query.Warehouse), opened on first use."""
    state = request.app.state
    if getattr(state, "warehouse", None) is None:
        try:
            from warehouse.query import Warehouse
        except ImportError as exc:  # pragma: no cover - the warehouse package ships with Vigil
            raise Unavailable("the warehouse is not available") from exc
        state.warehouse = Warehouse(state.settings.warehouse_dir)
    return state.warehouse


def get_templates(request: Request) -> Jinja2Templates:
    """The Jinja2 templates of the web UI."""
    templates: Jinja2Templates = request.app.state.templates
    return templates


StoreDep = Annotated[CaseStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiConfigDep = Annotated[ApiConfig, Depends(get_api_config)]
WarehouseDep = Annotated[Any, Depends(get_warehouse)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]


def _token(request: Request, settings: Settings) -> tuple[str, str] | None:
    """(token, kind) from the bearer header or the signed session cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), "api"
    cookie = request.cookies.get(COOKIE)
    if cookie:
        token = unsign(settings.secret_key, cookie)
        if token:
            return token, "ui"
    return None


def session_from_request(request: Request, store: CaseStore, settings: Settings) -> sessions.Session | None:
    """The session behind a bearer token or the signed session cookie, if any (TOTP may still be owed)."""
    found = _token(request, settings)
    return sessions.resolve(store, found[0], found[1]) if found else None


def get_principal(request: Request, store: StoreDep, settings: SettingsDep) -> Principal:
    """The signed-in caller; 401 (or the login page, for the UI) otherwise."""
    found = _token(request, settings)
    resolved = sessions.resolve_account(store, found[0], found[1]) if found else None
    if resolved is None or resolved[0].pending_totp:
        raise NotAuthenticated("sign in first (POST /api/token, or the login page)")
    sess, account = resolved
    if account.disabled:
        raise NotAuthenticated("this account is disabled")
    principal = Principal(account=account, session=sess)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
