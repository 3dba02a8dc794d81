"""The syslog listener: UDP, TCP and TLS servers that route each sender's lines to a sink.

Senders map to sources by address, else by the HOSTNAME in their first message's header (`[[sources]]
hosts`); unknown senders are accepted into school `default` or dropped (`[syslog] unknown_sender`). The
sink is the durable spool (then parsed in-process) or, with Kafka configured, a producer (nothing parsed
here). Malformed frames are counted and stored as rejects with their reason.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyarrow as pa

from ingest.errors import IngestError
from ingest.metrics import SYSLOG_DURABLE, SYSLOG_FRAMES, SYSLOG_MALFORMED
from ingest.sources.mapping import SenderSource, SourceMap
from ingest.sources.syslog_framing import Decoded, StreamDecoder, decode_datagram, header_hostname
from ingest.streamconfig import SyslogConfig
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from vigil.settings import Settings
from warehouse.writer import WarehouseWriter

log = logging.getLogger("vigil.syslog")


@dataclass(frozen=True)
class ListenSpec:
    """One `--listen` address."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_listen(url: str) -> ListenSpec:
    """Parse `udp://HOST:PORT`, `tcp://HOST:PORT` or `tls://HOST:PORT`."""
    parts = urlsplit(url)
    if parts.scheme not in ("udp", "tcp", "tls") or not parts.hostname or parts.port is None:
        raise IngestError(f"--listen {url!r}: expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
    return ListenSpec(parts.scheme, parts.hostname, parts.port)


class Sink(Protocol):
    """Where routed lines go: the spool or a Kafka producer."""

    def append(self, key: str, src: SenderSource, data: bytes, lines: int) -> None:
        """Queue whole lines from one sender."""
        ...

    def pending_lines(self) -> int:
        """Lines queued but not durable yet."""
        ...

    def flush(self) -> int:
        """Make queued lines durable; return how many."""
        ...


@dataclass
class ListenerStats:
    """Counters of one listener run."""

    frames: int = 0
    lines: int = 0
    durable: int = 0
    malformed: int = 0
    dropped: int = 0
    started: float = field(default_factory=time.perf_counter)


class Router:
    """Resolves senders, queues their lines in the sink, and keeps malformed frames as rejects."""

    def __init__(self, settings: Settings, cfg: SyslogConfig, sink: Sink, *, school: str | None = None) -> None:
        self.cfg, self.sink, self.school = cfg, sink, school
        self.sources = SourceMap(settings)
        self.writer = WarehouseWriter(settings.warehouse_dir)
        self.stats = ListenerStats()
        self._rejects: list[dict[str, Any]] = []
        self._run = f"l{time.time_ns()}"
        self._seq = 0

    def resolve(self, address: str, first: bytes) -> tuple[str, SenderSource] | None:
        """(sink key, source) for a sender, or None when unknown senders are dropped."""
        hostname = header_hostname(first) if self.sources.has_hostnames else None
        cfg = self.sources.config_for(address, hostname)
        if cfg is None and self.cfg.unknown_sender == "drop":
            return None
        src = self.sources.resolve(address, hostname, school=self.school)
        by_host = cfg is not None and self.sources.config_for(address) is None and hostname is not None
        return (hostname if by_host and hostname else address), src

    def deliver(self, transport: str, route: tuple[str, SenderSource] | None, out: Decoded, peer: str) -> None:
        """Queue decoded lines and record malformed frames."""
        if out.lines:
            if route is None:
                self.stats.dropped += out.lines
                SYSLOG_MALFORMED.labels(transport, "unknown_sender").inc(out.lines)
            else:
                self.sink.append(route[0], route[1], out.data, out.lines)
                self.stats.lines += out.lines
        for reason, raw in out.malformed:
            self.stats.malformed += 1
            SYSLOG_MALFORMED.labels(transport, reason).inc()
            self._rejects.append(
                {
                    "ts_ingested": datetime.now(UTC),
                    "school": route[1].school if route else "default",
                    "source": "syslog",
                    "origin": f"syslog:{transport}:{peer}",
                    "reason": reason,
                    "raw": raw.decode("utf-8", errors="backslashreplace"),
                }
            )

    def flush(self) -> int:
        """Make queued lines durable and store pending rejects; returns lines made durable."""
        n = self.sink.flush()
        self.stats.durable += n
        SYSLOG_DURABLE.inc(n)
        if self._rejects:
            rows, self._rejects = self._rejects, []
            self._seq += 1
            table = pa.Table.from_pylist(rows, schema=REJECT_SCHEMA)
            self.writer.write_batch(f"{self._run}-{self._seq:08d}", EVENT_SCHEMA.empty_table(), table)
        return n


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, router: Router) -> None:
        self.router = router
        self.routes: dict[tuple[str, str | None], tuple[str, SenderSource] | None] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        host = str(addr[0])
        self.router.stats.frames += 1
        SYSLOG_FRAMES.labels("udp").inc()
        out = decode_datagram(data, self.router.cfg.max_frame_bytes)
        name = header_hostname(data) if self.router.sources.has_hostnames else None
        key = (host, name)
        if key not in self.routes:
            self.routes[key] = self.router.resolve(host, data)
        self.router.deliver("udp", self.routes[key], out, host)


