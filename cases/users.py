"""Local accounts: Argon2id password hashes, roles per school, lock-out, optional TOTP second factor."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cases import audit
from cases import schema as t
from cases.errors import AuthFailed, InvalidInput, NotFound
from cases.store import CaseStore

ROLES: dict[str, str] = {
    "dsl": "Designated Safeguarding Lead: the alert queue, pupil identities, raw events, triage, legal holds",
    "deputy_dsl": "Deputy DSL: the alert queue, pupil identities, raw events and triage",
    "network_manager": "Network manager: ingest health, sources and filter tests; no pupil identities",
    "head_teacher": "Head teacher: escalated alerts and every alert about staff; the audit log",
    "admin": "Administrator: user accounts and roles only, no safeguarding data",
    "staff": "Any member of staff: submits block/allow requests and eSafety concerns; sees only their own",
    "governor": "Governor: the annual review, its sign-off and governance aggregates; no names or identities",
}

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")

_hasher = PasswordHasher()  # argon2-cffi's default is Argon2id with the RFC 9106 low-memory profile
_DUMMY_HASH = _hasher.hash("vigil-dummy-password")


def configure_hasher(time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
    """Change Argon2id cost (tests lower it; production keeps the default)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("vigil-dummy-password")


@dataclass(frozen=True)
class Account:
    """A signed-in person: name, roles per school, and whether TOTP is enabled."""

    id: int
    name: str
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    totp: bool = False
    disabled: bool = False

    def schools_with(self, roles: Iterable[str]) -> list[str]:
        """Schools where this account holds any of `roles`."""
        wanted = set(roles)
        return sorted(s for s, held in self.roles.items() if held & wanted)


def _check_name(name: str) -> str:
    clean = name.strip().lower()
    if not _NAME.match(clean):
        raise InvalidInput("user name: 1-128 characters of a-z 0-9 . _ @ -, starting with a letter or digit")
    return clean


def _check_roles(role: str, schools: Sequence[str]) -> list[str]:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    clean = sorted({s.strip() for s in schools if s and s.strip()})
    if not clean:
        raise InvalidInput("a user needs at least one --school")
    return clean


def create_user(
    store: CaseStore,
    name: str,
    role: str,
    schools: Sequence[str],
    password: str,
    *,
    actor: str = "system",
    totp_secret: str | None = None,
) -> int:
    """Create an account with one role in the given schools; returns its id."""
    uname = _check_name(name)
    school_ids = _check_roles(role, schools)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters")
    with store.engine.begin() as conn:
        if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == uname)).first() is not None:
            raise InvalidInput(f"user {uname} already exists")
        pk = conn.execute(
            sa.insert(t.users).values(
                name=uname,
                password_hash=_hasher.hash(password),
                totp_secret=totp_secret,
                failed_logins=0,
                disabled=False,
                created_at=t.now(),
            )
        ).inserted_primary_key
        assert pk is not None
        uid = pk[0]
        for school in school_ids:
            store.ensure_school(school, conn=conn)
            conn.execute(sa.insert(t.user_roles).values(user_id=uid, school=school, role=role))
            audit.append(
                conn,
                actor=actor,
                action="user.create",
                object_type="user",
                object_id=uname,
                school=school,
                detail={"role": role},
            )
    return int(uid)


def grant(store: CaseStore, name: str, role: str, schools: Sequence[str], *, actor: str = "system") -> None:
    """Give an existing account a role in more schools."""
    school_ids = _check_roles(role, schools)
    with store.engine.begin() as conn:
        uid = conn.execute(sa.select(t.users.c.id).where(t.users.c.name == _check_name(name))).scalar()
        if uid is None:
            raise NotFound(f"no user {name}")
        for school in school_ids:
            store.ensure_school(school, conn=conn)
            exists = conn.execute(
                sa.select(t.user_roles).where(
                    t.user_roles.c.user_id == uid,
                    t.user_roles.c.school == school,
                    t.user_roles.c.role == role,
                )
            ).first()
            if exists is None:
                conn.execute(sa.insert(t.user_roles).values(user_id=uid, school=school, role=role))
                audit.append(
                    conn,
                    actor=actor,
                    action="user.grant",
                    object_type="user",
                    object_id=name,
                    school=school,
                    detail={"role": role},
                )


