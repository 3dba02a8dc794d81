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
_DAY_US = 86_400_000_000
NO_DICTIONARY = frozenset({"ts", "raw", "origin", "url", "path", "query", "bytes_in", "bytes_out", "duration_ms"})
"""Columns that are (nearly) unique per row: dictionary encoding them is wasted work before its fallback."""
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
        pq.write_table(
            table,
            fh,
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            write_statistics=True,
            use_dictionary=[n for n in table.column_names if n not in NO_DICTIONARY] or False,
        )
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


def _user_ts_key(keys: pl.DataFrame, ts_col: str) -> pl.Series | None:
    """One Int64 that sorts like (user, ts) within a day: user's rank << 37 | microseconds into the day.

    Sorting one integer is several times cheaper than a two-column sort that compares user strings
    (users repeat: a batch holds a few thousand at most). None when it cannot apply (null timestamps).
    """
    ts = keys[ts_col]
    if ts.null_count() or ts.dtype != pl.Datetime("us", "UTC"):
        return None
    users = keys["user"]
    distinct = users.drop_nulls().unique().sort()  # byte order, as a string sort; nulls rank last
    if distinct.len() >= 1 << 26:
        return None
    rank = users.replace_strict(
        distinct,
        pl.int_range(distinct.len(), dtype=pl.Int64, eager=True),
        default=distinct.len(),
        return_dtype=pl.Int64,
    )
    micros = ts.dt.epoch("us") - keys["_date"].cast(pl.Int64) * _DAY_US  # in [0, 2**37)
    return (rank * (1 << 37) + micros).alias("_key")


def _stable_order(values: pl.Series) -> pl.Series:
    return values.to_frame().select(pl.arg_sort_by(values.name, maintain_order=True)).to_series()


def _partitions(table: pa.Table, ts_col: str) -> list[tuple[str, date, pa.Table]]:
    """Split a table by (school, UTC date of ts_col), each sorted by user then ts where present.

    Partitions come in order of first appearance; rows keep their input order among equal keys. Only
    the key columns go to polars; the table itself is reordered once by an Arrow take and then sliced.
    """
    if table.num_rows == 0:
        return []
    by_user = "user" in table.column_names
    sort_cols = ["user", ts_col] if by_user else [ts_col, "origin"]
    keys = pl.from_arrow(table.select(list(dict.fromkeys(["school", ts_col, *sort_cols]))))
    assert isinstance(keys, pl.DataFrame)
    keys = keys.with_columns(pl.col(ts_col).dt.date().alias("_date")).with_row_index("_i")
    keys = keys.with_columns(pl.col("_i").min().over(["school", "_date"]).alias("_g"))
    runs = keys.group_by("_g", maintain_order=True).agg(pl.col("school").first(), pl.col("_date").first(), pl.len())
    key = _user_ts_key(keys, ts_col) if by_user else None
    if key is None:
        order = keys.select(pl.arg_sort_by(["_g", *sort_cols], nulls_last=True, maintain_order=True)).to_series()
    else:
        # Two stable one-column sorts (key, then partition) order rows like one (partition, key) sort.
        order = _stable_order(key)
        if runs.height > 1:
            order = order.gather(_stable_order(keys["_g"].gather(order)))
    ordered = table.take(order.to_arrow())
    out = []
    offset = 0
    for school, day, n in runs.sort("_g").select("school", "_date", "len").iter_rows():
        out.append((str(school), day, ordered.slice(offset, n)))
        offset += n
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
