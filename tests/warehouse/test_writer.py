"""Atomic, idempotent Parquet writes and pruned DuckDB reads."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parsers.base import SourceMeta
from parsers.pipeline import make_batch, parse_batch
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from parsers.squid import SquidParser
from warehouse.query import Warehouse
from warehouse.writer import WarehouseWriter

DAY1 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def squid_line(ts: datetime, user: str, url: str = "http://bbc.co.uk/news") -> str:
    return f"{ts.timestamp():.3f}      1 10.0.0.5 TCP_MISS/200 500 GET {url} {user} HIER_DIRECT/1.2.3.4 text/html"


def parsed(lines: list[str], school: str = "s1") -> tuple[pa.Table, pa.Table]:
    r = parse_batch(make_batch(lines), SquidParser(), SourceMeta(school=school, origin_prefix="file:t"))
    return r.events, r.rejects


def count(root: Path, school: str = "s1") -> int:
    return (
        Warehouse(root)
        .events(school, since=DAY1 - timedelta(days=5), until=DAY1 + timedelta(days=5), limit=None)
        .num_rows
    )


def test_rewriting_a_batch_replaces_it(tmp_path: Path) -> None:
    ev, rj = parsed([squid_line(DAY1, "alice"), squid_line(DAY1, "bob"), "junk"])
    w = WarehouseWriter(tmp_path)
    w.write_batch("b1", ev, rj)
    w.write_batch("b1", ev, rj)
    assert count(tmp_path) == 2
    w.write_batch("b2", ev, rj)
    assert count(tmp_path) == 4


def test_replay_with_fewer_partitions_removes_stale_files(tmp_path: Path) -> None:
    w = WarehouseWriter(tmp_path)
    ev, rj = parsed([squid_line(DAY1, "alice"), squid_line(DAY1 + timedelta(days=1), "alice")])
    w.write_batch("b1", ev, rj)
    assert count(tmp_path) == 2
    ev2, rj2 = parsed([squid_line(DAY1, "alice")])
    w.write_batch("b1", ev2, rj2)
    assert count(tmp_path) == 1


def test_rows_are_sorted_by_user_then_ts_and_files_are_private(tmp_path: Path) -> None:
    lines = [squid_line(DAY1 + timedelta(minutes=i), u) for i, u in enumerate(["zed", "amy", "zed", "amy"])]
    ev, rj = parsed(lines)
    WarehouseWriter(tmp_path).write_batch("b1", ev, rj)
    (f,) = list((tmp_path / "events").rglob("*.parquet"))
    t = pq.read_table(f)
    assert t.column("user").to_pylist() == ["amy", "amy", "zed", "zed"]
    ts = t.column("ts").to_pylist()
    assert ts[0] < ts[1] and ts[2] < ts[3]
    assert os.stat(f).st_mode & 0o077 == 0
    assert t.schema.equals(EVENT_SCHEMA, check_metadata=False)


def test_crash_during_write_leaves_no_visible_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = WarehouseWriter(tmp_path)
    ev, rj = parsed([squid_line(DAY1, "alice")])
    w.write_batch("b0", ev, rj)

    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        w.write_batch("b1", ev, rj)
    monkeypatch.undo()
    # the temp file may exist, but readers only see complete *.parquet files
    assert any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))
    assert count(tmp_path) == 1
    w.write_batch("b1", ev, rj)  # the replay succeeds
    assert count(tmp_path) == 2


def test_queries_prune_to_one_school(tmp_path: Path) -> None:
    w = WarehouseWriter(tmp_path)
    ev, rj = parsed([squid_line(DAY1, "alice")], school="s1")
    w.write_batch("b1", ev, rj)
    # a corrupt file in another school's partition is never opened by a query for s1
    other = tmp_path / "events" / "school=s2" / f"date={DAY1.date()}"
    other.mkdir(parents=True)
    (other / "bad.parquet").write_bytes(b"not parquet")
    assert count(tmp_path, "s1") == 1
    wh = Warehouse(tmp_path)
    tl = wh.timeline("s1", "alice", DAY1, minutes=5)
    assert tl.column("user").to_pylist() == ["alice"]
    assert wh.events("s1", since=DAY1, until=DAY1 + timedelta(hours=1), user="bob").num_rows == 0
    assert wh.summary("s1", since=DAY1 - timedelta(days=1), until=DAY1 + timedelta(days=1))["events"] == 1


def test_rejects_land_in_their_own_table(tmp_path: Path) -> None:
    ev, rj = parsed(["not a squid line"])
    WarehouseWriter(tmp_path).write_batch("b1", ev, rj)
    (f,) = list((tmp_path / "rejects").rglob("*.parquet"))
    t = pq.read_table(f)
    assert t.schema.equals(REJECT_SCHEMA, check_metadata=False)
    assert t.column("reason").to_pylist() == ["not_squid_native"]


def test_every_directory_the_writer_creates_is_owner_only(tmp_path: Path) -> None:
    ev, rj = parsed([squid_line(DAY1, "alice"), "junk"])
    WarehouseWriter(tmp_path / "wh").write_batch("b1", ev, rj)
    for d in [p for p in (tmp_path / "wh").rglob("*") if p.is_dir()] + [tmp_path / "wh"]:
        assert os.stat(d).st_mode & 0o077 == 0, d


def test_a_query_survives_a_file_removed_after_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = WarehouseWriter(tmp_path)
    ev, rj = parsed([squid_line(DAY1, "alice")])
    w.write_batch("b1", ev, rj)
    w.write_batch("b2", ev, rj)
    wh = Warehouse(tmp_path)
    real_files = Warehouse.files
    calls = []

    def stale_then_fresh(self: Warehouse, table: str, school: str, since: datetime, until: datetime) -> list[str]:
        listed = real_files(self, table, school, since, until)
        calls.append(1)
        if len(calls) == 1:  # as if retention renamed this file away between listing and reading
            gone = Path(listed[0])
            gone.unlink()
        return listed

    monkeypatch.setattr(Warehouse, "files", stale_then_fresh)
    got = wh.events("s1", since=DAY1 - timedelta(hours=1), until=DAY1 + timedelta(hours=1))
    assert got.num_rows == 1 and len(calls) == 2


def test_source_health_reports_last_event_per_source(tmp_path: Path) -> None:
    ev, rj = parsed([squid_line(DAY1, "alice"), squid_line(DAY1 + timedelta(minutes=5), "bob")])
    WarehouseWriter(tmp_path).write_batch("b1", ev, rj)
    (row,) = Warehouse(tmp_path).source_health("s1", since=DAY1 - timedelta(days=1), until=DAY1 + timedelta(days=1))
    assert row["source"] == "squid" and row["events"] == 2
    assert row["last_ts"] == DAY1 + timedelta(minutes=5)
