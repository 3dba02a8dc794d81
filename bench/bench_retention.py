"""Retention throughput: plan and apply over a synthetic warehouse (one pupil hold), SQLite case store.

Run: .venv/bin/python bench/bench_retention.py [--days 100] [--rows 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from cases.store import CaseStore
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from retention import holds
from retention.job import RetentionJob
from retention.policy import RetentionConfig
from warehouse.writer import WarehouseWriter


def _events(school: str, day: datetime, rows: int) -> pl.DataFrame:
    i = pl.col("i")
    return pl.DataFrame({"i": pl.int_range(0, rows, eager=True)}).select(
        (pl.lit(day).dt.replace_time_zone("UTC") + pl.duration(seconds=i % 86_000)).dt.cast_time_unit("us").alias("ts"),
        pl.lit(school).alias("school"),
        ("pupil" + (i % 500).cast(pl.String)).alias("user"),
        ("http://example.test/" + i.cast(pl.String)).alias("url"),
        ("synthetic line " + i.cast(pl.String)).alias("raw"),
        (f"file:bench-{day.date()}:" + i.cast(pl.String)).alias("origin"),
    )


def main() -> None:
    """Build, plan, apply, print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "var"
        writer = WarehouseWriter(data / "warehouse")
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        t0 = time.perf_counter()
        for school in ("s1", "s2"):
            for age in range(args.days):
                day = today - timedelta(days=age)
                ev = _events(school, day.replace(tzinfo=None), args.rows).to_arrow()
                table = pl.from_arrow(ev)
                assert isinstance(table, pl.DataFrame)
                missing = [n for n in EVENT_SCHEMA.names if n not in table.columns]
                table = table.with_columns(pl.lit(None).alias(n) for n in missing)
                writer.write_batch(
                    f"b-{school}-{age}",
                    table.select(EVENT_SCHEMA.names).to_arrow().cast(EVENT_SCHEMA),
                    REJECT_SCHEMA.empty_table(),
                )
        build = time.perf_counter() - t0
        store = CaseStore.from_url(f"sqlite:///{data / 'cases.db'}")
        store.migrate()
        holds.place_hold(store, school="s1", actor="bench", reason="bench", user="pupil7")
        config = RetentionConfig.model_validate({"schools": {"s2": {"events_days": 60}}})
        job = RetentionJob(data_dir=data, store=store, config=config)
        t0 = time.perf_counter()
        plan = job.plan()
        t_plan = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = job.apply()
        t_apply = time.perf_counter() - t0
        parts = [i for i in result.deleted if i.kind == "partition"]
        rows = sum(i.rows for i in parts)
        print(
            f"warehouse: 2 schools x {args.days} days x {args.rows} rows = {2 * args.days * args.rows} rows "
            f"(built in {build:.1f} s)"
        )
        print(f"plan: {len(plan.items)} items in {t_plan:.2f} s")
        print(
            f"apply: {len(parts)} partitions, {rows} rows deleted, {len(result.evidence)} evidence files "
            f"in {t_apply:.2f} s ({t_apply / max(len(parts), 1) * 1000:.0f} ms per partition)"
        )


if __name__ == "__main__":
    main()
