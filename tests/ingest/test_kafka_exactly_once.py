"""Exactly once from Kafka into Parquet across `kill -9` of consumer-group workers (real broker, real CLI).

500,000 squid lines in 100-line messages over 4 partitions, produced over ~15 s while two `vigil ingest
--kafka` processes consume them in one group; one worker at a time is killed with SIGKILL at random
moments and restarted. The warehouse must hold every produced line exactly once: the multiset of raw
lines equals what was produced, and every origin is unique; the alert count (keyword alerts on synthetic
searches) equals that of a clean single-worker run over the same topic.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_testkit import VIGIL, Broker, create_topic, produce, squid_line, vigil_env, warehouse_counts, write_config

pytestmark = [pytest.mark.realparts, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

TOTAL_LINES = 500_000
PER_MESSAGE = 100
PARTITIONS = 4


def _config(tmp: Path, bootstrap: str) -> Path:
    return write_config(
        tmp / "vigil.toml",
        f"""
[kafka]
bootstrap = "{bootstrap}"
session_timeout_ms = 6000
heartbeat_interval_ms = 1000
batch_lines = 20000
batch_seconds = 0.5

[[sources]]
name = "school-a-proxy"
school = "school-a"
format = "squid"
hosts = ["10.0.0.1"]
""",
    )


def _messages(start: int, count: int) -> list[tuple[int, bytes, bytes]]:
    out = []
    for m in range(start, start + count):
        lines = [squid_line(m * PER_MESSAGE + i) for i in range(PER_MESSAGE)]
        out.append((m % PARTITIONS, b"10.0.0.1", "\n".join(lines).encode()))
    return out


def _start(topic: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*VIGIL, "ingest", "--kafka", topic, "--group", "eo"],
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,  # noqa: SIM115 - the child owns it
    )


def _expected_parquet(path: Path) -> Path:
    lines = [squid_line(i) for i in range(TOTAL_LINES)]
    pq.write_table(pa.table({"raw": lines}), path)
    return path


def _alert_count(data: Path) -> int | None:
    from detectors.registry import BUILTIN_DETECTORS

    if not BUILTIN_DETECTORS or not (data / "cases.db").exists():
        return None
    import sqlite3

    with sqlite3.connect(data / "cases.db") as con:
        return int(con.execute("SELECT count(*) FROM alerts").fetchone()[0])


def test_kill9_workers_exactly_once(broker: Broker, tmp_path: Path) -> None:
    """Two workers, several SIGKILLs and restarts mid-stream: every line lands exactly once."""
    topic = f"eo-{uuid.uuid4().hex[:8]}"
    create_topic(broker.bootstrap, topic, PARTITIONS)
    data = tmp_path / "var"
    env = vigil_env(_config(tmp_path, broker.bootstrap), data)
    from cases.store import CaseStore

    # Migrate the case store once, so two workers starting together do not race on it.
    data.mkdir(parents=True)
    CaseStore.from_url(f"sqlite:///{data / 'cases.db'}").migrate()

    n_messages = TOTAL_LINES // PER_MESSAGE
    waves = 20

    def producer() -> None:
        per = n_messages // waves
        for w in range(waves):
            produce(broker.bootstrap, topic, _messages(w * per, per))
            time.sleep(0.7)

    prod = threading.Thread(target=producer)
    prod.start()
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    workers = [_start(topic, env, logs[0]), _start(topic, env, logs[1])]
    rng = random.Random(5)
    kills = 0
    try:
        for _ in range(4):
            time.sleep(rng.uniform(2.0, 4.5))
            victim = rng.randrange(2)
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(10)
            kills += 1
            workers[victim] = _start(topic, env, logs[victim])
        prod.join(120)
        deadline = time.monotonic() + 100
        distinct = 0
        while time.monotonic() < deadline:
            _, distinct, _ = warehouse_counts(data)
            if distinct >= TOTAL_LINES:
                break
            time.sleep(1)
        assert distinct == TOTAL_LINES, f"only {distinct} distinct origins after the deadline"
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        codes = [w.wait(30) for w in workers]
    assert kills == 4
    assert codes == [0, 0], "graceful SIGTERM must exit 0: " + " | ".join(p.read_text()[-2000:] for p in logs)
    rows, distinct, rejects = warehouse_counts(data)
    assert (rows, distinct, rejects) == (TOTAL_LINES, TOTAL_LINES, 0)
    expected = _expected_parquet(tmp_path / "expected.parquet")
    con = duckdb.connect()
    got = f"read_parquet('{data}/warehouse/events/**/*.parquet')"
    missing = con.execute(f"SELECT count(*) FROM (SELECT raw FROM '{expected}' EXCEPT ALL SELECT raw FROM {got})")
    assert missing.fetchone() == (0,)
    extra = con.execute(f"SELECT count(*) FROM (SELECT raw FROM {got} EXCEPT ALL SELECT raw FROM '{expected}')")
    assert extra.fetchone() == (0,)
    # Origins follow the contract: kafka:<topic>:<partition>:<offset>:<n>, n = 1..100, one per line.
    shape = con.execute(
        f"SELECT count(*) FILTER (WHERE origin SIMILAR TO 'kafka:{topic}:[0-3]:[0-9]+:[0-9]+'), "
        f"min(CAST(split_part(origin, ':', 5) AS INT)), max(CAST(split_part(origin, ':', 5) AS INT)) FROM {got}"
    ).fetchone()
    assert shape == (TOTAL_LINES, 1, PER_MESSAGE)
    schools = con.execute(f"SELECT DISTINCT school FROM {got}").fetchall()
    assert schools == [("school-a",)]
    alerts = _alert_count(data)
    if alerts is not None:  # detectors are registered: a clean single-worker run must raise the same alerts
        clean = tmp_path / "clean"
        clean_env = vigil_env(_config(tmp_path, broker.bootstrap), clean)
        proc = subprocess.Popen([*VIGIL, "ingest", "--kafka", topic, "--group", "clean"], env=clean_env)
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline and warehouse_counts(clean)[1] < TOTAL_LINES:
            time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert alerts > 0, "the synthetic searches should raise keyword alerts"
        assert alerts == _alert_count(clean)
