"""Listing the warehouse for retention: partitions with row counts from Parquet footers (no data read)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from retention.policy import Partition
from warehouse.layout import TABLES, parse_partition

DIR_MODE = 0o700


def partition_files(part: Path) -> list[Path]:
    """The visible Parquet files of a partition (never in-flight `.tmp` ones)."""
    return sorted(p for p in part.glob("*.parquet") if not p.name.startswith("."))


def count_rows(files: list[Path]) -> int:
    """Rows in these Parquet files, from their footers."""
    total = 0
    for f in files:
        try:
            total += pq.read_metadata(f).num_rows
        except FileNotFoundError:
            continue  # compaction replaced it between listing and reading; its rows are in the merged file
    return total


def list_partitions(root: Path, school: str | None = None) -> list[Partition]:
    """Every partition of both tables (optionally one school), with rows, files and bytes."""
    out: list[Partition] = []
    for table in TABLES:
        pattern = f"school={school}/date=*" if school else "school=*/date=*"
        for part in sorted((root / table).glob(pattern)):
            parsed = parse_partition(part)
            if parsed is None or not part.is_dir():
                continue
            files = partition_files(part)
            size = sum(_size(f) for f in files)
            out.append(Partition(table, parsed[0], parsed[1], count_rows(files), len(files), size))
    return out


def private_dirs(path: Path) -> None:
    """Create `path` and any missing parents with owner-only permissions (0700); existing ones are left as is."""
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in this directory durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(f: Path) -> int:
    try:
        return f.stat().st_size
    except FileNotFoundError:
        return 0
