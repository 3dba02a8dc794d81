"""Syslog over TLS (self-signed certificate made with openssl), and the listener producing to Kafka."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from ingest_testkit import Broker, create_topic, squid_line

from ingest.sources.syslog import ListenSpec
from ingest.syslog_service import SyslogSummary, request_stop, run_syslog
from vigil.settings import Settings, SourceConfig


def _run(
    settings: Settings, listen: list[str], **kw: object
) -> tuple[threading.Thread, list[ListenSpec], list[SyslogSummary]]:
    bound: list[ListenSpec] = []
    ready = threading.Event()
    out: list[SyslogSummary] = []

    def target() -> None:
        out.append(
            run_syslog(settings, listen, install_signals=False, ready=lambda b: (bound.extend(b), ready.set()), **kw)
        )  # type: ignore[arg-type]

    t = threading.Thread(target=target)
    t.start()
    assert ready.wait(30)
    return t, bound, out


@pytest.mark.skipif(not shutil.which("openssl"), reason="REAL PART MISSING: openssl CLI to make a test certificate")
def test_tls_listener(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    settings = Settings(data_dir=tmp_path / "var")
    t, bound, out = _run(settings, ["tls://127.0.0.1:0"], cert=str(cert), key=str(key), fmt="squid", detect=False)
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    lines = [f"<134>Nov 24 06:00:00 fw squid: {squid_line(i, tag='tls')}" for i in range(20)]
    with socket.create_connection(("127.0.0.1", bound[0].port)) as raw, ctx.wrap_socket(raw) as s:
        s.sendall(b"".join(f"{len(x)} {x}".encode() for x in lines))  # octet counting over TLS (RFC 5425)
    time.sleep(1.0)
    request_stop()
    t.join(60)
    assert out[0].ingested is not None and out[0].ingested.events == 20


def test_tls_needs_cert_and_listen_urls_are_checked(tmp_path: Path) -> None:
    from ingest.errors import IngestError

    with pytest.raises(IngestError, match="needs --cert and --key"):
        run_syslog(Settings(data_dir=tmp_path / "var"), ["tls://127.0.0.1:0"], install_signals=False)
    with pytest.raises(IngestError, match="expected udp://"):
        run_syslog(Settings(data_dir=tmp_path / "var"), ["http://127.0.0.1:1"], install_signals=False)


@pytest.mark.realparts
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", ["batch", "line"])
def test_listener_produces_to_kafka_and_parses_nothing(broker: Broker, tmp_path: Path, mode: str) -> None:
    from kafka import KafkaConsumer, TopicPartition

    topic = f"sys-{mode}-{uuid.uuid4().hex[:6]}"
    create_topic(broker.bootstrap, topic, 1)
    settings = Settings(
        data_dir=tmp_path / "var",
        sources=[SourceConfig(name="fw-k", school="school-k", format="squid", hosts=["fw-k.example"])],
        kafka={"bootstrap": broker.bootstrap, "topic": topic, "message_mode": mode, "lines_per_message": 4},  # type: ignore[call-arg]
    )
    t, bound, out = _run(settings, ["tcp://127.0.0.1:0"])
    lines = [f"<134>Nov 24 06:00:00 fw-k.example squid: {squid_line(i, tag='k')}" for i in range(10)]
    with socket.create_connection(("127.0.0.1", bound[0].port)) as s:
        s.sendall(("\n".join(lines) + "\n").encode())
    time.sleep(1.5)
    request_stop()
    t.join(60)
    assert out[0].ingested is None and out[0].listener.durable == 10
    assert not (settings.warehouse_dir / "events").exists(), "the listener parses nothing when Kafka is on"
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    c.assign([TopicPartition(topic, 0)])
    c.seek_to_beginning()
    got: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(v.count(b"\n") + 1 for _, v in got) < 10:
        for recs in c.poll(timeout_ms=500).values():
            got += [(r.key, r.value) for r in recs]
    c.close()
    assert {k for k, _ in got} == {b"fw-k.example"}  # mapped by header hostname: the key is that name
    assert b"\n".join(v for _, v in got).decode().split("\n") == lines
    assert len(got) == (3 if mode == "batch" else 10)


@pytest.mark.realparts
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_syslog_to_kafka_to_worker_keeps_the_school(broker: Broker, tmp_path: Path) -> None:
    """Listener (hostname-mapped sender) -> Kafka -> worker: the worker maps the key to the same school."""
    from ingest_testkit import warehouse_counts

    from ingest.kafka_worker import KafkaIngestWorker
    from ingest.streamconfig import KafkaConfig

    topic = f"e2e-{uuid.uuid4().hex[:6]}"
    create_topic(broker.bootstrap, topic, 2)
    kafka = {"bootstrap": broker.bootstrap, "topic": topic, "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}
    settings = Settings(
        data_dir=tmp_path / "var",
        sources=[SourceConfig(name="fw-k", school="school-k", format="squid", hosts=["fw-k.example"])],
        kafka=kafka,  # type: ignore[call-arg]
    )
    t, bound, _ = _run(settings, ["udp://127.0.0.1:0"])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lines = [f"<134>Nov 24 06:00:00 fw-k.example squid: {squid_line(i, tag='e2e')}" for i in range(25)]
    for line in lines:
        u.sendto(line.encode(), ("127.0.0.1", bound[0].port))
    u.close()
    time.sleep(1.5)
    request_stop()
    t.join(60)
    worker = KafkaIngestWorker(settings, KafkaConfig.model_validate(kafka), topic=topic, group="e2e", detect=False)
    worker.run(lambda: worker.summary.lines >= 25, max_seconds=60)
    assert warehouse_counts(settings.data_dir) == (25, 25, 0)
    import duckdb

    got = (
        duckdb.connect()
        .execute(f"SELECT DISTINCT school, source FROM read_parquet('{settings.warehouse_dir}/events/**/*.parquet')")
        .fetchall()
    )
    assert got == [("school-k", "squid")]
