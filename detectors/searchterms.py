"""Search-term extraction: which query parameter (or path segment) carries what a user searched for.

Vectorised: one regex per distinct parameter name over the query column, chosen per row by engine host.
The decoded terms are what detectors match on (a small column), not whole URLs.
"""

from urllib.parse import unquote_plus

import polars as pl

# host pattern (regex over the lower-case host) -> query parameter carrying the search, in priority order.
ENGINES: tuple[tuple[str, str], ...] = (
    (r"(^|\.)google\.[a-z.]+$", "q"),
    (r"(^|\.)bing\.com$", "q"),
    (r"(^|\.)duckduckgo\.com$", "q"),
    (r"(^|\.)search\.yahoo\.com$", "p"),
    (r"(^|\.)youtube\.com$", "search_query"),
    (r"(^|\.)ecosia\.org$", "q"),
)


def _param(query: pl.Expr, name: str) -> pl.Expr:
    return query.str.extract(rf"(?:^|&){name}=([^&]*)", 1)


def _decode(raw: pl.Series) -> pl.Series:
    """URL-decode (`+` and `%XX`, twice where double-encoded) once per distinct value."""
    uniq = raw.drop_nulls().unique().to_list()
    mapping: dict[str, str | None] = {}
    for value in uniq:
        text = unquote_plus(value)
        if "%" in text:
            text = unquote_plus(text)
        text = " ".join(text.split())
        mapping[value] = text or None
    return raw.replace_strict(mapping, default=None, return_dtype=pl.String)


def search_terms_expr(host: pl.Expr, path: pl.Expr, query: pl.Expr) -> pl.Expr:
    """Decoded search terms for rows whose host is a known search engine or site search, else null."""
    del path  # path-carried searches arrive with the full engine table (detection issue)
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for pattern, param in reversed(ENGINES):
        expr = pl.when(host.str.contains(pattern)).then(_param(query, param)).otherwise(expr)
    return expr.map_batches(_decode, return_dtype=pl.String)
