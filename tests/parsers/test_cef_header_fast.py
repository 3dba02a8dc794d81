"""CEF header read once per distinct header equals the full-line regex; unescaping only where needed is exact."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.cef import _HEADER, _HEADER_NAMES, cef_header
from parsers.keyvalue import unescape_cef, unescape_where_needed

PIECES = st.sampled_from(
    ["CEF:0|", "CEF: 1|", "CEF:|", "<134>", "x ", "|", "\\|", "\\\\", "\\", "Acme", "a=b", " c=d e", "\n", "é",
     "\x00", "|5|", "\\="]
)  # fmt: skip
LINES = st.lists(st.one_of(st.none(), st.lists(PIECES, max_size=14).map("".join)), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_header_matches_full_line_regex(lines: list[str | None]) -> None:
    body = pl.Series("body", lines * 2, dtype=pl.String)
    want = body.to_frame().select(pl.col("body").str.extract_groups(_HEADER).alias("h")).unnest("h")
    want = want.rename(dict(zip(want.columns, [*_HEADER_NAMES, "ext"], strict=True)))
    assert cef_header(body).equals(want)
    no_breaks = body.str.replace_all("\n", " ", literal=True)  # the header-only path
    want = no_breaks.to_frame().select(pl.col("body").str.extract_groups(_HEADER).alias("h")).unnest("h")
    assert cef_header(no_breaks).equals(want.rename(dict(zip(want.columns, [*_HEADER_NAMES, "ext"], strict=True))))


@settings(max_examples=200, deadline=None)
@given(LINES, LINES)
def test_unescape_where_needed_matches_unescape(a: list[str | None], b: list[str | None]) -> None:
    n = min(len(a), len(b))
    df = pl.DataFrame({"a": a[:n], "b": b[:n]}, schema={"a": pl.String, "b": pl.String})
    assert df.select(unescape_where_needed(df, ["a", "b"])).equals(df.select(unescape_cef(pl.col(c)) for c in "ab"))
