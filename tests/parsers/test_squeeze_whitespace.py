"""`squeeze_whitespace` (squid's field splitter) equals the plain `\\s{2,}` -> ` ` replacement on any batch."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.squid import squeeze_whitespace

PIECES = st.sampled_from([" ", "  ", "   ", "\t", "\r", "\n", "\x0b", "\x0c", "\x1f", "\u00a0", "\u2003", "\x85",
                          "a", "GET", "é", "1795453506.351", "-"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(PIECES, max_size=10).map("".join)), max_size=8))
def test_same_as_unicode_regex(lines: list[str | None]) -> None:
    s = pl.Series("body", lines, dtype=pl.String)
    assert squeeze_whitespace(s).equals(s.str.replace_all(r"\s{2,}", " "))
