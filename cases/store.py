"""CaseStore: the SQL store of alerts, triage, notes, users and audit (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from cases import schema as t
from cases.errors import CaseError
from cases.merge import jsonable, merge_row
from detectors.base import Alert

MIGRATIONS = Path(__file__).parent / "migrations"

Scope = Literal["safeguarding", "head_teacher", "all", "escalated"]
"""What part of a school's alerts a caller sees: the DSL queue (pupil and unknown-subject alerts), the head
teacher's (escalated alerts and every staff alert), or both (someone holding both roles); `escalated` is the
DSL's view of what they escalated (pupil alerts only)."""

SUMMARY_COLUMNS = (
    "id",
    "school",
    "ts",
    "last_ts",
    "user",
    "client_ip",
    "detector",
    "rule",
    "category",
    "severity",
    "title",
    "count",
    "status",
    "assignee",
    "subject_kind",
    "legal_hold",
    "escalated_to",
    "outcome",
)
SORTS = {
    "severity": (sa.desc(t.alerts.c.severity), sa.asc(t.alerts.c.ts)),
    "newest": (sa.desc(t.alerts.c.last_ts),),
    "oldest": (sa.asc(t.alerts.c.ts),),
}


@dataclass(frozen=True)
class AlertQuery:
    """Filters for the alert queue; `visibility` maps each school the caller may see to its scope."""

    visibility: Mapping[str, Scope]
    status: str | None = None
    min_severity: int | None = None
    category: str | None = None
    user: str | None = None
    sort: str = "severity"
    limit: int = 50
    offset: int = 0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the API read while ingest writes; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_MIGRATE_LOCK = threading.Lock()


