"""`vigil ingest FILE|DIR...`: read files from their checkpoints through the pipeline, once or following."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ingest.checkpoint import CheckpointStore, FileCheckpoint
from ingest.health import SourceShard
from ingest.reader import DEFAULT_BATCH_BYTES, file_identity, file_size, read_batches, read_stream
from ingest.sources.files import ResolvedSource, expand_paths, resolve
from ingest.worker import AlertSink, BatchOutcome, Pipeline
from parsers.base import SourceMeta
from parsers.errors import UnknownFormatError
from parsers.registry import get_parser
from vigil.errors import InputError
from vigil.settings import Settings

log = logging.getLogger("vigil.ingest")


@dataclass
class FileSummary:
    """What ingest did with one file."""

    path: str
    format: str
    school: str
    lines: int = 0
    events: int = 0
    rejects: int = 0
    alerts: int = 0
    error: str | None = None


@dataclass
class IngestSummary:
    """Totals of one `vigil ingest` run."""

    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0

    def total(self, attr: str) -> int:
        """Sum of one counter over files."""
        return sum(int(getattr(f, attr)) for f in self.files)

    def by_format(self) -> dict[str, dict[str, int]]:
        """Counters per format."""
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            row = out.setdefault(f.format, {"files": 0, "lines": 0, "events": 0, "rejects": 0, "alerts": 0})
            row["files"] += 1
            for k in ("lines", "events", "rejects", "alerts"):
                row[k] += int(getattr(f, k))
        return out


class _Stop:
    """Set by SIGTERM/SIGINT: finish the current batch, commit, exit."""

    requested = False


@contextmanager
def _graceful_stop() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        _Stop.requested = True

    if threading.current_thread() is not threading.main_thread():
        # Signal handlers can only be installed by the main thread (an API or scheduled call runs elsewhere).
        yield
        return
    old_term = signal.signal(signal.SIGTERM, handler)
    old_int = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        _Stop.requested = False


def _batch_id(cp: FileCheckpoint, start: int) -> str:
    return f"f{cp.key}-{start:015d}"


def _add(summary: FileSummary, out: BatchOutcome) -> None:
    summary.lines += out.lines
    summary.events += out.events
    summary.rejects += out.rejects
    summary.alerts += out.alerts


class FileIngester:
    """Ingests files for one data directory, committing a checkpoint after every batch."""

    def __init__(
        self,
        settings: Settings,
        *,
        alert_sink: AlertSink | None = None,
        detect: bool = True,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        reingest: bool = False,
    ) -> None:
        self.settings = settings
        self.pipeline = Pipeline(settings, detect=detect, alert_sink=alert_sink)
        self.checkpoints = CheckpointStore(settings.data_dir)
        self.batch_bytes = batch_bytes
        self.reingest = reingest
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-write")
        self.health = SourceShard(settings, "files")

    def _meta(self, src: ResolvedSource) -> SourceMeta:
        return SourceMeta(
            school=src.school,
            tz=src.tz,
            origin_prefix=f"file:{src.path}",
            observer=src.observer,
            now=datetime.now(UTC),
            options=src.options,
        )

    def ingest_file(
        self, src: ResolvedSource, summary: FileSummary, *, follow: bool = False, on_bytes: object = None
    ) -> None:
        """Ingest one file from its checkpoint to its current end (in follow mode, complete lines only)."""
        path = src.path
        if str(path) == "-":
            self._ingest_stdin(src, summary)
            return
        identity = file_identity(path, src.school)
        cp = self.checkpoints.get(identity, path)
        if self.reingest and not follow:
            cp = FileCheckpoint(identity=identity, path=str(path), generation=cp.generation)
        size = file_size(path)
        if size < cp.offset and not path.suffix == ".gz":
            log.warning("file shrank: treating as truncated and re-reading", extra={"path": str(path)})
            cp = FileCheckpoint(identity=identity, path=str(path), generation=cp.generation + 1)
        cp.path = str(path)
        meta = self._meta(src)
        # Two-stage pipeline: batch N is written (I/O, zstd; releases the GIL) while batch N+1 is parsed.
        # Checkpoints are committed strictly in order, each only after its own batch is durable.
        pending: tuple[Future[BatchOutcome], int, int, int] | None = None

        def settle() -> None:
            nonlocal pending
            if pending is None:
                return
            future, end, next_line, nbytes = pending
            out = future.result()
            cp.offset, cp.line = end, next_line
            self.checkpoints.commit(cp)
            _add(summary, out)
            self._record_health(src, out)
            if callable(on_bytes):
                on_bytes(nbytes)
            pending = None

        try:
            for batch in read_batches(
                path,
                start=cp.offset,
                start_line=cp.line,
                batch_bytes=self.batch_bytes,
                partial_last_line=not follow,
            ):
                prepared = self.pipeline.prepare(batch.frame, src.parser, meta)
                settle()
                future = self._writer.submit(self.pipeline.commit, prepared, _batch_id(cp, batch.start))
                pending = (future, batch.end, batch.first_line + batch.lines, batch.end - batch.start)
                if _Stop.requested:
                    break
        finally:
            settle()

    def _record_health(self, src: ResolvedSource, out: BatchOutcome) -> None:
        """Counts and last-seen time for `vigil status` and the ingest-health page (never pupil data)."""
        name = src.name if src.name != str(src.path) else f"file:{src.path.parent}/{src.parser.name}"
        self.health.add(
            name,
            school=src.school,
            kind="file",
            lines=out.lines,
            events=out.events,
            rejects=out.rejects,
            alerts=out.alerts,
            seen=datetime.now(UTC),
        )
        self.health.flush()

    def _ingest_stdin(self, src: ResolvedSource, summary: FileSummary) -> None:
        """Standard input has no identity to resume from: batch ids come from the run's start time."""
        meta = self._meta(src)
        run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        for batch in read_stream(sys.stdin.buffer, batch_bytes=self.batch_bytes):
            out = self.pipeline.process(batch.frame, src.parser, meta, f"stdin{run}-{batch.start:015d}")
            _add(summary, out)


