"""`vigil ingest --kafka TOPIC --group G`: one consumer-group worker until SIGTERM, then a summary."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import typer

from ingest.kafka_worker import KafkaIngestWorker, KafkaSummary
from ingest.metrics import serve_metrics
from ingest.streamconfig import kafka_config
from ingest.worker import open_alert_sink
from vigil.settings import Settings

log = logging.getLogger("vigil.ingest.kafka")


def run_kafka_ingest(
    settings: Settings,
    *,
    topic: str,
    group: str | None,
    bootstrap: str | None,
    fmt: str | None = None,
    school: str | None = None,
    metrics_port: int | None = None,
    detect: bool = True,
) -> KafkaSummary:
    """Consume `topic` in consumer group `group` into the warehouse until SIGTERM/SIGINT."""
    cfg = kafka_config(settings)
    if bootstrap:
        cfg = cfg.model_copy(update={"bootstrap": bootstrap})
    port = metrics_port if metrics_port is not None else cfg.metrics_port
    if port:
        serve_metrics(settings, port)
    stop = {"requested": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("stop requested: finishing the batch in hand", extra={"signal": signum})
        stop["requested"] = True

    old_term = signal.signal(signal.SIGTERM, handler)
    old_int = signal.signal(signal.SIGINT, handler)
    try:
        worker = KafkaIngestWorker(
            settings,
            cfg,
            topic=topic,
            group=group or cfg.group,
            fmt=fmt,
            school=school,
            alert_sink=open_alert_sink(settings) if detect else None,
            detect=detect,
        )
        summary = worker.run(lambda: stop["requested"])
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
    rate = summary.lines / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"kafka {topic} group {group or cfg.group}: lines {summary.lines:,}  events {summary.events:,}  "
        f"rejects {summary.rejects:,}  alerts {summary.alerts:,}  batches {summary.batches:,}  "
        f"seconds {summary.seconds:.2f}  ({rate:,.0f} lines/s)"
    )
    return summary
