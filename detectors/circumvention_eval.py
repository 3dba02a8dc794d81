"""The shipped synthetic evaluation sets (held-out bypasses, ordinary school traffic) as event tables.

Both sets are written for Vigil (detectors/data/circumvention/make_sets.py) and are never used for
training: the domain model learns only from imported lists.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from parsers.schema import EVENT_SCHEMA

DATA_DIR = Path(__file__).parent / "data" / "circumvention"
HELDOUT = DATA_DIR / "heldout_bypass.jsonl"
ORDINARY = DATA_DIR / "ordinary_traffic.jsonl"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def load_set(path: Path, *, one_user_per_row: bool = True) -> tuple[pa.Table, list[str]]:
    """EVENT_SCHEMA rows of a set (each row its own user by default, so alerts map 1:1 to rows) and labels."""
    rows, labels = [], []
    for i, line in enumerate(path.read_text().splitlines()):
        spec = json.loads(line)
        labels.append(str(spec.pop("label", "ordinary")))
        row: dict[str, object] = dict.fromkeys(EVENT_SCHEMA.names)
        row.update(ts=T0 + timedelta(seconds=7 * i), school="eval", source="squid", user_group="students",
                   user=f"pupil{i:04d}" if one_user_per_row else "pupil0000",
                   client_ip=f"10.20.{i // 200}.{i % 200 + 10}",
                   origin=f"file:{path.name}:{i + 1}", raw=line)
        row.update(spec)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), labels
