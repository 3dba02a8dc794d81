"""`/api/token` (OAuth2 password flow), `/api/me` and sign-out for API clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool

from api.auth import PERMISSIONS, public, require
from api.deps import CurrentPrincipal, StoreDep
from api.models import Me, Token
from cases import sessions, users
from cases.errors import AuthFailed

router = APIRouter(prefix="/api", tags=["account"])


@router.post("/token", dependencies=[public()], response_model=Token)
async def token(
    store: StoreDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    totp: Annotated[str | None, Form(max_length=10)] = None,
) -> dict[str, Any]:
    """Exchange a user name and password (and a TOTP code when enabled) for a bearer token."""
    del grant_type
    account = await run_in_threadpool(users.authenticate, store, username, password)
    ok = bool(totp) and await run_in_threadpool(users.verify_totp, store, account.id, totp or "")
    if account.totp and not ok:
        raise AuthFailed("this account needs a TOTP code (form field totp)")
    raw, _ = await run_in_threadpool(sessions.create, store, account.id, "api")
    return {"access_token": raw, "token_type": "bearer", "expires_in": int(sessions.API_TTL.total_seconds())}


@router.get("/me", dependencies=[require("account.self")], response_model=Me)
def me(principal: CurrentPrincipal) -> dict[str, Any]:
    """The caller's roles and what they allow, per school."""
    return {
        "name": principal.name,
        "roles": {s: sorted(r) for s, r in principal.account.roles.items()},
        "permissions": {p: principal.schools_for(p) for p in PERMISSIONS if principal.schools_for(p)},
    }


@router.delete("/token", dependencies=[require("account.self")], status_code=204)
def revoke(principal: CurrentPrincipal, store: StoreDep) -> None:
    """Revoke the token (or session) used for this request."""
    sessions.end(store, principal.session)
