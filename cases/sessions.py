"""Server-side sessions (UI cookies) and bearer tokens (API): random tokens stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from cases import schema as t
from cases.store import CaseStore
from cases.users import Account

UI_TTL = timedelta(hours=8)
API_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    """A live session or token: whose it is, its CSRF token, and whether the TOTP step is still owed."""

    token_hash: str
    user_id: int
    kind: str
    csrf: str
    pending_totp: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    store: CaseStore, user_id: int, kind: str, *, pending_totp: bool = False, ttl: timedelta | None = None
) -> tuple[str, Session]:
    """Start a session (`ui`) or token (`api`); returns the secret token (never stored) and the session."""
    token = secrets.token_urlsafe(32)
    now = t.now()
    life = ttl or (UI_TTL if kind == "ui" else API_TTL)
    sess = Session(_hash(token), user_id, kind, secrets.token_urlsafe(24), pending_totp)
    with store.engine.begin() as conn:
        # Expired rows are swept opportunistically so the table never grows without bound.
        conn.execute(sa.delete(t.sessions).where(t.sessions.c.expires_at < now))
        conn.execute(
            sa.insert(t.sessions).values(
                token_hash=sess.token_hash,
                user_id=user_id,
                kind=kind,
                csrf=sess.csrf,
                pending_totp=pending_totp,
                created_at=now,
                expires_at=now + life,
            )
        )
    return token, sess


def resolve(store: CaseStore, token: str, kind: str) -> Session | None:
    """The live session for a token of this kind, or None."""
    s = t.sessions.c
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(t.sessions).where(s.token_hash == _hash(token), s.kind == kind, s.expires_at > t.now())
        ).first()
    if row is None:
        return None
    return Session(row.token_hash, row.user_id, row.kind, row.csrf, bool(row.pending_totp))


def complete_totp(store: CaseStore, session: Session) -> tuple[str, Session]:
    """Replace a half-signed-in session by a full one (a new token, so a fixated id is useless)."""
    end(store, session)
    return create(store, session.user_id, session.kind)


def end(store: CaseStore, session: Session) -> None:
    """Sign out: delete the session row."""
    with store.engine.begin() as conn:
        conn.execute(sa.delete(t.sessions).where(t.sessions.c.token_hash == session.token_hash))


def resolve_account(store: CaseStore, token: str, kind: str) -> tuple[Session, Account] | None:
    """The live session and its enabled account with roles, in one query (every request does this)."""
    s, u, r = t.sessions.c, t.users.c, t.user_roles.c
    stmt = (
        sa.select(
            s.token_hash, s.user_id, s.kind, s.csrf, s.pending_totp, u.name, u.totp_secret, u.disabled, r.school, r.role
        )
        .select_from(t.sessions.join(t.users, u.id == s.user_id).outerjoin(t.user_roles, r.user_id == u.id))
        .where(s.token_hash == _hash(token), s.kind == kind, s.expires_at > t.now())
    )
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    if not rows:
        return None
    first = rows[0]
    roles: dict[str, set[str]] = {}
    for row in rows:
        if row.school is not None:
            roles.setdefault(row.school, set()).add(row.role)
    sess = Session(first.token_hash, first.user_id, first.kind, first.csrf, bool(first.pending_totp))
    account = Account(
        id=first.user_id,
        name=first.name,
        roles={k: frozenset(v) for k, v in roles.items()},
        totp=bool(first.totp_secret),
        disabled=bool(first.disabled),
    )
    return sess, account
