"""The parser contract: what every format module provides, and the shared finishing step.

A parser gets a framed batch (a polars DataFrame with `raw`, `line_no`, `body`, `syslog_ts`,
`syslog_host`, `syslog_app`, `decode_error`, and optionally `origin` when the source knows better than
`<origin_prefix>:<line_no>`, as Kafka does) and returns a frame of the same height, row-aligned, holding
any EVENT_SCHEMA columns it can fill plus `_reject` (null, or the reason the line is rejected).
`BaseParser.parse_batch` does the rest: provenance, null-normalisation, schema conformance, and the split
into events and rejects so that events + rejects always equals the input lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import polars as pl
import pyarrow as pa

from parsers.schema import ACTIONS, EVENT_SCHEMA, REJECT_SCHEMA
from parsers.timeutil import DEFAULT_TZ

# Reasons the shared finishing step can give; each parser adds its own in `failure_reasons`.
COMMON_FAILURE_REASONS: Mapping[str, str] = {
    "invalid_utf8": "the line is not valid UTF-8 (raw kept with \\x escapes)",
    "empty_line": "the line is empty or only white space",
    "missing_timestamp": "no timestamp could be read from the line or its syslog header",
    "bad_action": "the parser produced an action outside the normalised vocabulary (a parser bug)",
}

_POLARS_EVENT_SCHEMA = pl.Schema(pl.from_arrow(EVENT_SCHEMA.empty_table()).schema)  # type: ignore[union-attr]
_POLARS_REJECT_SCHEMA = pl.Schema(pl.from_arrow(REJECT_SCHEMA.empty_table()).schema)  # type: ignore[union-attr]
_STRING_COLS = [
    n
    for n, t in _POLARS_EVENT_SCHEMA.items()
    if t == pl.String and n not in ("raw", "origin", "school", "source")
]


@dataclass(frozen=True)
class SourceMeta:
    """Where a batch came from and how to read it: school, timezone, provenance and per-source options."""

    school: str = "default"
    tz: str = DEFAULT_TZ
    origin_prefix: str = "stdin"
    observer: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseResult:
    """Events (exactly EVENT_SCHEMA) and rejects (exactly REJECT_SCHEMA) for one batch of lines."""

    events: pa.Table
    rejects: pa.Table

    @classmethod
    def empty(cls) -> ParseResult:
        """A result with no rows."""
        return cls(EVENT_SCHEMA.empty_table(), REJECT_SCHEMA.empty_table())


@runtime_checkable
class Parser(Protocol):
    """A log format: named, self-describing, able to score a sample and parse batches."""

    # Read-only properties, so BaseParser's ClassVars and a configured parser's instance attributes both fit.
    @property
    def name(self) -> str:
        """The registered format name (`--format NAME`)."""
        ...

    @property
    def description(self) -> str:
        """One line saying what the format is."""
        ...

    @property
    def failure_reasons(self) -> Mapping[str, str]:
        """Reject reasons this parser can give, with what each means."""
        ...

    def detect(self, sample: Sequence[str]) -> float:
        """How likely (0..1) these framed line bodies are in this format."""
        ...

    def parse_batch(self, batch: pl.DataFrame, *, meta: SourceMeta) -> ParseResult:
        """Parse a framed batch into events and rejects; never raises for a bad line."""
        ...


def detect_by_pattern(sample: Sequence[str], pattern: str) -> float:
    """Share of non-empty sample lines matching a regex: the usual `detect()` body."""
    lines = [s for s in sample if s and s.strip()]
    if not lines:
        return 0.0
    # arg_true().len(): the matching count as a plain int (Series.mean() is typed as any Python literal)
    return pl.Series(lines, dtype=pl.String).str.contains(pattern).arg_true().len() / len(lines)


def null_if_dash(expr: pl.Expr) -> pl.Expr:
    """`-` and empty strings mean "no value" in most logs; the schema says null."""
    return pl.when(expr.is_in(["-", ""])).then(None).otherwise(expr)


class BaseParser:
    """Shared finishing for parsers: subclasses implement `parse_frame` and `detect`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    failure_reasons: ClassVar[Mapping[str, str]] = {}
    row_independent: ClassVar[bool] = True
    """Each line parses on its own; False for parsers that fold neighbouring lines (they see batches whole)."""

    def detect(self, sample: Sequence[str]) -> float:  # pragma: no cover - every subclass overrides
        """Score a sample; subclasses override."""
        raise NotImplementedError

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:  # pragma: no cover
        """Row-aligned parsed columns plus `_reject`; subclasses override."""
        raise NotImplementedError

    def parse_batch(self, batch: pl.DataFrame, *, meta: SourceMeta) -> ParseResult:
        """Parse, then conform: provenance, nulls, schema, and the events/rejects split."""
        return to_result(*self.parse_frames(batch, meta=meta))

    def parse_frames(self, batch: pl.DataFrame, *, meta: SourceMeta) -> tuple[pl.DataFrame, pl.DataFrame]:
        """As parse_batch, but events and rejects stay polars frames (the ingest hot path avoids copies)."""
        if batch.height == 0:
            return empty_frames()
        parsed = self.parse_frame(batch, meta)
        if parsed.height != batch.height:
            raise AssertionError(f"parser {self.name} returned {parsed.height} rows for {batch.height}")
        return finish_frames(batch, parsed, source=self.name, meta=meta)


