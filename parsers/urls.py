"""Vectorised URL handling: scheme/host/port/path/query split and registered domains (offline PSL)."""

from functools import lru_cache

import polars as pl
import tldextract

_URL = (
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?(?:[^@/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\s]*)(?::(?P<port>\d{1,5}))?(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?"
)


_HEAD = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://)?[^/?#\s]*"
"""Scheme and authority: everything `_URL` decides host and port from (it never looks past /?# or space)."""


def _clean_authority(parts: pl.DataFrame) -> pl.DataFrame:
    """Lower-case scheme; host lower-case without brackets or trailing dot (empty -> null); port as Int32."""
    host = pl.col("host").str.to_lowercase().str.strip_chars("[]").str.strip_suffix(".")
    return parts.with_columns(
        pl.col("scheme").str.to_lowercase(),
        pl.when(host == "").then(None).otherwise(host).alias("host"),
        pl.col("port").cast(pl.Int32, strict=False),
    )


def _split_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """`_URL` on every row: scheme, host, port cleaned; path and query as matched."""
    return _clean_authority(frame.select(pl.col(column).str.extract_groups(_URL).alias("_p")).unnest("_p"))


def _split_by_head(frame: pl.DataFrame, column: str) -> pl.DataFrame | None:
    """As `_split_rows`, but the capturing regex (and the cleaning) runs once per distinct scheme+authority.

    The prefix (`_HEAD`) holds everything the scheme, user-info, host and port groups can match, and it
    repeats heavily (one per site); the rest of the URL is path and query, cut with literal splits. Returns
    None when prefixes are mostly distinct, where this would not pay.
    """
    url = pl.col(column)
    parts = frame.select(url.str.extract(_HEAD, 0).alias("_h"), url.alias("_u"))
    heads = parts.select(pl.col("_h").unique())
    if heads.height * 2 > frame.height:
        return None
    tail = pl.col("_u").str.strip_prefix(pl.col("_h")).str.splitn("#", 2).struct.field("field_0").str.splitn("?", 2)
    parts = parts.select(pl.col("_h"), tail.struct.rename_fields(["_tp", "query"]).alias("_t")).unnest("_t")
    by_head = _clean_authority(heads.with_columns(pl.col("_h").str.extract_groups(_URL).alias("_p")).unnest("_p"))
    joined = parts.join(by_head.drop("query"), on="_h", how="left", maintain_order="left")
    return joined.select("scheme", "host", "port", (pl.col("path") + pl.col("_tp")).alias("path"), "query")


def split_url_columns(frame: pl.DataFrame, column: str = "url") -> pl.DataFrame:
    """Columns scheme, host (lower-case, no brackets or trailing dot), port, path, query of a URL column.

    Row-aligned with `frame`; an empty host or path is null.
    """
    parts = _split_by_head(frame, column) if frame.height else None
    if parts is None:
        parts = _split_rows(frame, column)
    return parts.select(
        "scheme",
        "host",
        "port",
        pl.when(pl.col("path") == "").then(None).otherwise(pl.col("path")).alias("path"),
        "query",
    )


def split_url(url: pl.Expr) -> pl.Expr:
    """A struct of scheme, host, port, path and query (expression form, for small frames).

    On large frames prefer `split_url_columns`: an eager select re-runs the regex per field referenced.
    """
    parts = url.str.extract_groups(_URL)
    host = parts.struct.field("host").str.to_lowercase().str.strip_chars("[]").str.strip_suffix(".")
    path = parts.struct.field("path")
    return pl.struct(
        parts.struct.field("scheme").str.to_lowercase().alias("scheme"),
        pl.when(host == "").then(None).otherwise(host).alias("host"),
        parts.struct.field("port").cast(pl.Int32, strict=False).alias("port"),
        pl.when(path == "").then(None).otherwise(path).alias("path"),
        parts.struct.field("query").alias("query"),
    )


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() keeps tldextract on its bundled Public Suffix List snapshot: never a download.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=500_000)
def registered_domain_of(host: str) -> str | None:
    """`www.bbc.co.uk` -> `bbc.co.uk`; IP addresses and bare suffixes -> None."""
    result = _extractor()(host)
    return result.top_domain_under_public_suffix or None


def registered_domains(hosts: pl.Series) -> pl.Series:
    """Registered domain per host, computed once per distinct host (hosts repeat heavily in logs)."""
    uniq = hosts.drop_nulls().unique()
    mapping = {h: registered_domain_of(h) for h in uniq.to_list()}
    return hosts.replace_strict(mapping, default=None, return_dtype=pl.String)
