"""Who may do what: the named permission vocabulary, the role grants, and the checks used by routes.

Every route declares exactly one permission in its decorator (`dependencies=[require("alerts.view")]`) or
is explicitly `public()`. `api.main.create_app` refuses to start if a route declares neither, and
`tests/api/test_route_matrix.py` checks every route x role x school. Object-level checks (staff alerts,
escalated alerts, school scope) are the `can_*` functions below, called by the routes that load objects.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from api.errors import Forbidden
from cases.sessions import Session
from cases.store import Scope
from cases.users import ROLES, Account

SAFEGUARDING = ("dsl", "deputy_dsl")
ALL_STAFF_ROLES = ("dsl", "deputy_dsl", "network_manager", "head_teacher")


@dataclass(frozen=True)
class Permission:
    """A named action, what it allows, and which roles hold it (in the schools they are assigned)."""

    name: str
    description: str
    roles: tuple[str, ...]
    note: str = ""


PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        Permission(
            "account.self",
            "Sign out; see one's own account and roles",
            (*ALL_STAFF_ROLES, "admin", "staff", "governor"),
        ),
        Permission(
            "alerts.view",
            "See the alert queue and alert detail, with pupil identity, evidence and the alert's timeline",
            (*SAFEGUARDING, "head_teacher"),
            "head teacher: escalated alerts and alerts about staff only; DSL and deputy: never staff alerts",
        ),
        Permission(
            "alerts.triage",
            "Triage, add notes to, escalate and close alerts",
            (*SAFEGUARDING, "head_teacher"),
            "head teacher: on alerts escalated to them and alerts about staff",
        ),
        Permission(
            "alerts.export",
            "Export an alert's incident record (PDF, CSV) for CPOMS or MyConcern (every export audited)",
            SAFEGUARDING,
        ),
        Permission(
            "events.view_raw",
            "Search raw events and any pupil's timeline (every call audited)",
            SAFEGUARDING,
        ),
        Permission(
            "reports.aggregate",
            "Aggregate reports without identities (governors read these)",
            (*ALL_STAFF_ROLES, "governor"),
        ),
        Permission("sources.view", "Ingest health: sources, lag and silent sources", ALL_STAFF_ROLES),
        Permission("filtertests.view", "The history of filter-effectiveness checks", ALL_STAFF_ROLES),
        Permission("filtertests.run", "Run filter-effectiveness checks", ("network_manager",)),
        Permission("retention.manage", "Retention settings and legal holds on alerts", ("dsl",)),
        Permission("audit.view", "Read the audit log", ("dsl", "head_teacher")),
        Permission(
            "users.manage", "Create, list and disable accounts in one's schools (no safeguarding data)", ("admin",)
        ),
        Permission(
            "governance.submit",
            "Submit block/allow requests and eSafety concerns; see one's own",
            (*ALL_STAFF_ROLES, "staff"),
        ),
        Permission(
            "governance.view",
            "The block/allow register, annual reviews and AI-use aggregates (no pupil identities)",
            (*ALL_STAFF_ROLES, "governor"),
            "network manager: requests in delegated categories only; governor: no names (roles instead)",
        ),
        Permission(
            "governance.decide",
            "Approve or decline block/allow requests, recording the filter change; run follow-up tests",
            ("dsl", "network_manager"),
            "network manager: only categories the DSL has delegated",
        ),
        Permission("governance.delegate", "Choose which request categories the network manager decides", ("dsl",)),
        Permission(
            "governance.review",
            "Edit the annual review: answers, figures, actions, signatories",
            ("dsl", "head_teacher", "network_manager"),
        ),
        Permission(
            "governance.signoff",
            "Sign off the annual review",
            ("dsl", "head_teacher", "network_manager", "governor"),
            "only the person named for a sign-off, holding its role",
        ),
        Permission("governance.ai_detail", "Per-pupil AI-tool use (every view audited)", ("dsl",)),
    )
}
"""The vocabulary; docs/roles.md is generated from it (a test fails when the two drift)."""

PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def check_csrf(request: Request, expected: str) -> None:
    """Browser form posts must carry the session's CSRF token (form field `csrf` or header X-CSRF-Token)."""
    given = request.headers.get("x-csrf-token")
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf")
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given, expected):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def role_permissions(role: str) -> list[str]:
    """Permission names a role holds."""
    return [name for name, perm in PERMISSIONS.items() if role in perm.roles]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the account, how it signed in (session cookie or bearer token)."""

    account: Account
    session: Session

    @property
    def name(self) -> str:
        """The account name (audit actor)."""
        return self.account.name

    @property
    def via_cookie(self) -> bool:
        """True for browser sessions (which need CSRF tokens on unsafe requests)."""
        return self.session.kind == "ui"

    def schools_for(self, permission: str) -> list[str]:
        """Schools in which this caller holds `permission`."""
        return self.account.schools_with(PERMISSIONS[permission].roles)

    def can(self, permission: str, school: str | None = None) -> bool:
        """True when the caller holds `permission` (in `school` when given, else in any school)."""
        schools = self.schools_for(permission)
        return school in schools if school is not None else bool(schools)

    def alert_visibility(self) -> dict[str, Scope]:
        """Per school, which alerts this caller may see (see cases.store.Scope)."""
        out: dict[str, Scope] = {}
        for school, roles in self.account.roles.items():
            dsl = bool(roles & set(SAFEGUARDING))
            head = "head_teacher" in roles
            if dsl and head:
                out[school] = "all"
            elif dsl:
                out[school] = "safeguarding"
            elif head:
                out[school] = "head_teacher"
        return out

    def roles_in(self, school: str) -> frozenset[str]:
        """Roles held in one school."""
        return self.account.roles.get(school, frozenset())


def _alert_in_scope(principal: Principal, alert: Mapping[str, Any]) -> bool:
    scope = principal.alert_visibility().get(alert["school"])
    if scope is None:
        return False
    if scope == "all":
        return True
    if scope == "safeguarding":
        return bool(alert["subject_kind"] != "staff")
    if scope == "escalated":
        return bool(alert["subject_kind"] != "staff" and alert.get("escalated_to"))
    return bool(alert["subject_kind"] == "staff" or alert.get("escalated_to"))


def can_view_alert(principal: Principal, alert: Mapping[str, Any] | None) -> bool:
    """Object check: this alert is in the caller's schools and their part of the school's alerts."""
    return alert is not None and principal.can("alerts.view", alert["school"]) and _alert_in_scope(principal, alert)


def can_act_on_alert(principal: Principal, alert: Mapping[str, Any] | None) -> bool:
    """Object check for triage/escalate/close/notes: as for viewing, plus the triage permission there."""
    return alert is not None and principal.can("alerts.triage", alert["school"]) and _alert_in_scope(principal, alert)


def check_alert(principal: Principal, alert: Mapping[str, Any] | None, *, act: bool = False) -> Mapping[str, Any]:
    """The alert if the caller may see (or act on) it; else Forbidden, the same for missing and out of scope."""
    allowed = can_act_on_alert(principal, alert) if act else can_view_alert(principal, alert)
    if not allowed or alert is None:
        raise Forbidden("not permitted, or no such alert")
    return alert


def require(permission: str) -> Any:
    """A decorator dependency: the caller must hold `permission` (in the `school` query parameter, if any)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    from api.deps import get_principal  # deps imports this module; import late to avoid a cycle

    async def _check(request: Request, principal: Principal = Depends(get_principal)) -> Principal:
        school = request.query_params.get("school")
        if not principal.can(permission, school or None):
            raise Forbidden(f"not permitted: {permission}" + (f" in school {school}" if school else ""))
        if principal.via_cookie and request.method not in SAFE_METHODS:
            await check_csrf(request, principal.session.csrf)
        return principal

    _check.vigil_permission = permission  # type: ignore[attr-defined]
    return Depends(_check)


def public() -> Any:
    """A decorator dependency marking a route as deliberately open (health, login, static, OpenAPI)."""

    async def _open() -> None:
        return None

    _open.vigil_permission = PUBLIC  # type: ignore[attr-defined]
    return Depends(_open)


def declared_permission(route: Any) -> str | None:
    """The permission a route declared in its decorator, or None (then the app refuses to start)."""
    found = [
        getattr(dep.call, "vigil_permission", None)
        for dep in route.dependant.dependencies
        if getattr(dep.call, "vigil_permission", None)
    ]
    return found[0] if len(found) == 1 else None


def ensure_known_roles() -> None:
    """Every role in the vocabulary exists (guards typos in PERMISSIONS)."""
    for perm in PERMISSIONS.values():
        unknown = set(perm.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"{perm.name}: unknown roles {sorted(unknown)}")
