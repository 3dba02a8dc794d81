"""The append-only audit trail: who did or read what, when, in which school, and why.

The application only ever inserts here; there is no update or delete function, and the migration adds
triggers that refuse UPDATE/DELETE at the database (PostgreSQL and SQLite) so a bug cannot rewrite history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases import schema as t
from cases.merge import jsonable
from cases.store import CaseStore


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None = None,
    school: str | None = None,
    detail: Mapping[str, Any] | None = None,
    why: str | None = None,
) -> None:
    """Insert one audit entry inside the caller's transaction (so it commits with the change it records)."""
    conn.execute(
        sa.insert(t.audit).values(
            ts=t.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            school=school,
            detail=jsonable(dict(detail or {})),
            why=why,
        )
    )


def record(store: CaseStore, **fields: Any) -> None:
    """Insert one audit entry in its own transaction (reads of personal data)."""
    with store.engine.begin() as conn:
        append(conn, **fields)


def entries(
    store: CaseStore,
    schools: Sequence[str],
    *,
    object_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Audit entries for these schools (newest first) and the total."""
    a = t.audit.c
    where: list[sa.ColumnElement[bool]] = [a.school.in_(list(schools))]
    if object_id:
        where.append(a.object_id == object_id)
    if actor:
        where.append(a.actor == actor)
    stmt = sa.select(t.audit).where(*where).order_by(a.ts.desc(), a.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as c:
        rows = [t.row_dict(r) for r in c.execute(stmt)]
        total = c.execute(sa.select(sa.func.count()).select_from(t.audit).where(*where)).scalar_one()
    return rows, int(total)
