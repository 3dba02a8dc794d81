"""The writer's partition split and ordering match the plain polars definition on awkward inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.writer import _partitions

BASE = datetime(2026, 11, 23, 23, 59, 58, tzinfo=UTC)


def reference(table: pa.Table, ts_col: str) -> list[tuple[str, object, pa.Table]]:
    """The definition: partition by (school, UTC date) in order of appearance, stable sort by user then ts."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(pl.col(ts_col).dt.date().alias("_date"))
    sort_cols = ["user", ts_col] if "user" in df.columns else [ts_col, "origin"]
    out = []
    for (school, day), part in df.partition_by(["school", "_date"], as_dict=True, maintain_order=True).items():
        part = part.drop("_date").sort(sort_cols, nulls_last=True, maintain_order=True)
        out.append((str(school), day, part.to_arrow().cast(table.schema)))
    return out


def assert_same(got: Sequence[tuple[str, object, pa.Table]], want: Sequence[tuple[str, object, pa.Table]]) -> None:
    assert [(s, d) for s, d, _ in got] == [(s, d) for s, d, _ in want]
    for (_, _, g), (_, _, w) in zip(got, want, strict=True):
        assert g.schema.equals(w.schema, check_metadata=True)
        assert g.equals(w)


rows = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2"]),
        st.integers(min_value=-3_000_000, max_value=3_000_000),  # microseconds around midnight: two days
        st.one_of(st.none(), st.sampled_from(["amy", "zed", "Bob", "b", "", "é", "amy2"])),
        st.integers(min_value=0, max_value=10**6),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows)
def test_events_partition_order_matches_definition(data: list[tuple[str, int, str | None, int]]) -> None:
    n = len(data)
    cols = {
        "ts": pa.array(
            [BASE + timedelta(seconds=2, microseconds=us) for _, us, _, _ in data], EVENT_SCHEMA.field("ts").type
        ),
        "school": pa.array([s for s, _, _, _ in data], pa.string()),
        "user": pa.array([u for _, _, u, _ in data], pa.string()),
        "bytes_in": pa.array([b for _, _, _, b in data], pa.int64()),  # tells tied rows apart
    }
    table = pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in EVENT_SCHEMA}, schema=EVENT_SCHEMA)
    assert_same(_partitions(table, "ts"), reference(table, "ts"))


@settings(max_examples=50, deadline=None)
@given(rows)
def test_rejects_partition_order_matches_definition(data: list[tuple[str, int, str | None, int]]) -> None:
    n = len(data)
    cols = {
        "ts_ingested": pa.array(
            [BASE + timedelta(microseconds=us) for _, us, _, _ in data], REJECT_SCHEMA.field("ts_ingested").type
        ),
        "school": pa.array([s for s, _, _, _ in data], pa.string()),
        "origin": pa.array([u for _, _, u, _ in data], pa.string()),
        "raw": pa.array([str(b) for _, _, _, b in data], pa.string()),
    }
    table = pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in REJECT_SCHEMA}, schema=REJECT_SCHEMA)
    assert_same(_partitions(table, "ts_ingested"), reference(table, "ts_ingested"))