def ingest_paths(
    paths: list[str],
    *,
    settings: Settings,
    fmt: str | None = "auto",
    school: str | None = None,
    follow: bool = False,
    poll_seconds: float = 1.0,
    progress: bool = False,
    alert_sink: AlertSink | None = None,
    detect: bool = True,
    reingest: bool = False,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> IngestSummary:
    """Ingest files and directories; with follow=True keep watching them until SIGTERM/SIGINT."""
    started = time.perf_counter()
    if fmt and fmt != "auto":
        get_parser(fmt)  # an unknown --format is a usage error before any file is touched
    ingester = FileIngester(settings, alert_sink=alert_sink, detect=detect, reingest=reingest, batch_bytes=batch_bytes)
    summary = IngestSummary()
    per_file: dict[str, FileSummary] = {}
    with _graceful_stop():
        while True:
            files = expand_paths(paths)
            if not files and not follow:
                raise InputError("no input files")
            total = sum(file_size(f) for f in files if str(f) != "-")
            with _progress(progress and not follow, total) as bar:
                for path in files:
                    if _Stop.requested:
                        break
                    key = str(path)
                    fs = per_file.get(key)
                    try:
                        src = resolve(path, settings, fmt, school)
                    except UnknownFormatError as exc:
                        if key not in per_file:
                            per_file[key] = FileSummary(path=key, format="?", school=school or "?", error=str(exc))
                            log.warning("skipped file", extra={"path": key, "error": str(exc)})
                        continue
                    if fs is None:
                        fs = per_file[key] = FileSummary(path=key, format=src.parser.name, school=src.school)
                    ingester.ingest_file(src, fs, follow=follow, on_bytes=bar)
            if not follow or _Stop.requested:
                break
            time.sleep(poll_seconds)
    summary.files = list(per_file.values())
    summary.seconds = time.perf_counter() - started
    summary.bytes = sum(file_size(Path(f.path)) for f in summary.files if f.path != "-")
    return summary


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[object]:
    """A rich progress bar over bytes on a terminal; a no-op otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as prog:
        task = prog.add_task("ingest", total=total)
        yield lambda n: prog.advance(task, n)
