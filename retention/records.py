"""Case-store side of retention: closed alerts and audit entries past their time, and the deletion record.

Each deletion is recorded twice in the same transaction as the delete itself: a `retention_deletions` row
(unique per run and object, so a re-run after a crash records it once) and an audit entry through
`cases.audit.append` (what, how many rows, when, which rule, which run).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from retention.policy import ClosedAlert
from retention.tables import legal_holds, retention_audit_purges, retention_deletions

ACTOR = "retention"


def closed_alerts(
    store: CaseStore, school: str | None = None, *, alert_id: str | None = None, conn: Connection | None = None
) -> list[ClosedAlert]:
    """Closed alerts with their closing time (the `alert.close` audit entry, else last update) and held flag."""
    a, au, h = t.alerts.c, t.audit.c, legal_holds.c
    closes = (
        sa.select(au.object_id.label("alert_id"), sa.func.max(au.ts).label("closed_at"))
        .where(au.action == "alert.close", au.object_type == "alert")
        .group_by(au.object_id)
        .subquery()
    )
    pupil_held = sa.exists().where(h.kind == "pupil", h.released_at.is_(None), h.school == a.school, h.user == a.user)
    alert_held = sa.exists().where(h.alert_id == a.id, h.released_at.is_(None))
    q = (
        sa.select(
            a.id,
            a.school,
            a.outcome,
            a.updated_at,
            sa.type_coerce(closes.c.closed_at, t.UTCDateTime).label("closed_at"),
            sa.or_(a.legal_hold.is_(sa.true()), pupil_held, alert_held).label("held"),
        )
        .select_from(t.alerts.outerjoin(closes, closes.c.alert_id == a.id))
        .where(a.status == "closed")
        .order_by(a.id)
    )
    if school:
        q = q.where(a.school == school)
    if alert_id:
        q = q.where(a.id == alert_id)
    with store._conn(conn) as c:
        return [ClosedAlert(r.id, r.school, r.outcome, r.closed_at or r.updated_at, bool(r.held)) for r in c.execute(q)]


def alert_dependents(conn: Connection) -> list[tuple[str, str]]:
    """(table, column) pairs holding a foreign key to alerts.id, found by reflection so tables other
    capabilities add later (notifications, attachments...) are cleared before their alert."""
    insp = sa.inspect(conn)
    out: list[tuple[str, str]] = []
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            if fk["referred_table"] == "alerts" and fk["referred_columns"] == ["id"]:
                out.append((table, fk["constrained_columns"][0]))
    return sorted(out)


def delete_alert(conn: Connection, alert_id: str, dependents: list[tuple[str, str]]) -> dict[str, int]:
    """Delete one alert and the rows that reference it; returns rows removed per table."""
    removed: dict[str, int] = {}
    for table, column in dependents:
        tbl = sa.table(table, sa.column(column))
        removed[table] = conn.execute(sa.delete(tbl).where(tbl.c[column] == alert_id)).rowcount
    removed["alerts"] = conn.execute(sa.delete(t.alerts).where(t.alerts.c.id == alert_id)).rowcount
    return removed


def audit_schools(store: CaseStore) -> list[str | None]:
    """Distinct schools in the audit log (None for entries without a school)."""
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(t.audit.c.school).distinct()).scalars(), key=lambda s: s or "")


def _audit_where(school: str | None, cutoff: datetime) -> list[sa.ColumnElement[bool]]:
    au = t.audit.c
    return [au.school.is_(None) if school is None else au.school == school, au.ts < cutoff]


def count_audit(store: CaseStore, school: str | None, cutoff: datetime) -> int:
    """Audit entries of one school older than the cut-off."""
    q = sa.select(sa.func.count()).select_from(t.audit).where(*_audit_where(school, cutoff))
    with store.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def purge_audit(conn: Connection, run_id: str, school: str | None, cutoff: datetime) -> int:
    """Delete one school's audit entries older than the cut-off under a grant opened and closed here."""
    g = retention_audit_purges.c
    grant_id = conn.execute(
        sa.insert(retention_audit_purges)
        .values(run_id=run_id, school=school or "", cutoff=cutoff, state="open", rows=0, ts=t.now())
        .returning(g.id)
    ).scalar_one()
    n = int(conn.execute(sa.delete(t.audit).where(*_audit_where(school, cutoff))).rowcount)
    conn.execute(sa.update(retention_audit_purges).where(g.id == grant_id).values(state="done", rows=n))
    return n


def already_recorded(conn: Connection, run_id: str, kind: str, obj: str) -> bool:
    """True when this run already recorded deleting this object."""
    d = retention_deletions.c
    q = sa.select(d.id).where(d.run_id == run_id, d.kind == kind, d.object == obj)
    return conn.execute(q).first() is not None


def record_deletion(
    conn: Connection,
    *,
    run_id: str,
    kind: str,
    obj: str,
    school: str | None,
    rows: int,
    rule: str,
    cutoff: datetime | None,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Record a deletion and its audit entry (once per run and object); False when already recorded."""
    if already_recorded(conn, run_id, kind, obj):
        return False
    now = t.now()
    conn.execute(
        sa.insert(retention_deletions).values(
            run_id=run_id, kind=kind, object=obj, school=school or "", rows=rows, rule=rule, cutoff=cutoff, ts=now
        )
    )
    audit.append(
        conn,
        actor=ACTOR,
        action=f"retention.delete_{kind}",
        object_type=kind,
        object_id=obj,
        school=school,
        detail={"rows": rows, "rule": rule, "cutoff": cutoff, "run_id": run_id, **(detail or {})},
        why=rule,
    )
    return True


def deletions(store: CaseStore, run_id: str | None = None) -> list[dict[str, Any]]:
    """Recorded deletions (one run, or all), oldest first."""
    d = retention_deletions.c
    q = sa.select(retention_deletions).order_by(d.id)
    if run_id:
        q = q.where(d.run_id == run_id)
    with store.engine.connect() as conn:
        return [t.row_dict(r) for r in conn.execute(q)]
