"""Benchmark: AI-tool usage report and review log-coverage figures over a SYNTHETIC warehouse.

    .venv/bin/python bench/bench_governance.py [--events N] [--days D]

Writes N synthetic events (about 8% to AI services) for one school over D days into a temporary warehouse,
then times `governance.ai_tools.usage` (host map + join + aggregates) and `governance.prefill.source_coverage`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from governance import ai_tools, prefill
from governance.config import AiPolicy
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.query import Warehouse
from warehouse.writer import WarehouseWriter

ORDINARY = [
    "www.bbc.co.uk",
    "en.wikipedia.org",
    "www.google.com",
    "classroom.google.com",
    "www.youtube.com",
    "login.microsoftonline.com",
    "www.senecalearning.com",
    "www.mathsisfun.com",
    "cdn.example.net",
]


def build(root: Path, events: int, days: int) -> None:
    """Write the synthetic events, one batch per day."""
    rng = np.random.default_rng(7)
    ai_hosts = [d if d.count(".") > 1 else f"www.{d}" for s in ai_tools.services() for d in s.domains]
    hosts = np.array(ORDINARY * 90 + ai_hosts)  # ~8% of requests go to AI services
    writer = WarehouseWriter(root)
    start = datetime.now(UTC) - timedelta(days=days)
    per_day = events // days
    for day in range(days):
        n = per_day
        users = rng.integers(0, 1500, n)
        frame = pl.DataFrame(
            {
                "ts": [start + timedelta(days=day)] * n,
                "user": [f"pupil{u:04d}" for u in users],
                "host": hosts[rng.integers(0, len(hosts), n)],
            }
        ).with_columns(
            pl.col("ts") + pl.duration(seconds=pl.Series(rng.integers(0, 86_000, n))),
            school=pl.lit("bench"),
            source=pl.lit("squid"),
            observer=pl.lit("proxy1"),
            action=pl.lit("allowed"),
            user_group=pl.when(pl.Series(users) < 150).then(pl.lit("staff")).otherwise(pl.lit("students")),
        )
        full = frame.with_columns([pl.lit(None).alias(c) for c in EVENT_SCHEMA.names if c not in frame.columns])
        table = full.select(EVENT_SCHEMA.names).to_arrow().cast(EVENT_SCHEMA)
        writer.write_batch(f"bench-{day}", table, REJECT_SCHEMA.empty_table())


def main() -> None:
    """Build, time, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-gov-"))
    try:
        t0 = time.perf_counter()
        build(tmp, args.events, args.days)
        print(f"wrote {args.events:,} events over {args.days} days in {time.perf_counter() - t0:.1f}s")
        wh = Warehouse(tmp, threads=2)
        since, until = datetime.now(UTC) - timedelta(days=args.days + 1), datetime.now(UTC) + timedelta(days=1)
        policy = AiPolicy(approved=["microsoft_copilot"], groups={"staff": ["chatgpt", "microsoft_copilot"]})
        for label, fn in (
            ("ai_tools.usage", lambda: ai_tools.usage(wh, "bench", since, until, policy)),
            ("prefill.source_coverage", lambda: prefill.source_coverage(wh, "bench", since, until)),
        ):
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                out = fn()
                best = min(best, time.perf_counter() - t0)
            extra = f"{out['events']:,} AI requests" if "by_group" in out else f"{out['days_with_data']} days"
            print(f"{label:<26} best of 3: {best:.2f}s ({args.events / best / 1e6:.1f}M events/s; {extra})")
        wh.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
