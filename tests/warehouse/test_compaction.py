"""Compaction merges a closed day's batch files without changing any row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from parsers.base import SourceMeta
from parsers.pipeline import make_batch, parse_batch
from parsers.squid import SquidParser
from warehouse.compaction import compact
from warehouse.writer import WarehouseWriter

DAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def line(ts: datetime, user: str) -> str:
    return f"{ts.timestamp():.3f}      1 10.0.0.5 TCP_MISS/200 500 GET http://bbc.co.uk/ {user} HIER_DIRECT/1.2.3.4 -"


def write(root: Path, batch: str, day: datetime, users: list[str]) -> None:
    lines = [line(day + timedelta(minutes=i), u) for i, u in enumerate(users)]
    r = parse_batch(make_batch(lines), SquidParser(), SourceMeta(school="s1", origin_prefix=f"file:{batch}"))
    WarehouseWriter(root).write_batch(batch, r.events, r.rejects)


def rows(part: Path) -> list[tuple[str, str]]:
    out = []
    for f in sorted(part.glob("*.parquet")):
        t = pq.read_table(f)
        out += list(zip(t.column("origin").to_pylist(), t.column("user").to_pylist(), strict=True))
    return sorted(out)


def test_compaction_merges_closed_days_only(tmp_path: Path) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=1, microsecond=0)
    write(tmp_path, "b1", DAY, ["zed", "amy"])
    write(tmp_path, "b2", DAY, ["bob"])
    write(tmp_path, "b3", today, ["amy"])
    write(tmp_path, "b4", today, ["bob"])
    closed = tmp_path / "events" / "school=s1" / f"date={DAY.date()}"
    live = tmp_path / "events" / "school=s1" / f"date={today.date()}"
    before = rows(closed)
    results = compact(tmp_path)
    assert [r.rows for r in results] == [3]
    assert len(list(closed.glob("*.parquet"))) == 1
    assert rows(closed) == before
    (merged,) = closed.glob("*.parquet")
    assert pq.read_table(merged).column("user").to_pylist() == ["amy", "bob", "zed"]
    assert len(list(live.glob("*.parquet"))) == 2  # today's partition is live: untouched
    # the compacted batches no longer claim files, so nothing stale is deleted later
    assert not (tmp_path / "_batches" / "b1.json").exists()
    assert json.loads((tmp_path / "_batches" / "b3.json").read_text())["files"]
    assert compact(tmp_path) == []  # idempotent
