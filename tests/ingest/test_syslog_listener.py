"""The syslog listener end to end: real senders (raw sockets, SysLogHandler, util-linux `logger`), UDP and
TCP with both framings, 64 KB lines, malformed frames, sender -> school mapping, spool ingest, health."""

from __future__ import annotations

import logging
import logging.handlers
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from ingest_testkit import squid_line

from ingest.health import source_status
from ingest.sources.syslog import ListenSpec
from ingest.syslog_service import SyslogSummary, request_stop, run_syslog
from vigil.settings import Settings, SourceConfig


@dataclass
class Listener:
    settings: Settings
    udp: ListenSpec
    tcp: ListenSpec
    result: list[SyslogSummary]
    thread: threading.Thread

    def stop(self) -> SyslogSummary:
        request_stop()
        self.thread.join(120)
        assert not self.thread.is_alive()
        return self.result[0]


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    """A listener on ephemeral UDP and TCP ports; hostname fw-b.example maps to school-b (squid)."""
    settings = Settings(
        data_dir=tmp_path / "var",
        sources=[SourceConfig(name="fw-b", school="school-b", format="squid", hosts=["fw-b.example"])],
        syslog={"max_frame_bytes": 128 * 1024, "batch_seconds": 0.3},  # type: ignore[call-arg]
        formats={},  # type: ignore[call-arg]
    )
    bound: list[ListenSpec] = []
    ready = threading.Event()
    result: list[SyslogSummary] = []

    def run() -> None:
        result.append(
            run_syslog(
                settings,
                ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"],
                fmt="squid",
                install_signals=False,
                ready=lambda b: (bound.extend(b), ready.set()),
            )
        )

    thread = threading.Thread(target=run)
    thread.start()
    assert ready.wait(30)
    lst = Listener(settings, bound[0], bound[1], result, thread)
    yield lst
    if thread.is_alive():
        lst.stop()


def _line(i: int, host: str = "fw-b.example", *, rfc: str = "3164") -> str:
    if rfc == "5424":
        return f"<134>1 2026-11-24T06:00:00Z {host} squid - - - {squid_line(i, tag='s')}"
    return f"<134>Nov 24 06:00:00 {host} squid: {squid_line(i, tag='s')}"


def _rows(settings: Settings, table: str) -> list[tuple[str, ...]]:
    root = settings.warehouse_dir / table
    if not list(root.glob("**/*.parquet")):
        return []
    cols = "school, raw" if table == "events" else "school, reason, raw"
    q = f"SELECT {cols} FROM read_parquet('{root}/**/*.parquet', hive_partitioning=false)"
    return [tuple(r) for r in duckdb.connect().execute(q).fetchall()]


