"""The spool's crash window, made deterministic: a batch written to Parquet whose checkpoint never got
committed is replayed (possibly with a different extent) and overwrites itself; segments then go away."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ingest_testkit import squid_line

from ingest.spool import SpoolWriter
from ingest.spool_ingest import SpoolIngester
from vigil.settings import Settings


class Crash(Exception):
    """Stands in for kill -9 right after a durable write."""


def _fill(spool: SpoolWriter, n: int) -> None:
    for start in range(0, n, 1000):
        data = "".join(f"{squid_line(i, tag='sp')}\n" for i in range(start, start + 1000)).encode()
        spool.append("school-a", "proxy", data, 1000)
        spool.flush()


def _counts(settings: Settings) -> tuple[int, int]:
    row = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT raw) FROM read_parquet('{settings.warehouse_dir}/events/**/*.parquet')"
        )
        .fetchone()
    )
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("crash_after", [1, 2, 3])
def test_uncommitted_batch_is_replayed_not_doubled(tmp_path: Path, crash_after: int) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    root = tmp_path / "var" / "spool" / "syslog"
    spool = SpoolWriter(root)
    _fill(spool, 5000)
    first = SpoolIngester(
        settings, root, durable_size=spool.durable_size, fmt="squid", detect=False, batch_bytes=150_000
    )
    calls = {"n": 0}
    real = first.pipeline.process

    def process_then_crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == crash_after:
            raise Crash
        return out

    first.pipeline.process = process_then_crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        first.run_once()
    assert _counts(settings)[0] > 0
    # A restarted ingester with a different batch size: the replayed batch starts at the same offset.
    second = SpoolIngester(
        settings, root, durable_size=spool.durable_size, fmt="squid", detect=False, batch_bytes=400_000
    )
    second.run_once()
    assert _counts(settings) == (5000, 5000)
    spool.close()  # the open segment becomes closed ...
    second.run_once()  # ... and, fully committed, is deleted
    assert list(root.glob("*/*/*.log")) == []
    assert _counts(settings) == (5000, 5000)


def test_unrecognised_format_waits_then_rejects(tmp_path: Path) -> None:
    """A sender nobody can parse: a few lines wait for detection; a closed segment becomes rejects."""
    settings = Settings(data_dir=tmp_path / "var")
    root = tmp_path / "var" / "spool" / "syslog"
    spool = SpoolWriter(root)
    garbage = "".join(f"<13>Nov 24 06:00:00 box app: nothing any parser knows {i}\n" for i in range(20)).encode()
    spool.append("default", "box", garbage, 20)
    spool.flush()
    ing = SpoolIngester(settings, root, durable_size=spool.durable_size, detect=False)
    assert ing.run_once() == 0  # open segment, too few lines to give up on detection
    assert not (settings.warehouse_dir / "rejects").exists()
    spool.close()
    assert ing.run_once() == 20
    reasons = (
        duckdb.connect()
        .execute(
            f"SELECT reason, count(*) FROM read_parquet('{settings.warehouse_dir}/rejects/**/*.parquet') GROUP BY 1"
        )
        .fetchall()
    )
    assert reasons == [("format_not_recognised", 20)]
    assert list(root.glob("*/*/*.log")) == []


def test_idle_segment_rotates_by_age(tmp_path: Path) -> None:
    """A source that went quiet: its open segment still rotates, is read to the end and deleted."""
    import time

    settings = Settings(data_dir=tmp_path / "var")
    root = tmp_path / "var" / "spool" / "syslog"
    spool = SpoolWriter(root, segment_seconds=1.0)
    _fill(spool, 1000)
    ing = SpoolIngester(settings, root, durable_size=spool.durable_size, fmt="squid", detect=False)
    assert ing.run_once() == 1000
    assert len(list(root.glob("*/*/*.open.log"))) == 1
    time.sleep(1.1)
    spool.flush()  # nothing pending: still rotates the old segment
    ing.run_once()
    assert list(root.glob("*/*/*.log")) == []
    assert _counts(settings) == (1000, 1000)
