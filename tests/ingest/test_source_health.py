"""Source health: shards merged across processes, silence measured in school time, `vigil status`, metrics."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ingest_testkit import VIGIL, vigil_env, write_config
from prometheus_client import CollectorRegistry, generate_latest

from ingest.health import SourceShard, school_minutes_between, source_status
from ingest.metrics import SourceHealthCollector
from ingest.streamconfig import HealthConfig
from vigil.settings import Settings, SourceConfig

LONDON = "Europe/London"


def test_school_minutes_skip_nights_and_weekends() -> None:
    cfg = HealthConfig()
    fri_5pm = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # London is UTC in November
    mon_8am = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert school_minutes_between(fri_5pm, mon_8am, LONDON, cfg) == 120.0
    assert school_minutes_between(mon_8am, fri_5pm, LONDON, cfg) == 0.0
    sat = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert school_minutes_between(sat, sat.replace(hour=17), LONDON, cfg) == 0.0


def _settings(tmp: Path) -> Settings:
    return Settings(
        data_dir=tmp / "var",
        sources=[SourceConfig(name="fw-quiet", school="school-q", hosts=["10.9.9.9"])],
        ingest={"silent_after_minutes": 30},  # type: ignore[call-arg]
    )


def _seed(settings: Settings) -> None:
    a = SourceShard(settings, "kafka-raw-0")
    a.add(
        "fw-a",
        school="school-a",
        kind="kafka",
        lines=100,
        events=90,
        rejects=10,
        alerts=1,
        seen=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    a.flush()
    b = SourceShard(settings, "kafka-raw-1")
    b.add("fw-a", school="school-a", kind="kafka", lines=50, events=50, seen=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    b.meta["lag"] = {"topic": "raw", "partition": 1, "lag": 7}
    b.flush()


def test_status_merges_shards_and_flags_silence(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _seed(settings)
    # Reloading a shard keeps its counts (a restarted worker adds to them).
    again = SourceShard(settings, "kafka-raw-0")
    assert again.sources["fw-a"]["lines"] == 100
    now = datetime(2026, 11, 23, 10, 20, tzinfo=UTC)
    st = {s.name: s for s in source_status(settings, now=now)}
    assert (st["fw-a"].lines, st["fw-a"].events, st["fw-a"].rejects, st["fw-a"].alerts) == (150, 140, 10, 1)
    assert st["fw-a"].last_seen == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert not st["fw-a"].silent and st["fw-a"].silent_minutes == 20.0
    assert st["fw-quiet"].last_seen is None and st["fw-quiet"].silent  # configured, never heard from
    later = {s.name: s for s in source_status(settings, now=datetime(2026, 11, 23, 11, 0, tzinfo=UTC))}
    assert later["fw-a"].silent


def test_vigil_status_cli_and_metrics(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _seed(settings)
    cfg = write_config(
        tmp_path / "vigil.toml",
        """
[ingest]
silent_after_minutes = 30

[[sources]]
name = "fw-quiet"
school = "school-q"
hosts = ["10.9.9.9"]
""",
    )
    env = vigil_env(cfg, settings.data_dir)
    out = subprocess.run([*VIGIL, "status", "--json"], env=env, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    by_name = {r["name"]: r for r in rows if "name" in r}
    assert by_name["fw-a"]["lines"] == 150 and by_name["fw-quiet"]["silent"] is True
    assert {
        "kafka_lag": {"topic": "raw", "partition": 1, "lag": 7, "updated": rows[-1]["kafka_lag"]["updated"]}
    } in rows
    table = subprocess.run([*VIGIL, "status"], env=env, capture_output=True, text=True, check=True).stdout
    assert "fw-quiet" in table and "SILENT" in table and "kafka raw[1] lag 7" in table
    failing = subprocess.run([*VIGIL, "status", "--fail-if-silent"], env=env, capture_output=True, text=True)
    assert failing.returncode == 1
    registry = CollectorRegistry()
    registry.register(SourceHealthCollector(settings))
    text = generate_latest(registry).decode()
    assert 'vigil_source_silent{school="school-q",source="fw-quiet"} 1.0' in text
    assert 'vigil_source_last_seen_seconds{school="school-a",source="fw-a"}' in text


def test_syslog_metrics_endpoint(tmp_path: Path) -> None:
    """`--metrics-port`: /metrics shows lines received, made durable and ingested, and source health."""
    import socket
    import threading
    import time
    import urllib.request

    from ingest_testkit import free_port, squid_line

    from ingest.syslog_service import request_stop, run_syslog

    settings = Settings(data_dir=tmp_path / "var")
    port = free_port()
    ready = threading.Event()
    bound: list[object] = []

    def run() -> None:
        run_syslog(
            settings,
            ["tcp://127.0.0.1:0"],
            fmt="squid",
            detect=False,
            metrics_port=port,
            install_signals=False,
            ready=lambda b: (bound.extend(b), ready.set()),
        )

    t = threading.Thread(target=run)
    t.start()
    assert ready.wait(30)
    import re

    def scrape() -> str:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()

    def value(text: str, name: str) -> float:
        # Counters are per process: other tests in this session may have counted lines from 127.0.0.1 too.
        m = re.search(rf'^{name}{{kind="syslog",source="127.0.0.1"}} ([0-9.e+]+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    before = scrape()
    with socket.create_connection(("127.0.0.1", bound[0].port)) as s:  # type: ignore[attr-defined]
        s.sendall("".join(f"<134>Nov 24 06:00:00 fw squid: {squid_line(i, tag='m')}\n" for i in range(30)).encode())
    text = before
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and value(text, "vigil_ingest_lines_total") < value(before, "vigil_ingest_lines_total") + 30
    ):
        time.sleep(0.3)
        text = scrape()
    request_stop()
    t.join(60)
    for name in ("vigil_ingest_lines_total", "vigil_ingest_events_total"):
        assert value(text, name) == value(before, name) + 30, name
    assert "vigil_syslog_durable_lines_total" in text and "vigil_ingest_batch_seconds_bucket" in text
    assert 'vigil_source_silent{school="default",source="127.0.0.1"} 0.0' in text


def test_file_sources_are_not_reported_silent_before_anything_records_them(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", sources=[SourceConfig(name="squid-file", path="/var/log/x.log")])
    assert source_status(settings) == []
