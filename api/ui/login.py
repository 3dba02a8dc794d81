"""Sign-in pages: password, optional TOTP step, sign-out. Cookies are HttpOnly, Secure, SameSite=Strict."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal, public, require
from api.deps import COOKIE, ApiConfigDep, CurrentPrincipal, SettingsDep, StoreDep, session_from_request, sign
from api.ui.common import home_for, render
from cases import audit, sessions, users
from cases.errors import AuthFailed
from cases.users import load_account

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "vigil_login_csrf"


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths (an open redirect would help phishing)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _set_cookie(response: Response, name: str, value: str, secure: bool, max_age: int | None = None) -> None:
    response.set_cookie(name, value, httponly=True, secure=secure, samesite="strict", path="/", max_age=max_age)


def _login_page(
    request: Request, secure: bool, error: str | None = None, status: int = 200, next_path: str | None = None
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, status_code=status, csrf=token, error=error, next=_safe_next(next_path) or ""
    )
    _set_cookie(response, LOGIN_CSRF, token, secure, max_age=3600)
    return response


def _current(request: Request, store: StoreDep, settings: SettingsDep) -> Principal | None:
    sess = session_from_request(request, store, settings)
    if sess is None or sess.pending_totp or sess.kind != "ui":
        return None
    account = load_account(store, sess.user_id)
    if account is None or account.disabled:
        return None
    return Principal(account=account, session=sess)


@router.get("/", dependencies=[public()], response_model=None)
def index(request: Request, store: StoreDep, settings: SettingsDep, cfg: ApiConfigDep) -> Response:
    """The web UI: your home page when signed in, the login page otherwise."""
    principal = _current(request, store, settings)
    if principal is not None:
        return RedirectResponse(home_for(principal), status_code=303)
    return _login_page(request, cfg.cookie_secure)


@router.get("/login", dependencies=[public()], response_model=None)
def login_form(request: Request, cfg: ApiConfigDep, next: str | None = None) -> Response:
    """The sign-in form."""
    return _login_page(request, cfg.cookie_secure, next_path=next)


@router.post("/login", dependencies=[public()], response_model=None)
async def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    cfg: ApiConfigDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the password; then the TOTP step if enabled, else straight in."""
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _login_page(request, cfg.cookie_secure, "Your sign-in form expired. Please try again.", 400, next)
    try:
        account = await run_in_threadpool(users.authenticate, store, username, password)
    except AuthFailed:
        return _login_page(
            request,
            cfg.cookie_secure,
            "Wrong user name or password, or the account is locked. After 5 failed attempts an "
            "account is locked for 15 minutes.",
            401,
            next,
        )
    token, _ = await run_in_threadpool(sessions.create, store, account.id, "ui", pending_totp=account.totp)
    target = (
        "/login/totp" + (f"?next={next}" if _safe_next(next) else "")
        if account.totp
        else (_safe_next(next) or home_for(Principal(account, _)))
    )
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, COOKIE, sign(settings.secret_key, token), cfg.cookie_secure, max_age=cfg.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF, path="/")
    await run_in_threadpool(
        audit.record,
        store,
        actor=account.name,
        action="login",
        object_type="user",
        object_id=account.name,
        detail={"totp_pending": account.totp},
    )
    return response


@router.get("/login/totp", dependencies=[public()], response_model=None)
def totp_form(request: Request, store: StoreDep, settings: SettingsDep, next: str | None = None) -> Response:
    """The second-factor step (only with a half-finished sign-in)."""
    sess = session_from_request(request, store, settings)
    if sess is None or not sess.pending_totp:
        return RedirectResponse("/login", status_code=303)
    return render(request, "totp.html", None, csrf=sess.csrf, error=None, next=_safe_next(next) or "")


@router.post("/login/totp", dependencies=[public()], response_model=None)
async def totp(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    cfg: ApiConfigDep,
    code: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the TOTP code and finish signing in with a fresh session id."""
    sess = session_from_request(request, store, settings)
    if sess is None or not sess.pending_totp or not hmac.compare_digest(sess.csrf, csrf):
        return RedirectResponse("/login", status_code=303)
    if not await run_in_threadpool(users.verify_totp, store, sess.user_id, code):
        return render(
            request,
            "totp.html",
            None,
            status_code=401,
            csrf=sess.csrf,
            next=_safe_next(next) or "",
            error="That code did not match. Codes change every 30 seconds.",
        )
    token, full = await run_in_threadpool(sessions.complete_totp, store, sess)
    account = load_account(store, full.user_id)
    assert account is not None
    response = RedirectResponse(_safe_next(next) or home_for(Principal(account, full)), status_code=303)
    _set_cookie(response, COOKIE, sign(settings.secret_key, token), cfg.cookie_secure, max_age=cfg.session_hours * 3600)
    return response


@router.post("/logout", dependencies=[require("account.self")], response_model=None)
def logout(principal: CurrentPrincipal, store: StoreDep) -> Response:
    """Sign out and forget the session."""
    sessions.end(store, principal.session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
