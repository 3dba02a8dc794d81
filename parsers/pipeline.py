"""One call from raw lines to enriched events and rejects: frame, parse, enrich.

Large batches of a parser whose lines are independent of each other are cut into slices that run on
threads (polars releases the GIL), so one batch uses every core; slices are re-joined in line order, so
the result is the same as one pass over the whole batch.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import polars as pl
import pyarrow as pa

from parsers.base import BaseParser, Parser, ParseResult, SourceMeta, to_result
from parsers.enrich import enrich, enrich_frame
from parsers.framing import frame

BATCH_COLUMNS = {"raw": pl.String, "line_no": pl.Int64, "decode_error": pl.Boolean}
MIN_SLICE_ROWS = 25_000
"""Below this many lines per slice, the per-call overhead outweighs a second core."""


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


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=pl.thread_pool_size(), thread_name_prefix="vigil-parse")


def _slices(height: int) -> int:
    return max(1, min(pl.thread_pool_size(), height // MIN_SLICE_ROWS))


def _parse_whole(batch: pl.DataFrame, parser: BaseParser, meta: SourceMeta) -> ParseResult:
    framed = frame(batch, tz=meta.tz, now=meta.now)
    events, rejects = parser.parse_frames(framed, meta=meta)
    return to_result(enrich_frame(events), rejects)


def parse_batch(batch: pl.DataFrame, parser: Parser, meta: SourceMeta) -> ParseResult:
    """Frame, parse and enrich one batch (columns `raw`, `line_no`, `decode_error`)."""
    if isinstance(parser, BaseParser):  # fast path: stay in polars until the one conversion to Arrow
        n = _slices(batch.height) if parser.row_independent else 1
        if n == 1:
            return _parse_whole(batch, parser, meta)
        size = -(-batch.height // n)
        parts = [batch.slice(i * size, size) for i in range(n)]
        results = list(_pool().map(lambda part: _parse_whole(part, parser, meta), parts))
        return ParseResult(
            pa.concat_tables([r.events for r in results]), pa.concat_tables([r.rejects for r in results])
        )
    framed = frame(batch, tz=meta.tz, now=meta.now)
    result = parser.parse_batch(framed, meta=meta)
    return ParseResult(enrich(result.events), result.rejects)
