"""Vectorised URL handling: scheme/host/port/path/query split and registered domains (offline PSL)."""

from functools import lru_cache

import polars as pl
import tldextract

_URL = (
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?(?:[^@/?#\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\s]*)(?::(?P<port>\d{1,5}))?(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?"
)


def split_url_columns(frame: pl.DataFrame, column: str = "url") -> pl.DataFrame:
    """Columns scheme, host (lower-case, no brackets or trailing dot), port, path, query of a URL column.

    Row-aligned with `frame`. The regex runs once; its groups are then post-processed as plain columns.
    """
    parts = frame.select(pl.col(column).str.extract_groups(_URL).alias("_p")).unnest("_p")
    host = pl.col("host").str.to_lowercase().str.strip_chars("[]").str.strip_suffix(".")
    return parts.select(
        pl.col("scheme").str.to_lowercase(),
        pl.when(host == "").then(None).otherwise(host).alias("host"),
        pl.col("port").cast(pl.Int32, strict=False),
        pl.when(pl.col("path") == "").then(None).otherwise(pl.col("path")).alias("path"),
        pl.col("query"),
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