class _Stream(asyncio.Protocol):
    def __init__(self, router: Router, transport_name: str) -> None:
        self.router, self.name = router, transport_name
        self.decoder = StreamDecoder(router.cfg.max_frame_bytes)
        self.route: tuple[str, SenderSource] | None = None
        self.routed = False
        self.peer = "?"
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "?"

    def data_received(self, data: bytes) -> None:
        out = self.decoder.feed(data)
        self._deliver(out)
        if out.close and self.transport is not None:
            self.transport.close()

    def _deliver(self, out: Decoded) -> None:
        if not self.routed and (out.data or out.malformed):
            self.route, self.routed = self.router.resolve(self.peer, out.data[:512]), True
        if out.lines:
            self.router.stats.frames += out.lines
            SYSLOG_FRAMES.labels(self.name).inc(out.lines)
        self.router.deliver(self.name, self.route, out, self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        del exc
        self._deliver(self.decoder.finish())


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext:
    """Server-side TLS context from a certificate and key (PEM)."""
    if not cert or not key:
        raise IngestError("tls:// needs --cert and --key (or [syslog] tls_cert / tls_key)")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise IngestError(f"tls: cannot load certificate/key: {exc}") from exc
    return ctx


async def serve(
    router: Router,
    specs: list[ListenSpec],
    *,
    stop: asyncio.Event,
    on_flush: Callable[[], None],
    tls: ssl.SSLContext | None = None,
    ready: Callable[[list[ListenSpec]], None] | None = None,
) -> None:
    """Run every listener until `stop` is set; flush by size or time, calling `on_flush` after each flush."""
    loop = asyncio.get_running_loop()
    closers: list[Any] = []
    bound: list[ListenSpec] = []
    for spec in specs:
        try:
            if spec.scheme == "udp":
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(router), local_addr=(spec.host, spec.port)
                )
                sock = transport.get_extra_info("sockname")
                closers.append(transport)
            else:
                server = await loop.create_server(
                    lambda s=spec: _Stream(router, s.scheme),
                    spec.host,
                    spec.port,
                    ssl=tls if spec.scheme == "tls" else None,
                    reuse_address=True,
                )
                sock = server.sockets[0].getsockname()
                closers.append(server)
        except OSError as exc:
            raise IngestError(f"cannot listen on {spec}: {exc.strerror}") from exc
        bound.append(ListenSpec(spec.scheme, spec.host, int(sock[1])))
    log.info("syslog listening", extra={"listen": [str(b) for b in bound]})
    if ready is not None:
        ready(bound)
    cfg = router.cfg
    try:
        while not stop.is_set():
            waited = 0.0
            while waited < cfg.batch_seconds and router.sink.pending_lines() < cfg.batch_lines and not stop.is_set():
                await asyncio.sleep(0.05)
                waited += 0.05
            # Flush even when idle: that is also when quiet spool segments rotate by age and get deleted.
            await loop.run_in_executor(None, router.flush)
            on_flush()
    finally:
        for c in closers:
            c.close()
        await asyncio.sleep(0.1)  # let connection_lost deliver final lines
        await loop.run_in_executor(None, router.flush)
        on_flush()
