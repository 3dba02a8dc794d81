"""One call from raw lines to enriched events and rejects: frame, parse, enrich."""

from collections.abc import Sequence

import polars as pl

from parsers.base import BaseParser, Parser, ParseResult, SourceMeta, to_result
from parsers.enrich import enrich, enrich_frame
from parsers.framing import frame

BATCH_COLUMNS = {"raw": pl.String, "line_no": pl.Int64, "decode_error": pl.Boolean}


def make_batch(
    lines: Sequence[str], first_line_no: int = 1, decode_errors: Sequence[bool] | None = None
) -> pl.DataFrame:
    """A batch frame from Python strings (tests, small inputs); readers build it vectorised instead."""
    n = len(lines)
    return pl.DataFrame(
        {
            "raw": list(lines),
            "line_no": list(range(first_line_no, first_line_no + n)),
            "decode_error": list(decode_errors) if decode_errors is not None else [False] * n,
        },
        schema=BATCH_COLUMNS,
    )


def parse_batch(batch: pl.DataFrame, parser: Parser, meta: SourceMeta) -> ParseResult:
    """Frame, parse and enrich one batch (columns `raw`, `line_no`, `decode_error`)."""
    framed = frame(batch, tz=meta.tz, now=meta.now)
    if isinstance(parser, BaseParser):  # fast path: stay in polars until the one conversion to Arrow
        events, rejects = parser.parse_frames(framed, meta=meta)
        return to_result(enrich_frame(events), rejects)
    result = parser.parse_batch(framed, meta=meta)
    return ParseResult(enrich(result.events), result.rejects)
