"""The evidence store: held rows copied out of expired partitions before they are deleted.

Layout: `<data>/evidence/school=<id>/hold=<hold-id>/<partition-date>.parquet` (EVENT_SCHEMA, zstd, 0600 in
0700 directories) and a `SHA256SUMS` file per hold directory in `sha256sum` format, so an auditor can check it
with `sha256sum -c SHA256SUMS` without Vigil. The database keeps its own copy of every checksum
(`hold_evidence`); verification compares the file with both, so altering a file and its SHA256SUMS together is
still caught.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from parsers.schema import EVENT_SCHEMA
from retention.errors import EvidenceError
from retention.scan import fsync_dir, private_dirs
from warehouse.layout import check_school
from warehouse.writer import FILE_MODE, write_atomic

if TYPE_CHECKING:
    from retention.holds import ActiveHold

SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence file written for a hold."""

    path: str
    sha256: str
    rows: int
    bytes: int


@dataclass
class Verification:
    """The result of checking a hold's evidence: per file `ok`, `missing`, `mismatch` or `unlisted`."""

    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file is present and matches both checksums."""
        return all(f["status"] == "ok" for f in self.files)

    def raise_for_failure(self) -> None:
        """Raise EvidenceError naming the first failing file."""
        for f in self.files:
            if f["status"] != "ok":
                raise EvidenceError(f"evidence {f['path']}: {f['status']}")


def evidence_root(data_dir: Path) -> Path:
    """Root of the evidence store."""
    return data_dir / "evidence"


def hold_dir(data_dir: Path, school: str, hold_id: int) -> Path:
    """The directory of one hold's evidence."""
    return evidence_root(data_dir) / f"school={check_school(school)}" / f"hold={int(hold_id)}"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hold_filter(hold: ActiveHold) -> pl.Expr:
    by_user = pl.col("user") == pl.lit(hold.user) if hold.user else pl.lit(False)
    if hold.since is not None and hold.until is not None:
        by_user = by_user & pl.col("ts").is_between(pl.lit(hold.since), pl.lit(hold.until), closed="both")
    if hold.origins:
        by_user = by_user | pl.col("origin").is_in(list(hold.origins))
    return by_user


def select_held(files: list[Path], hold: ActiveHold) -> pa.Table:
    """The rows of these event files that a hold covers, in user, ts, origin order (pushed-down scan)."""
    if not files:
        return EVENT_SCHEMA.empty_table()
    df = (
        pl.scan_parquet([str(f) for f in files], missing_columns="insert", extra_columns="ignore")
        .filter(_hold_filter(hold))
        .sort(["user", "ts", "origin"], nulls_last=True)
        .collect()
    )
    return df.to_arrow().select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)


def count_held(files: list[Path], hold: ActiveHold) -> int:
    """How many rows of these files a hold covers (for the plan)."""
    if not files:
        return 0
    lf = pl.scan_parquet([str(f) for f in files], missing_columns="insert", extra_columns="ignore")
    return int(lf.filter(_hold_filter(hold)).select(pl.len()).collect().item())


def write_evidence(data_dir: Path, hold: ActiveHold, day: date, rows: pa.Table) -> EvidenceFile:
    """Write one partition's held rows for a hold atomically (0600), and record its SHA-256 in SHA256SUMS."""
    target = hold_dir(data_dir, hold.school, hold.id)
    private_dirs(target)
    for stale in target.glob(".*.tmp"):
        stale.unlink(missing_ok=True)  # left by a run killed mid-write
    dest = target / f"{day.isoformat()}.parquet"
    write_atomic(rows, dest)
    digest = sha256_file(dest)
    sums = read_sums(target)
    sums[dest.name] = digest
    _write_sums(target, sums)
    return EvidenceFile(dest.relative_to(data_dir).as_posix(), digest, rows.num_rows, dest.stat().st_size)


def read_sums(target: Path) -> dict[str, str]:
    """File name -> SHA-256 from a hold directory's SHA256SUMS."""
    path = target / SUMS
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            out[name] = digest
    return out


def _write_sums(target: Path, sums: dict[str, str]) -> None:
    tmp = target / f".{SUMS}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.writelines(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target / SUMS)
    fsync_dir(target)


def verify(data_dir: Path, rows: list[dict[str, Any]]) -> Verification:
    """Compare each evidence file's SHA-256 with the database row and the SHA256SUMS beside it."""
    out = Verification()
    for r in rows:
        path = data_dir / r["path"]
        status = "ok"
        actual = None
        if not path.is_file():
            status = "missing"
        else:
            actual = sha256_file(path)
            listed = read_sums(path.parent).get(path.name)
            if actual != r["sha256"]:
                status = "mismatch"
            elif listed != actual:
                status = "unlisted" if listed is None else "mismatch"
        out.files.append({"path": r["path"], "expected": r["sha256"], "actual": actual, "status": status})
    return out


def delete_hold_evidence(data_dir: Path, school: str, hold_id: int) -> int:
    """Remove a released hold's evidence directory; returns the number of files removed."""
    target = hold_dir(data_dir, school, hold_id)
    if not target.exists():
        return 0
    n = sum(1 for _ in target.glob("*.parquet"))
    shutil.rmtree(target)
    fsync_dir(target.parent)
    return n