class CaseStore:
    """Alerts, triage state, notes, attachments, users and audit in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str, **engine_kw: Any) -> CaseStore:
        """Open a store: `sqlite:///path` (directory created) or `postgresql+psycopg://...`."""
        try:
            sa_url = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise CaseError(f"cases: bad database URL: {exc}") from exc
        if sa_url.get_backend_name() == "sqlite":
            if sa_url.database and sa_url.database != ":memory:":
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(sa_url, connect_args={"check_same_thread": False, "timeout": 30}, **engine_kw)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine_kw.setdefault("pool_pre_ping", True)
            engine = sa.create_engine(sa_url, **engine_kw)
        return cls(engine)

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every branch (idempotent; run at every start-up)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        # Alembic's `context` proxy is process-global: two threads migrating at once corrupt each other.
        with _MIGRATE_LOCK, self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")  # capabilities add their tables as independent branches

    def revisions(self) -> set[str]:
        """The applied Alembic revision of every branch (empty before migrate())."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return set()
            return {str(v) for v in conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()}

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    # ---- schools ---------------------------------------------------------------------------------
    def ensure_school(self, school: str, name: str = "", conn: Connection | None = None) -> None:
        """Create the school row if missing."""
        with self._conn(conn) as c:
            if c.execute(sa.select(t.schools.c.id).where(t.schools.c.id == school)).first() is None:
                c.execute(sa.insert(t.schools).values(id=school, name=name or school))

    def schools(self) -> list[dict[str, Any]]:
        """Every school known to the store."""
        with self.engine.connect() as c:
            return [t.row_dict(r) for r in c.execute(sa.select(t.schools).order_by(t.schools.c.id))]

    # ---- ingest ----------------------------------------------------------------------------------
    def upsert_alerts(self, alerts: Sequence[Alert]) -> int:
        """Store alerts idempotently by id, folding repeats into stored rows; returns rows created/changed."""
        if not alerts:
            return 0
        incoming: dict[str, dict[str, Any]] = {}
        for alert in alerts:
            row = _alert_row(alert)
            prev = incoming.get(alert.id)
            incoming[alert.id] = row if prev is None else {**prev, **merge_row(prev, row)}
        for attempt in range(3):
            try:
                return self._upsert(incoming)
            except sa.exc.IntegrityError:
                # Another worker inserted one of these ids between our read and write: re-read and merge.
                if attempt == 2:
                    raise
        return 0  # pragma: no cover

    def _upsert(self, incoming: dict[str, dict[str, Any]]) -> int:
        ids = list(incoming)
        changed = 0
        with self.engine.begin() as conn:
            existing: dict[str, dict[str, Any]] = {}
            for start in range(0, len(ids), 500):
                q = sa.select(t.alerts).where(t.alerts.c.id.in_(ids[start : start + 500]))
                if self.dialect == "postgresql":
                    q = q.with_for_update()
                existing.update({r.id: t.row_dict(r) for r in conn.execute(q)})
            schools = {row["school"] for row in incoming.values()}
            for school in schools:
                self.ensure_school(school, conn=conn)
            new_rows = [row for aid, row in incoming.items() if aid not in existing]
            if new_rows:
                conn.execute(sa.insert(t.alerts), new_rows)
                changed += len(new_rows)
            now = t.now()
            for aid, stored in existing.items():
                values = merge_row(stored, incoming[aid])
                if values:
                    values["updated_at"] = now
                    conn.execute(sa.update(t.alerts).where(t.alerts.c.id == aid).values(**values))
                    changed += 1
        return changed

    # ---- reads -----------------------------------------------------------------------------------
    def _visible(self, visibility: Mapping[str, Scope]) -> sa.ColumnElement[bool]:
        a = t.alerts.c
        parts: list[sa.ColumnElement[bool]] = []
        everything = sorted(s for s, sc in visibility.items() if sc == "all")
        if everything:
            parts.append(a.school.in_(everything))
        escalated = sorted(s for s, sc in visibility.items() if sc == "escalated")
        if escalated:
            parts.append(sa.and_(a.school.in_(escalated), a.subject_kind != "staff", a.escalated_to.is_not(None)))
        for scope in ("safeguarding", "head_teacher"):
            schools = sorted(s for s, sc in visibility.items() if sc == scope)
            if not schools:
                continue
            if scope == "safeguarding":
                parts.append(sa.and_(a.school.in_(schools), a.subject_kind != "staff"))
            else:
                parts.append(
                    sa.and_(a.school.in_(schools), sa.or_(a.subject_kind == "staff", a.escalated_to.is_not(None)))
                )
        return sa.or_(*parts) if parts else sa.false()

    def _where(self, q: AlertQuery) -> list[sa.ColumnElement[bool]]:
        a = t.alerts.c
        where = [self._visible(q.visibility)]
        if q.status == "open":
            where.append(a.status != "closed")
        elif q.status:
            where.append(a.status == q.status)
        if q.min_severity:
            where.append(a.severity >= q.min_severity)
        if q.category:
            where.append(a.category == q.category)
        if q.user:
            where.append(a.user == q.user)
        return where

    def list_alerts(self, q: AlertQuery, *, count: bool = True) -> tuple[list[dict[str, Any]], int]:
        """One page of alert summaries (no evidence) and the total matching (-1 when count=False)."""
        cols = [t.alerts.c[name] for name in SUMMARY_COLUMNS]
        where = self._where(q)
        order = SORTS.get(q.sort, SORTS["severity"])
        stmt = sa.select(*cols).where(*where).order_by(*order, t.alerts.c.id).limit(q.limit).offset(q.offset)
        with self.engine.connect() as c:
            rows = [t.row_dict(r) for r in c.execute(stmt)]
            if not count:
                return rows, -1
            total = c.execute(sa.select(sa.func.count()).select_from(t.alerts).where(*where)).scalar_one()
        return rows, int(total)

    def status_counts(self, q: AlertQuery) -> dict[str, int]:
        """How many visible alerts are in each status (ignores the status filter)."""
        base = AlertQuery(visibility=q.visibility, min_severity=q.min_severity, category=q.category, user=q.user)
        stmt = sa.select(t.alerts.c.status, sa.func.count()).where(*self._where(base)).group_by(t.alerts.c.status)
        with self.engine.connect() as c:
            return {str(s): int(n) for s, n in c.execute(stmt)}

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        """The full alert row including evidence, or None."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(t.alerts).where(t.alerts.c.id == alert_id)).first()
        return t.row_dict(row) if row else None

    def previous_alerts(
        self, alert: Mapping[str, Any], visibility: Mapping[str, Scope], limit: int = 20
    ) -> list[dict[str, Any]]:
        """Other visible alerts about the same subject in the same school, newest first."""
        if not alert.get("user"):
            return []
        q = AlertQuery(
            visibility={alert["school"]: visibility[alert["school"]]} if alert["school"] in visibility else {},
            user=alert["user"],
            sort="newest",
            limit=limit + 1,
        )
        rows, _ = self.list_alerts(q, count=False)
        return [r for r in rows if r["id"] != alert["id"]][:limit]

    # ---- notes and attachments -------------------------------------------------------------------
    def notes(self, alert_id: str) -> list[dict[str, Any]]:
        """Notes on an alert, oldest first."""
        n = t.alert_notes.c
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t.alert_notes).where(n.alert_id == alert_id).order_by(n.ts, n.id))
            return [t.row_dict(r) for r in rows]

    def attachments(self, alert_id: str) -> list[dict[str, Any]]:
        """Evidence snippets attached to an alert, oldest first."""
        at = t.alert_attachments.c
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t.alert_attachments).where(at.alert_id == alert_id).order_by(at.id))
            return [t.row_dict(r) for r in rows]

    def _conn(self, conn: Connection | None) -> Any:
        """Use the caller's transaction, or open one."""
        if conn is not None:
            return _Borrowed(conn)
        return self.engine.begin()


class _Borrowed:
    """A context manager that yields an existing connection without committing or closing it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def _aware(ts: datetime) -> datetime:
    """Detectors emit UTC; a naive value is taken as UTC rather than refused."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _alert_row(alert: Alert) -> dict[str, Any]:
    now = t.now()
    keys = list(dict.fromkeys(alert.event_keys))
    return {
        "id": alert.id,
        "school": alert.school,
        "ts": _aware(alert.ts),
        "last_ts": _aware(alert.last_ts),
        "user": alert.user,
        "client_ip": alert.client_ip,
        "detector": alert.detector,
        "rule": alert.rule,
        "category": alert.category,
        "severity": alert.severity,
        "title": alert.title,
        "evidence": jsonable(dict(alert.evidence)),
        "event_keys": keys,
        "count": len(keys),
        "status": "new",
        "assignee": alert.assignee,
        "subject_kind": alert.subject_kind,
        "legal_hold": False,
        "created_at": now,
        "updated_at": now,
    }
