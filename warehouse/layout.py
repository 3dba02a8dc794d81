"""Partition paths: `<root>/<table>/school=<id>/date=<YYYY-MM-DD>/<batch-id>.parquet`.

Dates are UTC calendar dates of the event (rejects: of ingestion). School ids are restricted to a safe
character set so a path can never escape the warehouse.
"""

import re
from datetime import date
from pathlib import Path

from vigil.errors import ConfigError

TABLES = ("events", "rejects")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def check_school(school: str) -> str:
    """Return the school id if it is path-safe, else raise ConfigError."""
    if not _SAFE.match(school) or ".." in school:
        raise ConfigError(f"school id {school!r} must be 1-64 letters, digits, '-', '_' or '.'")
    return school


def partition_dir(root: Path, table: str, school: str, day: date) -> Path:
    """The directory holding one school's rows for one day."""
    return root / table / f"school={check_school(school)}" / f"date={day.isoformat()}"


def school_dir(root: Path, table: str, school: str) -> Path:
    """The directory holding all of one school's partitions."""
    return root / table / f"school={check_school(school)}"


def parse_partition(path: Path) -> tuple[str, date] | None:
    """(school, date) of a partition directory, or None if the path is not one."""
    m = re.match(r"^date=(\d{4}-\d{2}-\d{2})$", path.name)
    s = re.match(r"^school=(.+)$", path.parent.name)
    if not m or not s:
        return None
    return s.group(1), date.fromisoformat(m.group(1))


def batch_filename(batch_id: str) -> str:
    """File name of a batch's rows within a partition."""
    if not re.match(r"^[A-Za-z0-9_.\-]+$", batch_id):
        raise ValueError(f"batch id {batch_id!r} has unsafe characters")
    return f"{batch_id}.parquet"
