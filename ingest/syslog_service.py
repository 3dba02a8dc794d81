"""`vigil syslog`: listeners + sink + (without Kafka) the spool ingester thread, until SIGTERM/SIGINT.

Without Kafka: lines are spooled and fsynced per batch (`[syslog] batch_lines` / `batch_seconds`), and a
thread ingests the spool with file checkpoints, so a `kill -9` loses nothing fsynced and duplicates
nothing. With `[kafka] bootstrap` set: raw lines are produced to `[kafka] topic` (key = sender; value =
one line or newline-joined batches) and nothing is parsed here.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.metrics import serve_metrics
from ingest.sources.kafka import chunk_lines
from ingest.sources.mapping import SenderSource, safe_name
from ingest.sources.syslog import ListenerStats, ListenSpec, Router, parse_listen, serve, tls_context
from ingest.spool import SpoolWriter
from ingest.spool_ingest import SpoolIngester, SpoolTotals
from ingest.streamconfig import KafkaConfig, kafka_config, syslog_config
from ingest.worker import open_alert_sink
from parsers.registry import get_parser
from vigil.settings import Settings
from warehouse.layout import check_school

log = logging.getLogger("vigil.syslog")


class SpoolSink:
    """Routes lines into the spool, one directory per (school, source)."""

    def __init__(self, spool: SpoolWriter) -> None:
        self.spool = spool

    def append(self, key: str, src: SenderSource, data: bytes, lines: int) -> None:
        """Queue lines for the sender's source."""
        del key
        self.spool.append(check_school(src.school), safe_name(src.name), data, lines)

    def pending_lines(self) -> int:
        """Lines not yet fsynced."""
        return self.spool.pending_lines()

    def flush(self) -> int:
        """Write and fsync."""
        return self.spool.flush()


class KafkaSink:
    """Produces raw lines to Kafka: key = sender, value = one line or a newline-joined batch."""

    def __init__(self, cfg: KafkaConfig) -> None:
        from kafka import KafkaProducer

        self.cfg = cfg
        self.producer = KafkaProducer(
            bootstrap_servers=cfg.servers(),
            acks="all",
            linger_ms=20,
            batch_size=1 << 20,
            max_request_size=max(cfg.max_message_bytes, 1 << 20),
            retries=10,
            reconnect_backoff_max_ms=5000,
            security_protocol=cfg.security_protocol,
            ssl_cafile=cfg.ssl_cafile,
            ssl_certfile=cfg.ssl_certfile,
            ssl_keyfile=cfg.ssl_keyfile,
        )
        self._pending = 0

    def append(self, key: str, src: SenderSource, data: bytes, lines: int) -> None:
        """Send lines (the producer batches them; durable at the next flush)."""
        del src
        values = chunk_lines(data[:-1].split(b"\n"), self.cfg.message_mode, self.cfg.lines_per_message)
        k = key.encode()
        for v in values:
            self.producer.send(self.cfg.topic, value=v, key=k)
        self._pending += lines

    def pending_lines(self) -> int:
        """Lines sent but not acknowledged by a flush."""
        return self._pending

    def flush(self) -> int:
        """Wait for every acknowledgement."""
        self.producer.flush()
        n, self._pending = self._pending, 0
        return n


@dataclass
class SyslogSummary:
    """What a listener run did."""

    listener: ListenerStats
    ingested: SpoolTotals | None


def run_syslog(
    settings: Settings,
    listen: list[str],
    *,
    cert: str | None = None,
    key: str | None = None,
    fmt: str | None = None,
    school: str | None = None,
    metrics_port: int | None = None,
    ready: Callable[[list[ListenSpec]], None] | None = None,
    install_signals: bool = True,
    detect: bool = True,
) -> SyslogSummary:
    """Listen until SIGTERM/SIGINT; returns the run's counters."""
    cfg = syslog_config(settings)
    specs = [parse_listen(u) for u in (listen or cfg.listen)]
    if not specs:
        from ingest.errors import IngestError

        raise IngestError("give at least one --listen udp://HOST:PORT (or tcp://, tls://), or [syslog] listen")
    tls = tls_context(cert or cfg.tls_cert, key or cfg.tls_key) if any(s.scheme == "tls" for s in specs) else None
    kcfg = kafka_config(settings)
    if fmt and fmt != "auto":
        get_parser(fmt)  # a misspelt --format fails now, in one line, not in the ingest thread later
    if metrics_port:
        serve_metrics(settings, metrics_port)
    wake = threading.Event()
    done = threading.Event()
    spool: SpoolWriter | None = None
    ingester: SpoolIngester | None = None
    thread: threading.Thread | None = None
    if kcfg.bootstrap:
        sink: SpoolSink | KafkaSink = KafkaSink(kcfg)
    else:
        root = cfg.spool_dir or Path(settings.data_dir) / "spool" / "syslog"
        spool = SpoolWriter(root, segment_bytes=cfg.segment_bytes, segment_seconds=cfg.segment_seconds)
        sink = SpoolSink(spool)
        ingester = SpoolIngester(
            settings,
            root,
            durable_size=spool.durable_size,
            fmt=fmt,
            detect=detect,
            alert_sink=open_alert_sink(settings) if detect else None,
        )

        def ingest_loop() -> None:
            assert ingester is not None
            while True:
                wake.wait(1.0)
                wake.clear()
                try:
                    ingester.run_once()
                except Exception:  # keep listening; the spool keeps the lines until ingest works again
                    log.exception("spool ingest failed; retrying")
                    done.wait(2.0)
                if done.is_set():
                    ingester.run_once()
                    return

        thread = threading.Thread(target=ingest_loop, name="spool-ingest", daemon=True)
        thread.start()
    router = Router(settings, cfg, sink, school=school)

    async def main() -> None:
        stop = asyncio.Event()
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
        _stops.append((asyncio.get_running_loop(), stop))
        await serve(router, specs, stop=stop, on_flush=wake.set, tls=tls, ready=ready)

    try:
        asyncio.run(main())
    finally:
        done.set()
        wake.set()
        if thread is not None:
            thread.join(120)
        if spool is not None:
            spool.close()
            if ingester is not None:
                ingester.run_once()  # closed segments: read to the end and delete
        if isinstance(sink, KafkaSink):
            sink.producer.close(10)
    return SyslogSummary(listener=router.stats, ingested=ingester.totals if ingester else None)


_stops: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []


def request_stop() -> None:
    """Stop every running listener in this process (tests; signals do this in the CLI)."""
    for loop, ev in list(_stops):
        loop.call_soon_threadsafe(ev.set)
    _stops.clear()
