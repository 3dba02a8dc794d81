"""`tab_pairs(..., require_equals=True)` gives exactly `tab_value` per key (the Zscaler kv path relies on it)."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parsers.keyvalue import tab_pairs, tab_value

KEYS = ["time", "login", "eurl", "a.b", "x"]
PIECES = st.sampled_from(["time", "login", "eurl", "a.b", "x", "y", "=", "v", " ", "\t", "w=z", "é", "\n", "=="])


@settings(max_examples=300, deadline=None)
@example(["time\ttime=v", "a.b\ta.b=", "x=1\tx"])  # a bare key before its key=value pair
@given(st.lists(st.one_of(st.none(), st.lists(PIECES, max_size=12).map("".join)), min_size=1, max_size=10))
def test_pivot_equals_regex_per_key(lines: list[str | None]) -> None:
    text = pl.Series("t", lines, dtype=pl.String)
    want = text.to_frame().select(tab_value(pl.col("t"), k).alias(k) for k in KEYS)
    assert tab_pairs(text, KEYS, require_equals=True).equals(want)
