"""The syslog spool: received lines appended to per-(school, source) segment files, fsynced per batch.

Layout: `<spool>/<school>/<source>/<segment>.open.log` while the listener appends to it, renamed to
`<segment>.log` when rotated (size or age) or when a new listener starts (the old one is gone: a file
lock ensures one listener per spool). Only whole lines are written, and only at `flush()`, which fsyncs;
`durable_size()` tells the spool ingester how far a segment is safe to read, so nothing that could still
be lost by a power cut is ever committed to the warehouse.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError

OPEN_SUFFIX = ".open.log"
CLOSED_SUFFIX = ".log"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segment_id(path: Path) -> str:
    """A segment's stable id (its name without the open/closed suffix)."""
    name = path.name
    for suffix in (OPEN_SUFFIX, CLOSED_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class _Segment:
    path: Path
    fd: int
    opened: float
    size: int = 0
    pending: bytearray = field(default_factory=bytearray)
    pending_lines: int = 0


class SpoolWriter:
    """Appends lines to the spool; `flush()` writes and fsyncs everything pending (thread-safe)."""

    def __init__(self, root: Path, *, segment_bytes: int = 64 << 20, segment_seconds: float = 300.0) -> None:
        self.root = root
        self.segment_bytes = segment_bytes
        self.segment_seconds = segment_seconds
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            raise IngestError(f"syslog spool {root} is in use by another listener") from exc
        self._segments: dict[tuple[str, str], _Segment] = {}
        self._durable: dict[Path, int] = {}
        self._mutex = threading.Lock()
        self._seq = 0
        self.close_orphans()

    def close_orphans(self) -> None:
        """Segments left open by a listener that died are complete as far as they go: mark them closed."""
        for path in self.root.glob(f"*/*/*{OPEN_SUFFIX}"):
            path.rename(path.with_name(segment_id(path) + CLOSED_SUFFIX))
            _fsync_dir(path.parent)

    def pending_lines(self) -> int:
        """Lines received but not yet flushed."""
        return sum(s.pending_lines for s in self._segments.values())

    def append(self, school: str, source: str, data: bytes, lines: int) -> None:
        """Queue whole lines (`data` ends with a newline) for a source; written at the next flush."""
        with self._mutex:
            seg = self._segments.get((school, source)) or self._open(school, source)
            seg.pending += data
            seg.pending_lines += lines

    def _open(self, school: str, source: str) -> _Segment:
        directory = self.root / school / source
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._seq += 1
        name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}{OPEN_SUFFIX}"
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        _fsync_dir(directory)
        seg = _Segment(path=path, fd=fd, opened=time.monotonic())
        self._segments[(school, source)] = seg
        self._durable[path] = 0
        return seg

    def flush(self) -> int:
        """Write and fsync every pending line; rotate full or old segments. Returns lines made durable."""
        with self._mutex:
            work = [(k, s, bytes(s.pending), s.pending_lines) for k, s in self._segments.items() if s.pending]
            for _k, s, _data, _n in work:
                s.pending = bytearray()
                s.pending_lines = 0
        written = 0
        for _key, seg, data, n in work:
            view = memoryview(data)
            while view:
                done = os.write(seg.fd, view)
                view = view[done:]
            os.fsync(seg.fd)
            seg.size += len(data)
            written += n
            with self._mutex:
                self._durable[seg.path] = seg.size
        self._rotate()
        return written

    def _rotate(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._mutex:
            for key, seg in list(self._segments.items()):
                full = seg.size >= self.segment_bytes or now - seg.opened >= self.segment_seconds
                if (force or full) and not seg.pending:
                    os.close(seg.fd)
                    closed = seg.path.with_name(segment_id(seg.path) + CLOSED_SUFFIX)
                    os.rename(seg.path, closed)
                    _fsync_dir(closed.parent)
                    del self._segments[key]
                    self._durable.pop(seg.path, None)

    def durable_size(self, path: Path) -> int | None:
        """How many bytes of an open segment are fsynced (None: not an open segment of this writer)."""
        with self._mutex:
            return self._durable.get(path)

    def close(self) -> None:
        """Flush, close every segment (they become closed segments) and release the spool lock."""
        self.flush()
        self._rotate(force=True)
        os.close(self._lock_fd)
