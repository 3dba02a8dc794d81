"""`vigil ingest --follow` (the lead's file ingest) under `kill -9`: a growing file, a follower killed at
random points and restarted; the warehouse ends with every line exactly once. Lines are sometimes written
in two pieces, so the follower also meets half-written last lines."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
from ingest_testkit import VIGIL, squid_line, vigil_env, write_config

TOTAL = 60_000


def _writer(path: Path, stop: threading.Event) -> None:
    rng = random.Random(3)
    i = 0
    with open(path, "ab", buffering=0) as fh:
        while i < TOTAL:
            n = min(rng.randint(500, 4000), TOTAL - i)
            chunk = "".join(f"{squid_line(j, tag='fk')}\n" for j in range(i, i + n)).encode()
            if rng.random() < 0.5:
                cut = len(chunk) - rng.randint(5, 80)  # leave the last line half-written for a moment
                fh.write(chunk[:cut])
                time.sleep(rng.uniform(0.05, 0.3))
                fh.write(chunk[cut:])
            else:
                fh.write(chunk)
            i += n
            time.sleep(rng.uniform(0.05, 0.25))
    stop.set()


def _rows(data: Path) -> tuple[int, int]:
    files = list((data / "warehouse" / "events").glob("**/*.parquet"))
    if not files:
        return 0, 0
    row = (
        duckdb.connect()
        .execute(f"SELECT count(*), count(DISTINCT raw) FROM read_parquet('{data}/warehouse/events/**/*.parquet')")
        .fetchone()
    )
    assert row is not None
    return int(row[0]), int(row[1])


def test_follow_resumes_after_kill9_exactly_once(tmp_path: Path) -> None:
    data = tmp_path / "var"
    log_file = tmp_path / "access.log"
    log_file.write_bytes(b"")
    env = vigil_env(write_config(tmp_path / "vigil.toml", ""), data)
    out = tmp_path / "follower.log"

    started = [0.0]

    def start() -> subprocess.Popen[bytes]:
        started[0] = time.monotonic()
        return subprocess.Popen(
            [*VIGIL, "ingest", "--follow", "--format", "squid", "--school", "school-f", "--no-detect", str(log_file)],
            env=env,
            stdout=open(out, "ab"),
            stderr=subprocess.STDOUT,  # noqa: SIM115 - the child owns it
        )

    done = threading.Event()
    writer = threading.Thread(target=_writer, args=(log_file, done))
    # The first line must exist before the follower starts: file identity is derived from it.
    log_file.write_bytes(f"{squid_line(-1, tag='fk')}\n".encode())
    writer.start()
    proc = start()
    rng = random.Random(7)
    kills = 0
    try:
        while not done.is_set() or kills < 4:
            time.sleep(rng.uniform(1.0, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            proc = start()
            if kills > 12:
                break
        writer.join(60)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _rows(data)[1] < TOTAL + 1:
            time.sleep(0.5)
        # Ingest catches up within a second, so the last follower may have been started just now: a SIGTERM
        # during its start-up (before the handler is installed) ends it with -15 instead of a clean stop.
        time.sleep(max(0.0, started[0] + 5.0 - time.monotonic()))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0, out.read_text()[-3000:]
    assert kills >= 4
    assert _rows(data) == (TOTAL + 1, TOTAL + 1), out.read_text()[-2000:]
