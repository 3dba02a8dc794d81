"""Prometheus metrics of the ingest processes, and the `/metrics` endpoint they serve on `--metrics-port`.

Labels carry source names (configured names or sender addresses), never pupil data.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ingest.health import source_status
from ingest.worker import BatchOutcome
from vigil.settings import Settings

LINES = Counter("vigil_ingest_lines", "Raw lines handed to the pipeline", ["kind", "source"])
EVENTS = Counter("vigil_ingest_events", "Events written to the warehouse", ["kind", "source"])
REJECTS = Counter("vigil_ingest_rejects", "Lines rejected, by reason", ["kind", "source", "reason"])
ALERTS = Counter("vigil_ingest_alerts", "Alerts raised by detectors", ["kind"])
BATCH_SECONDS = Histogram(
    "vigil_ingest_batch_seconds",
    "Time to parse, detect and durably write one batch",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
KAFKA_LAG = Gauge(
    "vigil_kafka_lag",
    "Messages between the committed position and the high watermark",
    ["topic", "partition"],
)
SYSLOG_FRAMES = Counter("vigil_syslog_frames", "Syslog frames received", ["transport"])
SYSLOG_DURABLE = Counter("vigil_syslog_durable_lines", "Syslog lines fsynced to the spool or acked by Kafka")
SYSLOG_MALFORMED = Counter("vigil_syslog_malformed", "Syslog frames rejected by the listener", ["transport", "reason"])


def record_batch(kind: str, source: str, out: BatchOutcome) -> None:
    """Count one processed batch."""
    LINES.labels(kind, source).inc(out.lines)
    EVENTS.labels(kind, source).inc(out.events)
    for reason, n in out.reject_reasons.items():
        REJECTS.labels(kind, source, reason).inc(n)
    if out.alerts:
        ALERTS.labels(kind).inc(out.alerts)
    BATCH_SECONDS.labels(kind).observe(out.seconds)


class SourceHealthCollector(Collector):
    """Per-source last-seen time and silence flag, read from the shared state at scrape time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Gauges for every known source."""
        silent = GaugeMetricFamily(
            "vigil_source_silent",
            "1 when a source has been silent too long (school time)",
            labels=["source", "school"],
        )
        seen = GaugeMetricFamily(
            "vigil_source_last_seen_seconds",
            "Unix time of the last line from a source",
            labels=["source", "school"],
        )
        for st in source_status(self.settings):
            silent.add_metric([st.name, st.school], 1.0 if st.silent else 0.0)
            if st.last_seen is not None:
                seen.add_metric([st.name, st.school], st.last_seen.timestamp())
        yield silent
        yield seen


_served: set[int] = set()


def serve_metrics(settings: Settings, port: int, addr: str = "127.0.0.1") -> None:
    """Expose `/metrics` on a port (once per process), including source health."""
    if port in _served:
        return
    if not _served:
        REGISTRY.register(SourceHealthCollector(settings))
    start_http_server(port, addr=addr)
    _served.add(port)
