"""`kill -9` of `vigil syslog` (real CLI process) and restart: nothing fsynced is lost, nothing doubled.

Rounds of: a TCP sender sends a burst of numbered lines, waits past the 1 s fsync batch, and the listener
is SIGKILLed (often while its spool ingester is mid-batch) and restarted on the same port. One extra
round kills it in the middle of a burst: lines not yet fsynced may be lost there (TCP syslog has no
acknowledgements), but nothing may be duplicated. A final SIGTERM drains the spool.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import duckdb
from ingest_testkit import VIGIL, free_port, squid_line, vigil_env, write_config

BURST = 20_000


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*VIGIL, "syslog", "--listen", f"tcp://127.0.0.1:{port}", "--format", "squid", "--no-detect"],
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,  # noqa: SIM115 - the child owns it
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise AssertionError("listener did not start: " + log.read_text()[-2000:])


def _send(port: int, first: int, n: int, tag: str) -> None:
    payload = "".join(f"<134>Nov 24 06:00:00 fw squid: {squid_line(i, tag=tag)}\n" for i in range(first, first + n))
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(payload.encode())
    except OSError:
        pass  # the listener was killed under us: those lines were never acknowledged


def test_kill9_listener_loses_nothing_fsynced(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = vigil_env(write_config(tmp_path / "vigil.toml", "[syslog]\nbatch_seconds = 0.3\n"), data)
    port = free_port()
    log = tmp_path / "syslog.log"
    rng = random.Random(11)
    proc = _start(port, env, log)
    durable_tags: list[tuple[str, int]] = []
    try:
        for r in range(3):
            tag = f"r{r}-"
            _send(port, 0, BURST, tag)
            durable_tags.append((tag, BURST))
            time.sleep(rng.uniform(0.9, 1.6))  # past the fsync; the ingester is often mid-batch now
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = _start(port, env, log)
        sender = threading.Thread(target=_send, args=(port, 0, 5 * BURST, "mid-"))
        sender.start()
        time.sleep(rng.uniform(0.3, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        sender.join(30)
        proc = _start(port, env, log)
        _send(port, 0, BURST, "last-")
        durable_tags.append(("last-", BURST))
        time.sleep(1.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(300)
    assert code == 0, log.read_text()[-3000:]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT count(*), count(DISTINCT raw), count(DISTINCT origin) "
        f"FROM read_parquet('{data}/warehouse/events/**/*.parquet')"
    ).fetchone()
    assert rows is not None and rows[0] == rows[1] == rows[2], f"duplicates: {rows}"
    for tag, n in durable_tags:
        got = con.execute(
            f"SELECT count(*) FROM read_parquet('{data}/warehouse/events/**/*.parquet') WHERE raw LIKE '%{tag}%'"
        ).fetchone()
        assert got == (n,), f"burst {tag}: {got} of {n} fsynced lines in the warehouse"
    assert list((data / "spool" / "syslog").glob("*/*/*.log")) == [], "the spool drains on SIGTERM"


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    env = vigil_env(write_config(tmp_path / "vigil.toml", ""), tmp_path / "var")
    for args, msg in (
        (["syslog"], "give at least one --listen"),
        (["syslog", "--listen", "udp://nohostport"], "expected udp://HOST:PORT"),
        (["syslog", "--listen", "tls://127.0.0.1:0"], "tls:// needs --cert and --key"),
        (["syslog", "--listen", "udp://127.0.0.1:0", "--format", "nope"], "unknown format"),
    ):
        out = subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out.stderr
        assert msg in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
