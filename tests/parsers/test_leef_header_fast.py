"""LEEF heads matched alone (header once per distinct value) equal the two full-line regexes."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parsers.leef import _HEADER, _HEADER_NAMES, _V2_DELIM, leef_header

PIECES = st.sampled_from(
    ["LEEF:2.0|", "LEEF: 1|", "LEEF:3|", "<13>", "x ", "|", "^", "0x5E", "x09", "\\t", "\t", "Acme", "a=b",
     " c=d", "\n", "é", "=", "2.1|", "url"]
)  # fmt: skip


def reference(body: pl.Series) -> pl.DataFrame:
    h = body.to_frame("b").select(pl.col("b").str.extract_groups(_HEADER).alias("h")).unnest("h")
    h = h.rename(dict(zip(h.columns, [*_HEADER_NAMES, "rest"], strict=True)))
    v2 = h.select(pl.col("rest").str.extract_groups(_V2_DELIM).alias("d")).unnest("d")
    return pl.concat([h, v2.rename(dict(zip(v2.columns, ["_v2d", "_v2x"], strict=True)))], how="horizontal")


@settings(max_examples=300, deadline=None)
@example(["LEEF:2.0|A|B|1|e||k=v", "LEEF:2.0|A|B|1|e|^|k=v^x=y", "<13>LEEF:1.0|A|B|1|e|k=v\tx=y"])
@given(st.lists(st.one_of(st.none(), st.lists(PIECES, max_size=14).map("".join)), min_size=1, max_size=10))
def test_heads_match_full_line_regexes(lines: list[str | None]) -> None:
    body = pl.Series("b", lines * 2, dtype=pl.String)
    assert leef_header(body).equals(reference(body))
    flat = body.str.replace_all("\n", " ", literal=True)  # the head-only path
    assert leef_header(flat).equals(reference(flat))
