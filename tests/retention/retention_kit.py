"""Synthetic warehouse and case-store data for the retention tests (all names and rows are made up)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cases.store import CaseStore
from detectors.base import Alert
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.writer import WarehouseWriter

USERS = ("alice", "bob", "carol")


def events_table(school: str, day: date, per_user: int = 3, users: tuple[str, ...] = USERS, tag: str = "") -> pa.Table:
    """Synthetic events: `per_user` rows per user spread over the day (09:00 + i minutes)."""
    base = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    rows: dict[str, list[object]] = {name: [] for name in EVENT_SCHEMA.names}
    for u in users:
        for i in range(per_user):
            ts = base + timedelta(minutes=i)
            values: dict[str, object] = {
                "ts": ts,
                "school": school,
                "source": "squid",
                "user": u,
                "action": "allowed",
                "url": f"http://example.test/{u}/{i}",
                "host": "example.test",
                "raw": f"synthetic {school} {day} {u} {i} {tag}",
                "origin": f"file:synthetic-{school}-{day}{tag}:{u}:{i}",
            }
            for name in EVENT_SCHEMA.names:
                rows[name].append(values.get(name))
    return pa.Table.from_pydict(rows, schema=EVENT_SCHEMA)


def rejects_table(school: str, day: date, n: int = 2) -> pa.Table:
    """Synthetic rejects ingested on `day`."""
    base = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
    return pa.Table.from_pydict(
        {
            "ts_ingested": [base + timedelta(seconds=i) for i in range(n)],
            "school": [school] * n,
            "source": ["squid"] * n,
            "origin": [f"file:synthetic-rejects-{school}-{day}:{i}" for i in range(n)],
            "reason": ["bad_line"] * n,
            "raw": [f"junk {i}" for i in range(n)],
        },
        schema=REJECT_SCHEMA,
    )


def build_warehouse(root: Path, today: date, schools: tuple[str, ...] = ("s1", "s2"), max_age: int = 120) -> None:
    """One events and one rejects batch per school and day, aged 0..max_age days."""
    w = WarehouseWriter(root)
    for school in schools:
        for age in range(max_age + 1):
            day = today - timedelta(days=age)
            w.write_batch(f"b-{school}-{day.isoformat()}", events_table(school, day), rejects_table(school, day))


def partition_rows(root: Path) -> dict[str, int]:
    """Rows per partition key (`events/school=s1/date=...`) from the live tree."""
    out: dict[str, int] = {}
    for table in ("events", "rejects"):
        for part in sorted((root / table).glob("school=*/date=*")):
            files = sorted(part.glob("*.parquet"))
            if files:
                out[part.relative_to(root).as_posix()] = sum(pq.read_metadata(f).num_rows for f in files)
    return out


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root: SHA-256 and mode (to prove a dry run changed nothing)."""
    out: dict[str, tuple[str, int]] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
    return out


def add_alert(store: CaseStore, school: str, user: str, when: datetime, rule: str = "r1") -> str:
    """Store one synthetic alert and return its id."""
    alert = Alert(
        school=school,
        ts=when,
        last_ts=when + timedelta(minutes=2),
        user=user,
        client_ip="10.0.0.5",
        detector="keywords",
        rule=rule,
        category="bullying",
        severity=3,
        title="synthetic alert",
        evidence={"events": [], "matched": "synthetic"},
        event_keys=(f"file:synthetic-{school}-{when.date()}:{user}:0",),
    )
    store.upsert_alerts([alert])
    return alert.id
