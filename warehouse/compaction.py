"""Compaction: merge a day's many small batch files into one, atomically, without changing any row.

Only partitions for days before today (UTC) are compacted by default, so live ingest never races it.
The merged file takes the name `compacted-<hash of inputs>.parquet`; inputs are removed after the
rename, and their batch manifests are rewritten to point at nothing (a replay of an old batch after
compaction would otherwise duplicate rows — replays only happen for uncommitted, i.e. recent, batches).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.layout import TABLES, parse_partition
from warehouse.writer import write_atomic

_SCHEMAS = {"events": EVENT_SCHEMA, "rejects": REJECT_SCHEMA}


@dataclass(frozen=True)
class CompactionResult:
    """One compacted partition."""

    partition: str
    files_in: int
    rows: int


def compact_partition(part: Path, table: str) -> CompactionResult | None:
    """Merge every batch file in one partition directory into one sorted file; None if nothing to do."""
    files = sorted(p for p in part.glob("*.parquet"))
    if len(files) < 2:
        return None
    schema = _SCHEMAS[table]
    tables = [pq.read_table(f).cast(schema) for f in files]
    df = pl.from_arrow(pa.concat_tables(tables))
    assert isinstance(df, pl.DataFrame)
    ts_col = "ts" if table == "events" else "ts_ingested"
    sort_cols = ["user", ts_col] if table == "events" else [ts_col, "origin"]
    df = df.sort(sort_cols, nulls_last=True, maintain_order=True)
    digest = hashlib.sha256("|".join(f.name for f in files).encode()).hexdigest()[:16]
    dest = part / f"compacted-{digest}.parquet"
    write_atomic(df.to_arrow().cast(schema), dest)
    for f in files:
        if f != dest:
            f.unlink()
    return CompactionResult(partition=str(part), files_in=len(files), rows=df.height)


def _forget_manifests(root: Path, removed: set[str]) -> None:
    manifests = root / "_batches"
    if not manifests.is_dir():
        return
    for m in manifests.glob("*.json"):
        data = json.loads(m.read_text())
        kept = [f for f in data["files"] if f not in removed]
        if len(kept) != len(data["files"]):
            if kept:
                m.write_text(json.dumps({**data, "files": kept}))
            else:
                m.unlink()


def compact(root: Path, *, school: str | None = None, day: date | None = None) -> list[CompactionResult]:
    """Compact closed partitions (before today UTC), or one given day."""
    today = datetime.now(UTC).date()
    results: list[CompactionResult] = []
    for table in TABLES:
        for part in sorted((root / table).glob("school=*/date=*")):
            parsed = parse_partition(part)
            if parsed is None:
                continue
            p_school, p_day = parsed
            if school and p_school != school:
                continue
            if (day and p_day != day) or (not day and p_day >= today):
                continue
            before = {f.relative_to(root).as_posix() for f in part.glob("*.parquet")}
            res = compact_partition(part, table)
            if res:
                after = {f.relative_to(root).as_posix() for f in part.glob("*.parquet")}
                _forget_manifests(root, before - after)
                results.append(res)
    return results
