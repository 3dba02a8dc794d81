"""User administration for the `admin` role: accounts in the admin's own schools only, no safeguarding data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Principal, require
from api.deps import CurrentPrincipal, StoreDep
from api.errors import Forbidden
from api.models import UserIn, UserOut
from cases import users
from cases.store import CaseStore

router = APIRouter(prefix="/api/admin", tags=["user admin"])


def managed(principal: Principal, store: CaseStore, name: str) -> dict[str, Any]:
    """An account the admin may manage: every school it belongs to is one of the admin's (else 403)."""
    mine = set(principal.schools_for("users.manage"))
    for row in users.list_users(store):
        if row["name"] == name.strip().lower():
            schools = {r["school"] for r in row["roles"]}
            if schools and schools <= mine:
                return row
            break
    raise Forbidden("not permitted, or no such user")


@router.get("/users", dependencies=[require("users.manage")], response_model=list[UserOut])
def list_users(principal: CurrentPrincipal, store: StoreDep, school: str | None = None) -> list[dict[str, Any]]:
    """Accounts with a role in the admin's schools (or in one of them)."""
    return users.list_users(store, [school] if school else principal.schools_for("users.manage"))


@router.post("/users", dependencies=[require("users.manage")], status_code=201, response_model=UserOut)
def create_user(body: UserIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Create an account in some of the admin's schools."""
    if not set(body.schools) <= set(principal.schools_for("users.manage")):
        raise Forbidden("not permitted: users.manage in every school given")
    users.create_user(store, body.name, body.role, body.schools, body.password, actor=principal.name)
    return managed(principal, store, body.name)


@router.post("/users/{name}/disable", dependencies=[require("users.manage")], response_model=UserOut)
def disable_user(name: str, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Disable an account and end its sessions."""
    row = managed(principal, store, name)
    users.set_disabled(store, row["name"], True, actor=principal.name)
    return managed(principal, store, name)
