"""Atomic, idempotent Parquet writes of one batch into its partitions.

Each batch id is derived from the source position, so a replayed batch overwrites its own files rather
than adding duplicates. Files are written to a temporary name, fsynced and renamed; a manifest per batch
records which partition files it owns, so a replay that produces fewer partitions than before removes
the stale ones. Readers only see `*.parquet` files, never `.tmp` ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.layout import batch_filename, partition_dir

ROW_GROUP_ROWS = 64_000
FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True)
class WriteStats:
    """What one batch write produced."""

    events: int
    rejects: int
    files: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mkdirs(path: Path) -> None:
    """Create a directory and any missing parents, each owner-only (mkdir's parents= ignores the mode)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for d in reversed(missing):
        d.mkdir(mode=DIR_MODE, exist_ok=True)


def write_atomic(table: pa.Table, dest: Path) -> None:
    """Write a Parquet file via temp name + fsync + rename (owner-only permissions)."""
    _mkdirs(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_statistics=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)


def _write_json_atomic(obj: object, dest: Path) -> None:
    _mkdirs(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest)


def _partitions(table: pa.Table, ts_col: str) -> list[tuple[str, date, pa.Table]]:
    """Split a table by (school, UTC date of ts_col), each sorted by user then ts where present."""
    if table.num_rows == 0:
        return []
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(pl.col(ts_col).dt.date().alias("_date"))
    sort_cols = ["user", ts_col] if "user" in df.columns else [ts_col, "origin"]
    out = []
    for (school, day), part in df.partition_by(["school", "_date"], as_dict=True, maintain_order=True).items():
        part = part.drop("_date").sort(sort_cols, nulls_last=True, maintain_order=True)
        out.append((str(school), day, part.to_arrow().cast(table.schema)))
    return out


class WarehouseWriter:
    """Writes batches into `<root>/events` and `<root>/rejects`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifests = root / "_batches"

    def write_batch(self, batch_id: str, events: pa.Table, rejects: pa.Table) -> WriteStats:
        """Write (or rewrite) one batch's events and rejects; idempotent for the same batch id."""
        if events.schema != EVENT_SCHEMA:
            events = events.cast(EVENT_SCHEMA)
        if rejects.schema != REJECT_SCHEMA:
            rejects = rejects.cast(REJECT_SCHEMA)
        name = batch_filename(batch_id)
        written: list[str] = []
        for table_name, table, ts_col in (("events", events, "ts"), ("rejects", rejects, "ts_ingested")):
            for school, day, part in _partitions(table, ts_col):
                dest = partition_dir(self.root, table_name, school, day) / name
                write_atomic(part, dest)
                written.append(dest.relative_to(self.root).as_posix())
        manifest = self.manifests / f"{batch_id}.json"
        previous: list[str] = []
        if manifest.exists():
            previous = json.loads(manifest.read_text())["files"]
        _write_json_atomic({"batch_id": batch_id, "files": written}, manifest)
        for stale in set(previous) - set(written):
            (self.root / stale).unlink(missing_ok=True)
        return WriteStats(events=events.num_rows, rejects=rejects.num_rows, files=len(written))