def empty_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events and rejects frames with no rows."""
    return pl.DataFrame(schema=_POLARS_EVENT_SCHEMA), pl.DataFrame(schema=_POLARS_REJECT_SCHEMA)


def to_result(events: pl.DataFrame, rejects: pl.DataFrame) -> ParseResult:
    """Schema-exact Arrow tables from finished frames."""
    return ParseResult(
        events.to_arrow().cast(EVENT_SCHEMA),
        rejects.cast(dict(_POLARS_REJECT_SCHEMA)).to_arrow().cast(REJECT_SCHEMA),  # type: ignore[arg-type]
    )


def finish(batch: pl.DataFrame, parsed: pl.DataFrame, *, source: str, meta: SourceMeta) -> ParseResult:
    """Turn a parser's row-aligned output into schema-exact events and rejects."""
    return to_result(*finish_frames(batch, parsed, source=source, meta=meta))


def finish_frames(
    batch: pl.DataFrame, parsed: pl.DataFrame, *, source: str, meta: SourceMeta
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn a parser's row-aligned output into events and rejects frames with exactly the schemas' columns."""
    cols: dict[str, pl.Expr] = {}
    for name, dtype in _POLARS_EVENT_SCHEMA.items():
        if name in parsed.columns:
            cols[name] = pl.col(name).cast(dtype, strict=False)
        else:
            cols[name] = pl.lit(None, dtype=dtype)
    parser_reject = (
        parsed["_reject"]
        if "_reject" in parsed.columns
        else pl.Series("_reject", [None] * parsed.height, pl.String)
    )
    df = parsed.select(**cols).with_columns(
        _reject=parser_reject.cast(pl.String),
        raw=batch["raw"],
        _line=batch["line_no"],
        _decode_error=batch["decode_error"] if "decode_error" in batch.columns else pl.lit(False),
        _blank=batch["raw"].str.strip_chars().str.len_chars() == 0,
        _syslog_ts=batch["syslog_ts"]
        if "syslog_ts" in batch.columns
        else pl.lit(None, pl.Datetime("us", "UTC")),
        _syslog_host=batch["syslog_host"] if "syslog_host" in batch.columns else pl.lit(None, pl.String),
    )
    df = df.with_columns(
        [null_if_dash(pl.col(c)).alias(c) for c in _STRING_COLS]
        + [
            pl.lit(meta.school).alias("school"),
            pl.lit(source).alias("source"),
            (
                batch["origin"]
                if "origin" in batch.columns
                else pl.lit(f"{meta.origin_prefix}:") + pl.col("_line").cast(pl.String)
            ).alias("origin"),
            pl.coalesce(pl.col("ts"), pl.col("_syslog_ts")).alias("ts"),
        ]
    ).with_columns(
        pl.coalesce(pl.col("observer"), pl.col("_syslog_host"), pl.lit(meta.observer, pl.String)).alias(
            "observer"
        ),
        pl.col("user").str.to_lowercase(),
        pl.col("host").str.to_lowercase().str.strip_suffix("."),
    )
    reason = (
        pl.when(pl.col("_decode_error"))
        .then(pl.lit("invalid_utf8"))
        .when(pl.col("_blank"))
        .then(pl.lit("empty_line"))
        .when(pl.col("_reject").is_not_null())
        .then(pl.col("_reject"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("missing_timestamp"))
        .when(pl.col("action").is_not_null() & ~pl.col("action").is_in(list(ACTIONS)))
        .then(pl.lit("bad_action"))
        .otherwise(None)
    )
    df = df.with_columns(_reason=reason)
    events = df.filter(pl.col("_reason").is_null()).select(list(_POLARS_EVENT_SCHEMA.names()))
    rejects = df.filter(pl.col("_reason").is_not_null()).select(
        pl.lit(meta.now.astimezone(UTC)).dt.cast_time_unit("us").alias("ts_ingested"),
        pl.col("school"),
        pl.col("source"),
        pl.col("origin"),
        pl.col("_reason").alias("reason"),
        pl.col("raw"),
    )
    return events, rejects