def load_account(store: CaseStore, user_id: int) -> Account | None:
    """The account with its roles, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            return None
        roles: dict[str, set[str]] = {}
        for school, role in conn.execute(
            sa.select(t.user_roles.c.school, t.user_roles.c.role).where(t.user_roles.c.user_id == user_id)
        ):
            roles.setdefault(school, set()).add(role)
    return Account(
        id=row.id,
        name=row.name,
        roles={s: frozenset(r) for s, r in roles.items()},
        totp=bool(row.totp_secret),
        disabled=bool(row.disabled),
    )


def authenticate(store: CaseStore, name: str, password: str, *, now: datetime | None = None) -> Account:
    """Check a password with lock-out after repeated failures; raises AuthFailed with one generic message."""
    moment = now or t.now()
    failed = AuthFailed("wrong user name or password, or the account is locked")
    try:
        uname = _check_name(name)
    except InvalidInput:
        raise failed from None
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(t.users).where(t.users.c.name == uname)).first()
        if row is None:
            _verify(_DUMMY_HASH, password)  # same work as a real check, so timing does not reveal names
            raise failed
        if row.disabled or (row.locked_until is not None and row.locked_until > moment):
            _verify(_DUMMY_HASH, password)
            audit.append(
                conn,
                actor=uname,
                action="login.refused",
                object_type="user",
                object_id=uname,
                detail={"disabled": bool(row.disabled)},
            )
            raise failed
        if not _verify(row.password_hash, password):
            failures = row.failed_logins + 1
            values: dict[str, Any] = {"failed_logins": failures}
            if failures >= MAX_FAILURES:
                values = {"failed_logins": 0, "locked_until": moment + LOCKOUT}
            conn.execute(sa.update(t.users).where(t.users.c.id == row.id).values(**values))
            audit.append(
                conn,
                actor=uname,
                action="login.failed",
                object_type="user",
                object_id=uname,
                detail={"locked": "locked_until" in values},
            )
            failure_to_raise = failed
        else:
            failure_to_raise = None
            if row.failed_logins or row.locked_until is not None:
                conn.execute(
                    sa.update(t.users).where(t.users.c.id == row.id).values(failed_logins=0, locked_until=None)
                )
            if _hasher.check_needs_rehash(row.password_hash):
                conn.execute(
                    sa.update(t.users).where(t.users.c.id == row.id).values(password_hash=_hasher.hash(password))
                )
    if failure_to_raise is not None:
        raise failure_to_raise  # raised after commit so the failure count sticks
    account = load_account(store, int(row.id))
    assert account is not None
    return account


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(hashed, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_totp(store: CaseStore, user_id: int, code: str) -> bool:
    """Check a TOTP code (one step of clock drift either way)."""
    with store.engine.connect() as conn:
        secret = conn.execute(sa.select(t.users.c.totp_secret).where(t.users.c.id == user_id)).scalar()
    if not secret:
        return False
    return bool(pyotp.TOTP(secret).verify(code.strip(), valid_window=1))


def enable_totp(store: CaseStore, name: str, *, actor: str = "system") -> str:
    """Give an account a new TOTP secret and return it (shown once, for the authenticator app)."""
    secret = pyotp.random_base32()
    with store.engine.begin() as conn:
        result = conn.execute(sa.update(t.users).where(t.users.c.name == _check_name(name)).values(totp_secret=secret))
        if result.rowcount == 0:
            raise NotFound(f"no user {name}")
        audit.append(conn, actor=actor, action="user.totp_enable", object_type="user", object_id=name)
    return secret


def set_disabled(store: CaseStore, name: str, disabled: bool = True, *, actor: str = "system") -> None:
    """Disable (or re-enable) an account; disabling also ends its sessions."""
    uname = _check_name(name)
    with store.engine.begin() as conn:
        uid = conn.execute(sa.select(t.users.c.id).where(t.users.c.name == uname)).scalar()
        if uid is None:
            raise NotFound(f"no user {uname}")
        conn.execute(sa.update(t.users).where(t.users.c.id == uid).values(disabled=disabled))
        if disabled:
            conn.execute(sa.delete(t.sessions).where(t.sessions.c.user_id == uid))
        schools = [s for (s,) in conn.execute(sa.select(t.user_roles.c.school).where(t.user_roles.c.user_id == uid))]
        for school in sorted(set(schools)) or [None]:
            audit.append(
                conn,
                actor=actor,
                action="user.disable" if disabled else "user.enable",
                object_type="user",
                object_id=uname,
                school=school,
            )


def list_users(store: CaseStore, schools: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Accounts (no hashes or secrets) with their roles, optionally only those in `schools`."""
    with store.engine.connect() as conn:
        roles: dict[int, list[dict[str, str]]] = {}
        for uid, school, role in conn.execute(
            sa.select(t.user_roles.c.user_id, t.user_roles.c.school, t.user_roles.c.role)
        ):
            roles.setdefault(uid, []).append({"school": school, "role": role})
        out = []
        for row in conn.execute(sa.select(t.users).order_by(t.users.c.name)):
            held = roles.get(row.id, [])
            if schools is not None and not any(r["school"] in schools for r in held):
                continue
            out.append(
                {
                    "name": row.name,
                    "roles": sorted(held, key=lambda r: (r["school"], r["role"])),
                    "disabled": bool(row.disabled),
                    "totp": bool(row.totp_secret),
                    "locked_until": row.locked_until,
                    "created_at": row.created_at,
                }
            )
    return out
