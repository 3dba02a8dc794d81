"""Subject-access export: everything Vigil holds about one pupil in one school, as a zip of CSV and JSON.

`export_subject` is what the API calls (its route must check that the caller is the school's DSL: the
`retention.manage` permission) and it writes an audit entry (`sar.export`) with what was exported and why.
Contents: `events.csv` (every warehouse event of the user, oldest first), `evidence_events.csv` (rows kept
for legal holds after their partitions expired), `alerts.json`, `notes.json`, `attachments.json`,
`holds.json`, `access_log.json` (audit entries about the user's alerts and holds: who looked, when, why) and
`README.txt`. Rejected lines are not attributable to a user and are not included (README says so).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from parsers.schema import EVENT_SCHEMA
from retention.errors import RetentionError
from retention.scan import partition_files, private_dirs
from retention.tables import hold_evidence, legal_holds
from warehouse.layout import school_dir

README = """Subject-access export from Vigil (safeguarding monitoring of school internet use)
Subject: {user} in school {school}. Generated {ts} by {actor}.

events.csv            every logged web/DNS request attributed to this user still within retention
evidence_events.csv   requests kept beyond retention because of a legal hold
alerts.json           safeguarding alerts about this user, with their evidence and outcome
notes.json            staff notes on those alerts
attachments.json      evidence snippets attached to those alerts
holds.json            legal holds on this user or their alerts
access_log.json       who viewed or changed these records, when and why
Rejected log lines (lines that could not be read) are not attributable to a person and are not included.
Review the export before release: it may contain third-party data or information exempt from disclosure.
"""


@dataclass(frozen=True)
class SarResult:
    """What an export contains."""

    path: Path
    events: int
    evidence_events: int
    alerts: int
    notes: int
    holds: int


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


def _json(rows: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(list(rows), default=str, indent=1).encode()


def user_events(warehouse_root: Path, school: str, user: str) -> pa.Table:
    """Every event of one user in one school's partitions, oldest first (user-sorted files: few row groups)."""
    base = school_dir(warehouse_root, "events", school)
    files = [str(f) for part in sorted(base.glob("date=*")) for f in partition_files(part)]
    if not files:
        return EVENT_SCHEMA.empty_table()
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        sql = "SELECT * FROM read_parquet(?, union_by_name=true) WHERE user = ? ORDER BY ts, origin"
        out: pa.Table = con.sql(sql, params=[files, user]).to_arrow_table()
    finally:
        con.close()
    return out.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)


def _evidence_events(store: CaseStore, data_dir: Path, hold_ids: list[int], user: str) -> pa.Table:
    if not hold_ids:
        return EVENT_SCHEMA.empty_table()
    e = hold_evidence.c
    q = sa.select(e.path).where(e.hold_id.in_(hold_ids), e.deleted_at.is_(None)).order_by(e.path)
    with store.engine.connect() as conn:
        paths = list(conn.execute(q).scalars())
    tables = [pq.read_table(data_dir / p).cast(EVENT_SCHEMA) for p in paths if (data_dir / p).is_file()]
    if not tables:
        return EVENT_SCHEMA.empty_table()
    merged = pa.concat_tables(tables)
    return merged.filter(pc.equal(merged.column("user"), user))


def export_subject(
    store: CaseStore,
    data_dir: Path,
    *,
    school: str,
    user: str,
    actor: str,
    why: str,
    dest: Path,
) -> SarResult:
    """Write the subject-access zip for (school, user) to `dest` (0600) and audit the export."""
    user = user.strip().lower()
    if not user or not why.strip():
        raise RetentionError("a subject-access export needs the user and a reason")
    a, h = t.alerts.c, legal_holds.c
    with store.engine.connect() as conn:
        alerts = [t.row_dict(r) for r in conn.execute(sa.select(t.alerts).where(a.school == school, a.user == user))]
        ids = [x["id"] for x in alerts]
        notes = [t.row_dict(r) for r in conn.execute(sa.select(t.alert_notes).where(t.alert_notes.c.alert_id.in_(ids)))]
        atts = [
            t.row_dict(r)
            for r in conn.execute(sa.select(t.alert_attachments).where(t.alert_attachments.c.alert_id.in_(ids)))
        ]
        holds = [
            t.row_dict(r)
            for r in conn.execute(
                sa.select(legal_holds).where(h.school == school, sa.or_(h.user == user, h.alert_id.in_(ids)))
            )
        ]
        objects = ids + [str(x["id"]) for x in holds]
        access = [
            t.row_dict(r)
            for r in conn.execute(
                sa.select(t.audit)
                .where(t.audit.c.school == school, t.audit.c.object_id.in_(objects))
                .order_by(t.audit.c.ts, t.audit.c.id)
            )
        ]
    events = user_events(data_dir / "warehouse", school, user)
    kept = _evidence_events(store, data_dir, [int(x["id"]) for x in holds], user)
    ts = datetime.now(UTC).isoformat(timespec="seconds")
    if not dest.parent.exists():
        private_dirs(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", README.format(user=user, school=school, ts=ts, actor=actor))
        zf.writestr("events.csv", _csv(events))
        zf.writestr("evidence_events.csv", _csv(kept))
        zf.writestr("alerts.json", _json(alerts))
        zf.writestr("notes.json", _json(notes))
        zf.writestr("attachments.json", _json(atts))
        zf.writestr("holds.json", _json(holds))
        zf.writestr("access_log.json", _json(access))
    os.replace(tmp, dest)
    result = SarResult(dest, events.num_rows, kept.num_rows, len(alerts), len(notes), len(holds))
    audit.record(
        store,
        actor=actor,
        action="sar.export",
        object_type="subject",
        object_id=user,
        school=school,
        detail={
            "events": result.events,
            "evidence_events": result.evidence_events,
            "alerts": result.alerts,
            "notes": result.notes,
            "holds": result.holds,
        },
        why=why.strip(),
    )
    return result
