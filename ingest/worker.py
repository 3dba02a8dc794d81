"""The ingest loop's core: one batch of raw lines -> parse -> enrich -> detect -> Parquet -> alerts.

Every source (files, syslog, Kafka) hands batches to `Pipeline.process` and commits its own position
only after it returns: the warehouse write and the alert upsert are both durable by then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from detectors.base import Alert, DetectContext
from detectors.circumvention_config import load_config
from detectors.lists import categorise, lists_for
from detectors.registry import run_detectors
from ingest.context import IngestContext
from parsers.base import Parser, ParseResult, SourceMeta
from parsers.pipeline import parse_batch
from vigil.settings import Settings
from warehouse.writer import WarehouseWriter

log = logging.getLogger("vigil.ingest")

AlertSink = Callable[[Sequence[Alert]], int]


@dataclass
class BatchOutcome:
    """Counts for one processed batch."""

    lines: int
    events: int
    rejects: int
    alerts: int
    seconds: float
    reject_reasons: dict[str, int] = field(default_factory=dict)


def open_alert_sink(settings: Settings) -> AlertSink:
    """The case store's idempotent alert upsert for these settings (migrating the store if needed)."""
    from cases.notify import notifying_sink
    from cases.store import CaseStore

    store = CaseStore.from_url(settings.case_db_url)
    store.migrate()
    return notifying_sink(store, settings)  # upsert, then notify at once of new/raised alerts that need it


@dataclass
class Prepared:
    """A parsed, enriched and detected batch waiting to be written."""

    lines: int
    events: pa.Table
    rejects: pa.Table
    alerts: list[Alert]
    seconds: float


class Pipeline:
    """Parses, detects and stores batches for one Vigil data directory."""

    def __init__(
        self,
        settings: Settings,
        *,
        detect: bool = True,
        alert_sink: AlertSink | None = None,
        context: DetectContext | None = None,
    ) -> None:
        self.settings = settings
        self.writer = WarehouseWriter(settings.warehouse_dir)
        self.detect = detect
        self.alert_sink = alert_sink
        self.fixed_context = context
        self.lists_dir = load_config(settings.section("circumvention")).lists_dir or settings.data_dir / "lists"
        self.context = IngestContext(settings) if detect and context is None else None

    def prepare(self, raw: pl.DataFrame, parser: Parser, meta: SourceMeta) -> Prepared:
        """Parse, enrich and detect one batch (CPU work; nothing is written yet)."""
        started = time.perf_counter()
        result = parse_batch(raw, parser, meta)
        lists = lists_for(self.lists_dir)  # re-read only when a list set was (re)imported
        if not lists.empty:
            result = ParseResult(categorise(result.events, lists), result.rejects)
        alerts: list[Alert] = []
        if self.detect:
            ctx = self.fixed_context or (self.context.for_batch(result.events) if self.context else DetectContext())
            alerts = run_detectors(result.events, ctx)
        return Prepared(raw.height, result.events, result.rejects, alerts, time.perf_counter() - started)

    def commit(self, prepared: Prepared, batch_id: str) -> BatchOutcome:
        """Write a prepared batch to Parquet and upsert its alerts; returns only when both are durable."""
        started = time.perf_counter()
        self.writer.write_batch(batch_id, prepared.events, prepared.rejects)
        if prepared.alerts and self.alert_sink is not None:
            self.alert_sink(prepared.alerts)
        reasons: dict[str, int] = {}
        if prepared.rejects.num_rows:
            counts = pl.from_arrow(prepared.rejects.select(["reason"]))["reason"].value_counts()  # type: ignore[index]
            reasons = {str(r): int(n) for r, n in counts.iter_rows()}
        outcome = BatchOutcome(
            lines=prepared.lines,
            events=prepared.events.num_rows,
            rejects=prepared.rejects.num_rows,
            alerts=len(prepared.alerts),
            seconds=prepared.seconds + time.perf_counter() - started,
            reject_reasons=reasons,
        )
        log.debug(
            "batch written",
            extra={
                "batch_id": batch_id,
                "lines": outcome.lines,
                "events": outcome.events,
                "rejects": outcome.rejects,
                "alerts": outcome.alerts,
            },
        )
        return outcome

    def process(self, raw: pl.DataFrame, parser: Parser, meta: SourceMeta, batch_id: str) -> BatchOutcome:
        """Prepare and commit one batch; returns only when all of it is durable."""
        return self.commit(self.prepare(raw, parser, meta), batch_id)
