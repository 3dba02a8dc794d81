"""`split_url_columns` gives the same groups whether it splits per row or per distinct scheme+authority."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.urls import _split_by_head, _split_rows, split_url, split_url_columns

# Characters that steer the URL grammar (scheme, user-info, brackets, port, path, query, fragment, spaces).
PIECES = st.sampled_from(
    ["http", "HTTPS", "a", "Z9", "+", ".", "-", ":", "/", "//", "://", "?", "#", "@", "[", "]", "::1", "80",
     "123456", " ", "\t", "\u2003", "é", "%20", "=", "&", "www.Example.COM.", "x"]
)  # fmt: skip
URLS = st.one_of(st.none(), st.lists(PIECES, max_size=12).map("".join))


@settings(max_examples=300, deadline=None)
@given(st.lists(URLS, min_size=1, max_size=20))
def test_head_split_matches_row_split(urls: list[str | None]) -> None:
    frame = pl.DataFrame({"url": urls * 3}, schema={"url": pl.String})  # repeated, so the head path applies
    by_head = _split_by_head(frame, "url")
    assert by_head is not None
    assert by_head.equals(_split_rows(frame, "url").select(by_head.columns))
    assert split_url_columns(frame).to_dicts() == [
        {"scheme": s, "host": h, "port": p, "path": pa, "query": q}
        for s, h, p, pa, q in (
            (r["scheme"], r["host"], r["port"], r["path"], r["query"])
            for r in frame.select(split_url(pl.col("url")).alias("u")).unnest("u").to_dicts()
        )
    ]


def test_mostly_distinct_urls_take_the_row_path_with_the_same_result() -> None:
    frame = pl.DataFrame({"url": [f"http://h{i}.test:8{i % 10}/p?q={i}#f" for i in range(50)]})
    assert _split_by_head(frame, "url") is None
    out = split_url_columns(frame)
    assert out.row(7) == ("http", "h7.test", 87, "/p", "q=7")
