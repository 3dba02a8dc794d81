"""Ingest the syslog spool with file checkpoints: exactly once into the warehouse, then delete segments.

Each segment is read from its checkpoint like a followed file: batch ids are `s<segment key>-<offset>`,
the checkpoint is committed only after `Pipeline.process` returns, so a `kill -9` anywhere replays at
most one batch, which overwrites itself. Open segments are read only up to their fsynced size; a closed
segment that is fully committed is deleted first and its checkpoint forgotten after, so a crash between
the two leaves only a harmless orphan checkpoint (swept later), never a re-read of the file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingest.checkpoint import CheckpointStore
from ingest.health import SourceShard
from ingest.metrics import record_batch
from ingest.reader import read_batches, sample_lines
from ingest.sources.kafka import PoisonAwareParser
from ingest.sources.mapping import SourceMap, safe_name
from ingest.spool import CLOSED_SUFFIX, OPEN_SUFFIX, segment_id
from ingest.worker import AlertSink, Pipeline
from parsers.base import Parser, SourceMeta
from parsers.errors import UnknownFormatError
from parsers.registry import autodetect, get_parser
from vigil.errors import InputError
from vigil.settings import Settings

log = logging.getLogger("vigil.ingest.syslog")

DETECT_MIN_LINES = 200
"""An open segment whose format is not recognised waits for this many lines before they are rejected."""


@dataclass
class SpoolTotals:
    """What the spool ingester has committed so far."""

    lines: int = 0
    events: int = 0
    rejects: int = 0
    alerts: int = 0
    segments_done: int = 0
    per_source: dict[str, int] = field(default_factory=dict)


def _identity(school: str, source: str, seg: str) -> str:
    return "spool-" + hashlib.sha256(f"{school}/{source}/{seg}".encode()).hexdigest()[:16]


class SpoolIngester:
    """Reads spool segments through the pipeline, committing file checkpoints."""

    def __init__(
        self,
        settings: Settings,
        root: Path,
        *,
        durable_size: Callable[[Path], int | None] = lambda p: None,
        fmt: str | None = None,
        alert_sink: AlertSink | None = None,
        detect: bool = True,
        batch_bytes: int = 16 << 20,
    ) -> None:
        self.settings, self.root, self.durable_size = settings, root, durable_size
        self.fmt = fmt if fmt and fmt != "auto" else None
        self.pipeline = Pipeline(settings, detect=detect, alert_sink=alert_sink)
        self.checkpoints = CheckpointStore(settings.data_dir)
        self.sources = SourceMap(settings)
        self.shard = SourceShard(settings, "syslog")
        self.totals = SpoolTotals()
        self.batch_bytes = batch_bytes
        self._parsers: dict[tuple[str, str], Parser] = {}  # only recognised formats are cached

    def _parser(self, school: str, source: str, segment: Path) -> Parser | None:
        key = (school, source)
        if key not in self._parsers:
            cfg = next((s for s in self.settings.sources if safe_name(s.name) == source), None)
            fmt = self.fmt or (cfg.format if cfg else "auto")
            try:
                self._parsers[key] = (
                    get_parser(fmt)
                    if fmt != "auto"
                    else autodetect(sample_lines(segment), what=f"syslog source {source}")
                )
            except UnknownFormatError as exc:
                if fmt != "auto":
                    raise
                if len(sample_lines(segment)) < DETECT_MIN_LINES and segment.name.endswith(OPEN_SUFFIX):
                    log.info("format not recognised yet; waiting for more lines", extra={"error": str(exc)})
                    return None
                # Enough lines and still nothing fits: reject them (kept in `rejects`), keep the spool moving.
                log.warning("format not recognised; lines become rejects", extra={"error": str(exc)})
                return PoisonAwareParser(None)
        return self._parsers[key]

    def run_once(self) -> int:
        """Ingest everything durable in the spool now; returns lines committed."""
        before = self.totals.lines
        for segment in sorted(self.root.glob("*/*/*.log")):
            try:
                self._segment(segment)
            except InputError:
                continue  # renamed by rotation while we looked: picked up under its new name next round
        if self.totals.lines != before:
            self.shard.flush()
        return self.totals.lines - before

    def _segment(self, path: Path) -> None:
        school, source = path.parent.parent.name, path.parent.name
        seg = segment_id(path)
        is_open = path.name.endswith(OPEN_SUFFIX)
        identity = _identity(school, source, seg)
        cp = self.checkpoints.get(identity, path)
        end = self.durable_size(path) if is_open else None
        if is_open and end is None:
            return  # an open segment another (dead) listener left: closed at the next listener start
        size = path.stat().st_size
        if end is None:
            end = size
        if cp.offset < end:
            parser = self._parser(school, source, path)
            if parser is None:
                return
            src = self.sources.resolve(None, None, school=school)
            tz = next((s.tz for s in self.settings.sources if safe_name(s.name) == source and s.tz), None) or src.tz
            meta = SourceMeta(school=school, tz=tz, origin_prefix=f"syslog:{source}:{seg}", now=datetime.now(UTC))
            unknown = isinstance(parser, PoisonAwareParser)
            for batch in read_batches(
                path,
                start=cp.offset,
                start_line=cp.line,
                end=end,
                batch_bytes=self.batch_bytes,
                partial_last_line=not is_open,
            ):
                frame = batch.frame.with_columns(poison=pl.lit(None, pl.String)) if unknown else batch.frame
                out = self.pipeline.process(frame, parser, meta, f"s{cp.key}-{batch.start:015d}")
                cp.offset, cp.line = batch.end, batch.first_line + batch.lines
                self.checkpoints.commit(cp)
                self._count(school, source, out)
        if not is_open and path.name.endswith(CLOSED_SUFFIX) and cp.offset >= size:
            path.unlink()
            self.checkpoints.forget(identity)
            self.totals.segments_done += 1

    def _count(self, school: str, source: str, out: object) -> None:
        from ingest.worker import BatchOutcome

        assert isinstance(out, BatchOutcome)
        t = self.totals
        t.lines, t.events, t.rejects, t.alerts = (
            t.lines + out.lines,
            t.events + out.events,
            t.rejects + out.rejects,
            t.alerts + out.alerts,
        )
        t.per_source[source] = t.per_source.get(source, 0) + out.lines
        record_batch("syslog", source, out)
        self.shard.add(
            source,
            school=school,
            kind="syslog",
            lines=out.lines,
            events=out.events,
            rejects=out.rejects,
            alerts=out.alerts,
            seen=datetime.now(UTC),
        )