def _wait_rows(settings: Settings, n: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(_rows(settings, "events")) + len(_rows(settings, "rejects")) >= n:
            return
        time.sleep(0.3)


def test_udp_tcp_framings_big_lines_malformed(listener: Listener) -> None:
    """Every good line lands once with its school; malformed frames are rejects with reasons."""
    big = squid_line(99, tag="big").replace("/page/", "/page/" + "x" * (64 * 1024) + "/")
    expected: list[tuple[str, str]] = []
    # TCP, LF framing, 3164 and 5424 headers, plus a 64 KB line.
    with socket.create_connection(("127.0.0.1", listener.tcp.port)) as s:
        lines = [_line(i) for i in range(50)] + [_line(i, rfc="5424") for i in range(50, 60)]
        lines.append(f"<134>Nov 24 06:00:00 fw-b.example squid: {big}")
        s.sendall(("\n".join(lines) + "\n").encode())
        expected += [("school-b", x) for x in lines]
    # TCP, RFC 6587 octet counting, from an unmapped host (school default), including a 64 KB frame.
    with socket.create_connection(("127.0.0.1", listener.tcp.port)) as s:
        frames = [_line(i, "other-host") for i in range(100, 120)] + [f"<134>Nov 24 06:00:00 other-host sq: {big}"]
        s.sendall(b"".join(f"{len(f.encode())} {f}".encode() for f in frames))
        expected += [("default", x) for x in frames]
    # TCP, octet counting broken mid-stream: the good frame before it lands, then the connection closes.
    with socket.create_connection(("127.0.0.1", listener.tcp.port)) as s:
        ok = _line(130, "other-host")
        s.sendall(f"{len(ok)} {ok}".encode() + b"12x4 garbage\n")
        expected.append(("default", ok))
    # TCP, LF framing, a frame over max_frame_bytes (128 KiB) between two good lines.
    with socket.create_connection(("127.0.0.1", listener.tcp.port)) as s:
        a, b = _line(140, "other-host"), _line(141, "other-host")
        s.sendall(f"{a}\n{'y' * 200_000}\n{b}\n".encode())
        expected += [("default", a), ("default", b)]
    # UDP, raw datagrams (one message each) and an empty one.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(150, 160):
        msg = _line(i)
        u.sendto(msg.encode(), ("127.0.0.1", listener.udp.port))
        expected.append(("school-b", msg))
    u.sendto(b"", ("127.0.0.1", listener.udp.port))
    u.close()
    # Python's SysLogHandler over UDP and over TCP (LF framing; it appends a NUL, which we keep).
    for socktype, transport in ((socket.SOCK_DGRAM, listener.udp), (socket.SOCK_STREAM, listener.tcp)):
        handler = logging.handlers.SysLogHandler(address=("127.0.0.1", transport.port), socktype=socktype)
        handler.append_nul = False
        handler.setFormatter(logging.Formatter("Nov 24 06:00:00 fw-b.example squid: %(message)s"))
        log = logging.getLogger(f"vigil-test-{socktype}")
        log.addHandler(handler)
        log.propagate = False
        if socktype == socket.SOCK_STREAM:
            # SysLogHandler over TCP sends no frame delimiter of its own: add the LF.
            handler.setFormatter(logging.Formatter("Nov 24 06:00:00 fw-b.example squid: %(message)s\n"))
        n = 160 if socktype == socket.SOCK_DGRAM else 170
        for i in range(n, n + 5):
            log.warning(squid_line(i, tag="s"))
            body = f"<12>Nov 24 06:00:00 fw-b.example squid: {squid_line(i, tag='s')}"
            expected.append(("school-b", body))
        handler.close()
    # util-linux logger, when installed: UDP and TCP octet-counted, RFC 5424.
    if shutil.which("logger"):
        for flag, i in (("--udp", 180), ("--tcp", 181)):
            port = listener.udp.port if flag == "--udp" else listener.tcp.port
            subprocess.run(
                [
                    "logger",
                    flag,
                    "--octet-count",
                    "--rfc5424=notq,notime",
                    "--server",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "-t",
                    "squid",
                    squid_line(i, tag="s"),
                ],
                check=True,
            )
    n_logger = 2 if shutil.which("logger") else 0
    want_rows = len(expected) + n_logger + 3  # + rejects: bad octet count, oversized, empty datagram
    _wait_rows(listener.settings, want_rows)
    summary = listener.stop()
    events = _rows(listener.settings, "events")
    got_raw = sorted(events)
    for item in expected:
        assert item in got_raw, f"missing {item[1][:80]}"
    assert len(events) == len(expected) + n_logger
    if n_logger:
        logged = [r for r in events if r[1].startswith("<13>1 ")]
        assert len(logged) == 2 and all(r[0] == "default" for r in logged)  # this host's name: unmapped
    reasons = sorted(r[1] for r in _rows(listener.settings, "rejects"))
    assert reasons == ["bad_octet_count", "empty_frame", "oversized_frame"]
    assert summary.listener.malformed == 3
    assert summary.ingested is not None and summary.ingested.lines == len(events)
    # The spool is empty once everything is committed.
    spool = listener.settings.data_dir / "spool" / "syslog"
    assert list(spool.glob("*/*/*.log")) == []
    health = {s.name: s for s in source_status(listener.settings)}
    assert health["fw-b"].school == "school-b" and health["fw-b"].kind == "syslog"
    assert health["fw-b"].lines == sum(1 for r in events if r[0] == "school-b")
    assert health["fw-b"].last_seen is not None
