"""Read log files (plain, .gz, or stdin) as batches of lines with their byte positions.

Batches are cut on newlines from large byte chunks and split vectorised; nothing loads a whole file.
Lines that are not valid UTF-8 are kept with `\\x` escapes and flagged, so the parser rejects them
with a reason instead of losing them. Byte offsets are positions in the (decompressed) stream, which is
what checkpoints store.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from vigil.errors import InputError

DEFAULT_BATCH_BYTES = 16 << 20
MAX_LINE_BYTES = 4 << 20
"""A line longer than this is cut into pieces of this size (each piece is then rejected by its parser)."""


@dataclass(frozen=True)
class RawBatch:
    """Lines read from one source position range: `frame` has columns raw, line_no, decode_error."""

    frame: pl.DataFrame
    start: int
    end: int
    first_line: int

    @property
    def lines(self) -> int:
        """Number of lines in the batch."""
        return self.frame.height


def open_binary(path: str | Path) -> BinaryIO:
    """Open a path for reading bytes: `-` is stdin, `.gz` is decompressed; one-line errors for I/O faults."""
    if str(path) == "-":
        return sys.stdin.buffer
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{p}: is a directory")
        fh: BinaryIO = open(p, "rb")  # noqa: SIM115 - returned to the caller, closed there
    except FileNotFoundError as exc:
        raise InputError(f"{p}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{p}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})") from exc
    if p.suffix == ".gz":
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


def _decode_lines(chunk: bytes) -> tuple[list[str], list[bool] | None]:
    """Split a chunk (ending on a newline, or at EOF) into str lines; flag the undecodable ones."""
    if chunk.endswith(b"\n"):
        chunk = chunk[:-1]
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        lines: list[str] = []
        flags: list[bool] = []
        for raw in chunk.split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
                flags.append(False)
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="backslashreplace"))
                flags.append(True)
        return lines, flags
    return text.split("\n"), None


def _split_valid(chunk: bytes) -> pl.Series | None:
    """Lines of a chunk split in polars (no Python string per line); None if it is not valid UTF-8."""
    body = chunk[:-1] if chunk.endswith(b"\n") else chunk
    try:
        text = pl.Series("raw", [body], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # invalid UTF-8 somewhere: the per-line path finds and flags it
        return None
    return text.str.split("\n").explode()


def _frame(chunk: bytes, first_line: int) -> pl.DataFrame:
    lines = _split_valid(chunk)
    flags: list[bool] | None = None
    if lines is None:
        decoded, flags = _decode_lines(chunk)
        lines = pl.Series("raw", decoded, dtype=pl.String)
    raw = lines.str.strip_suffix("\r")
    n = raw.len()
    return pl.DataFrame(
        {
            "raw": raw,
            "line_no": pl.int_range(first_line, first_line + n, eager=True, dtype=pl.Int64),
            "decode_error": pl.Series(flags, dtype=pl.Boolean) if flags else pl.repeat(False, n, eager=True),
        }
    )


def _split_overlong(chunk: bytes) -> bytes:
    """Insert breaks into lines over MAX_LINE_BYTES so memory stays bounded (rare; each piece is rejected)."""
    pieces = []
    for line in chunk.split(b"\n"):
        while len(line) > MAX_LINE_BYTES:
            pieces.append(line[:MAX_LINE_BYTES])
            line = line[MAX_LINE_BYTES:]
        pieces.append(line)
    return b"\n".join(pieces)


def read_batches(
    path: str | Path,
    *,
    start: int = 0,
    start_line: int = 1,
    end: int | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    partial_last_line: bool = True,
) -> Iterator[RawBatch]:
    """Batches of complete lines from byte offset `start` (to `end` if given).

    With `partial_last_line=False` (follow mode) a final line without a newline is left for later, since
    its writer may not have finished it.
    """
    with open_binary(path) as fh:
        yield from read_stream(
            fh,
            start=start,
            start_line=start_line,
            end=end,
            batch_bytes=batch_bytes,
            partial_last_line=partial_last_line,
        )


def read_stream(
    fh: BinaryIO,
    *,
    start: int = 0,
    start_line: int = 1,
    end: int | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    partial_last_line: bool = True,
) -> Iterator[RawBatch]:
    """As read_batches, over an open binary stream."""
    pos = start
    line = start_line
    if start:
        if fh.seekable():
            fh.seek(start)
        else:  # stdin or similar: skip forward
            _skip(fh, start)
    carry = b""
    while True:
        want = batch_bytes if end is None else min(batch_bytes, end - pos - len(carry))
        data = fh.read(want) if want > 0 else b""
        eof = not data
        buf = carry + data
        if not buf:
            return
        cut = buf.rfind(b"\n")
        at_end = eof or (end is not None and pos + len(buf) >= end)
        if cut < 0 and not at_end:
            if len(buf) > MAX_LINE_BYTES:
                buf = _split_overlong(buf)
                cut = buf.rfind(b"\n")
            else:
                carry = buf
                continue
        if at_end and cut != len(buf) - 1:
            if partial_last_line:
                cut = len(buf) - 1
            elif cut < 0:
                return
        chunk, carry = buf[: cut + 1], buf[cut + 1 :]
        consumed = len(chunk)
        frame = _frame(chunk, line)
        if len(chunk) > MAX_LINE_BYTES and (frame["raw"].str.len_bytes().max() or 0) > MAX_LINE_BYTES:  # type: ignore[operator]
            frame = _frame(_split_overlong(chunk), line)
        yield RawBatch(frame=frame, start=pos, end=pos + consumed, first_line=line)
        pos += consumed
        line += frame.height
        if at_end and not carry:
            return
        if eof:
            if not partial_last_line:
                return
            continue


def _skip(fh: BinaryIO, n: int) -> None:
    while n > 0:
        got = fh.read(min(n, 1 << 20))
        if not got:
            return
        n -= len(got)


def sample_lines(path: str | Path, n: int = 200) -> list[str]:
    """The first n lines of a file (for format detection)."""
    with open_binary(path) as fh:
        head = fh.read(1 << 20)
    return head.decode("utf-8", errors="replace").splitlines()[:n]


def file_identity(path: Path, school: str) -> str:
    """A content-derived identity: the school plus the file's first complete line (stable as the file grows).

    Rotation renames keep it; a new file gets a new one. Returned as a short hex digest.
    """
    with open_binary(path) as fh:
        head = fh.read(64 << 10)
    nl = head.find(b"\n")
    first = head[: nl + 1] if nl >= 0 else head
    return hashlib.sha256(school.encode() + b"\0" + first).hexdigest()[:16]


def file_size(path: Path) -> int:
    """Current size in bytes (0 if it vanished)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
