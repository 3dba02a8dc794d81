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

import polars as pl
import pyarrow as pa

from parsers.base import Parser, ParseResult, SourceMeta
from parsers.schema import REJECT_SCHEMA

OVERSIZED_RAW_BYTES = 4096
POISON_REASONS: Mapping[str, str] = {
    "oversized_message": "the Kafka message is larger than [kafka] max_message_bytes (raw cut to 4 KiB)",
    "format_not_recognised": "no parser is configured for the sender and none recognised its lines",
}


def _repair(values: list[bytes], bad: list[int]) -> tuple[list[str], list[list[bool]]]:
    """Messages that are not valid UTF-8: decode line by line with `\\x` escapes, flagging the bad lines."""
    texts: list[str] = []
    flags: list[list[bool]] = []
    for i in bad:
        lines, marks = [], []
        for raw in values[i].split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
                marks.append(False)
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="backslashreplace"))
                marks.append(True)
        texts.append("\n".join(lines))
        flags.append(marks)
    return texts, flags


def _valid_utf8(chunks: list[bytes]) -> bool:
    """Whether every chunk is valid UTF-8 (one C-speed decode of the lot)."""
    try:
        # The ASCII separator stops a sequence split across two chunks from looking valid.
        b"\n".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def records_frame(topic: str, partition: int, records: Sequence[Any], *, max_message_bytes: int) -> pl.DataFrame:
    """One batch frame (raw, line_no, decode_error, origin, poison, sender) from consecutive records.

    Only pulling fields out of the record objects is per message; polars does the decoding, splitting
    and origins. Oversized and non-UTF-8 messages (rare) take a slower path.
    """
    values: list[bytes] = [r.value or b"" for r in records]
    keys: list[bytes] = [r.key or b"" for r in records]
    senders = (
        pl.Series(keys, dtype=pl.Binary).cast(pl.String)
        if _valid_utf8(keys)
        else pl.Series([k.decode("utf-8", errors="replace") for k in keys], dtype=pl.String)
    )
    sizes = pl.Series([len(v) for v in values], dtype=pl.Int64)
    oversized = (sizes > max_message_bytes).arg_true().to_list()
    bad: list[int] = []
    if oversized or not _valid_utf8(values):
        values = list(values)
        for i in oversized:
            values[i] = values[i][:OVERSIZED_RAW_BYTES].replace(b"\n", b"#012")
        bad = [i for i, v in enumerate(values) if not _valid_utf8([v])]
    bad_flags: dict[int, list[bool]] = {}
    if bad:
        repaired, flags = _repair(values, bad)
        for i, t, f in zip(bad, repaired, flags, strict=True):
            values[i] = t.encode()
            bad_flags[i] = f
    poison: list[str | None] = [None] * len(values)
    for i in oversized:
        poison[i] = "oversized_message"
    msgs = pl.DataFrame(
        {
            "text": pl.Series(values, dtype=pl.Binary).cast(pl.String),
            "_off": pl.Series([r.offset for r in records], dtype=pl.Int64),
            "sender": senders,
            "poison": pl.Series(poison, dtype=pl.String),
        }
    )
    lines = (
        msgs.select(
            "_off",
            "sender",
            "poison",
            pl.col("text").str.strip_suffix("\n").str.split("\n").alias("raw"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_msg"),
        )
        .with_columns(_count=pl.col("raw").list.len())
        .with_columns(line_no=pl.int_ranges(1, pl.col("_count") + 1, dtype=pl.Int64))
        .explode("raw", "line_no")
    )
    if bad_flags:
        flag_rows = pl.DataFrame(
            [(m, n + 1, f) for m, fl in bad_flags.items() for n, f in enumerate(fl)],
            schema={"_msg": pl.Int64, "line_no": pl.Int64, "decode_error": pl.Boolean},
            orient="row",
        )
        lines = lines.join(flag_rows, on=["_msg", "line_no"], how="left", maintain_order="left").with_columns(
            pl.col("decode_error").fill_null(False)
        )
    else:
        lines = lines.with_columns(decode_error=pl.lit(False))
    prefix = f"kafka:{topic}:{partition}:"
    off = pl.col("_off").cast(pl.String)
    return lines.select(
        pl.col("raw").str.strip_suffix("\r"),
        "line_no",
        "decode_error",
        pl.when(pl.col("_count") > 1)
        .then(pl.concat_str(pl.lit(prefix), off, pl.lit(":"), pl.col("line_no").cast(pl.String)))
        .otherwise(pl.concat_str(pl.lit(prefix), off))
        .alias("origin"),
        "poison",
        "sender",
    )


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
                (
                    pl.col("origin")
                    if "origin" in bad.columns
                    else pl.lit(f"{meta.origin_prefix}:") + pl.col("line_no").cast(pl.String)
                ).alias("origin"),
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
