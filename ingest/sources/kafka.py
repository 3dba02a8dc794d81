"""Kafka as a line source: consumer records -> one batch frame per partition, and the raw-line producer.

A message value is one line or a newline-joined batch of lines (what `vigil syslog` produces with Kafka
configured). Each line's origin is `kafka:<topic>:<partition>:<offset>` for a one-line message and
`kafka:<topic>:<partition>:<offset>:<n>` (n from 1) for line n of a batch message, so origins are unique
and stable across replays. Poison messages never stop a partition: an oversized message becomes one
reject (reason `oversized_message`, raw cut to its first 4 KiB); undecodable bytes are kept with `\\x`
escapes and rejected by the parser step as `invalid_utf8`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from parsers.base import Parser, ParseResult, SourceMeta
from parsers.schema import REJECT_SCHEMA

OVERSIZED_RAW_BYTES = 4096
POISON_REASONS: Mapping[str, str] = {
    "oversized_message": "the Kafka message is larger than [kafka] max_message_bytes (raw cut to 4 KiB)",
    "format_not_recognised": "no parser is configured for the sender and none recognised its lines",
}


def _decode(values: list[bytes]) -> tuple[list[str], list[bool] | None]:
    """Decode newline-joined values; fall back per line only when some bytes are not UTF-8."""
    joined = b"\n".join(values)
    try:
        return joined.decode("utf-8").split("\n"), None
    except UnicodeDecodeError:
        lines: list[str] = []
        flags: list[bool] = []
        for raw in joined.split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
                flags.append(False)
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="backslashreplace"))
                flags.append(True)
        return lines, flags


def records_frame(topic: str, partition: int, records: Sequence[Any], *, max_message_bytes: int) -> pl.DataFrame:
    """One batch frame (raw, line_no, decode_error, origin, poison, sender) from consecutive records."""
    values: list[bytes] = []
    poison: list[str | None] = []
    for rec in records:
        v: bytes = rec.value or b""
        if len(v) > max_message_bytes:
            values.append(v[:OVERSIZED_RAW_BYTES].replace(b"\n", b"#012"))
            poison.append("oversized_message")
            continue
        values.append(v[:-1] if v.endswith(b"\n") else v)
        poison.append(None)
    counts = np.fromiter((v.count(b"\n") + 1 for v in values), dtype=np.int64, count=len(values))
    offsets = np.fromiter((r.offset for r in records), dtype=np.int64, count=len(records))
    senders = [r.key.decode("utf-8", errors="replace") if r.key else "" for r in records]
    lines, flags = _decode(values)
    total = int(counts.sum())
    idx = np.repeat(np.arange(len(values)), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(values) else np.zeros(0, np.int64)
    line_in_msg = np.arange(total, dtype=np.int64) - np.repeat(starts, counts) + 1
    multi = np.repeat(counts > 1, counts)
    df = pl.DataFrame(
        {
            "raw": pl.Series("raw", lines, dtype=pl.String).str.strip_suffix("\r"),
            "line_no": line_in_msg,
            "decode_error": pl.Series(flags, dtype=pl.Boolean) if flags else pl.repeat(False, total, eager=True),
            "_off": offsets[idx],
            "_n": line_in_msg,
            "_multi": multi,
            "poison": pl.Series(poison, dtype=pl.String).gather(idx),
            "sender": pl.Series(senders, dtype=pl.String).gather(idx),
        }
    )
    prefix = f"kafka:{topic}:{partition}:"
    return df.with_columns(
        origin=pl.when(pl.col("_multi"))
        .then(pl.concat_str(pl.lit(prefix), pl.col("_off").cast(pl.String), pl.lit(":"), pl.col("_n").cast(pl.String)))
        .otherwise(pl.concat_str(pl.lit(prefix), pl.col("_off").cast(pl.String)))
    ).drop("_off", "_n", "_multi")


class PoisonAwareParser:
    """Wraps a parser: rows flagged in a `poison` column become rejects with that reason, the rest are parsed.

    With no inner parser (the sender's format is unknown) every row is rejected as `format_not_recognised`,
    so the partition keeps moving and the lines stay visible in `rejects`.
    """

    description: ClassVar[str] = "a parser with Kafka poison-message handling"

    def __init__(self, inner: Parser | None) -> None:
        self.inner = inner
        self.name = inner.name if inner is not None else "unknown"
        self.failure_reasons = {**(inner.failure_reasons if inner else {}), **POISON_REASONS}

    def detect(self, sample: Sequence[str]) -> float:
        """The inner parser's score."""
        return self.inner.detect(sample) if self.inner is not None else 0.0

    def parse_batch(self, batch: pl.DataFrame, *, meta: SourceMeta) -> ParseResult:
        """Parse the clean rows; reject the flagged ones with their reason."""
        reason = pl.col("poison")
        if self.inner is None:
            batch = batch.with_columns(poison=pl.coalesce(reason, pl.lit("format_not_recognised")))
        good = batch.filter(reason.is_null()).drop("poison", "sender", strict=False)
        bad = batch.filter(reason.is_not_null())
        result = (
            self.inner.parse_batch(good, meta=meta) if self.inner is not None and good.height else ParseResult.empty()
        )
        if not bad.height:
            return result
        extra = (
            bad.select(
                pl.lit(meta.now.astimezone(UTC)).dt.cast_time_unit("us").alias("ts_ingested"),
                pl.lit(meta.school).alias("school"),
                pl.lit(self.name).alias("source"),
                pl.col("origin"),
                pl.col("poison").alias("reason"),
                pl.col("raw"),
            )
            .to_arrow()
            .cast(REJECT_SCHEMA)
        )
        return ParseResult(result.events, pa.concat_tables([result.rejects, extra]))


def chunk_lines(lines: Sequence[bytes], mode: str, per_message: int) -> list[bytes]:
    """Message values for a run of lines: one per line, or newline-joined groups of `per_message`."""
    if mode == "line":
        return list(lines)
    return [b"\n".join(lines[i : i + per_message]) for i in range(0, len(lines), per_message)]
