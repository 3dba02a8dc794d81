"""Syslog TCP listener: lines/s received and durably written (fsynced to the spool), and ingested.

Usage: .venv/bin/python bench/bench_syslog.py [--lines 1000000] [--connections 2] [--detect]
Starts `vigil syslog --listen tcp://127.0.0.1:PORT --metrics-port M` as a process, sends RFC 3164
framed squid lines over N TCP connections (LF framing) from sender processes, and polls /metrics for
`vigil_syslog_durable_lines_total` (fsynced) and `vigil_ingest_lines_total{kind="syslog"}` (in Parquet).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ingest"))

from ingest_testkit import free_port, squid_line  # noqa: E402


def _payload(first: int, n: int) -> bytes:
    return "".join(f"<134>Nov 24 06:00:00 fw squid: {squid_line(i)}\n" for i in range(first, first + n)).encode()


def _send(port: int, payload: bytes, go: object) -> None:
    go.wait()  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(payload)


def _metric(port: int, name: str) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for m in re.finditer(rf"^{name}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", text, re.M):
        total += float(m.group(1))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--detect", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-syslog-"))
    port, mport = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), VIGIL_DATA_DIR=str(tmp / "var"), VIGIL_LOG_LEVEL="WARNING")
    cmd = [
        sys.executable,
        "-m",
        "vigil.cli",
        "syslog",
        "--listen",
        f"tcp://127.0.0.1:{port}",
        "--format",
        "squid",
        "--metrics-port",
        str(mport),
    ] + ([] if a.detect else ["--no-detect"])
    listener = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    while _metric(mport, "vigil_syslog_durable_lines_total") == 0.0:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    per = a.lines // a.connections
    payloads = [_payload(c * per, per) for c in range(a.connections)]
    go = mp.Event()
    senders = [mp.Process(target=_send, args=(port, p, go)) for p in payloads]
    for s in senders:
        s.start()
    time.sleep(0.5)
    started = time.perf_counter()
    go.set()
    durable_at = ingested_at = None
    total = per * a.connections
    while time.perf_counter() - started < 900:
        durable = _metric(mport, "vigil_syslog_durable_lines_total")
        if durable_at is None and durable >= total:
            durable_at = time.perf_counter() - started
        ingested = _metric(mport, "vigil_ingest_lines_total")
        if ingested >= total:
            ingested_at = time.perf_counter() - started
            break
        time.sleep(0.05)
    for s in senders:
        s.join()
    listener.send_signal(signal.SIGTERM)
    listener.wait(300)
    print(
        json.dumps(
            {
                "lines": total,
                "connections": a.connections,
                "bytes": sum(len(p) for p in payloads),
                "detect": a.detect,
                "received_and_fsynced_lines_per_s": round(total / durable_at) if durable_at else None,
                "ingested_to_parquet_lines_per_s": round(total / ingested_at) if ingested_at else None,
            }
        )
    )


if __name__ == "__main__":
    main()
