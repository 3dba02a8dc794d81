"""Enrichment at ingest: host/path/query from the URL, registered domain, search terms."""

import polars as pl
import pyarrow as pa

from detectors.searchterms import search_terms_expr
from parsers.schema import EVENT_SCHEMA
from parsers.urls import registered_domains, split_url_columns


def enrich(events: pa.Table) -> pa.Table:
    """Fill derived columns a parser left null; values a parser set are kept."""
    if events.num_rows == 0:
        return events
    df = pl.from_arrow(events)
    assert isinstance(df, pl.DataFrame)
    return enrich_frame(df).to_arrow().cast(EVENT_SCHEMA)


def enrich_frame(df: pl.DataFrame) -> pl.DataFrame:
    """`enrich` over a polars frame of EVENT_SCHEMA columns."""
    if df.height == 0:
        return df
    u = split_url_columns(df, "url")
    df = df.with_columns(
        pl.coalesce(pl.col("host"), u["host"]).alias("host"),
        pl.coalesce(pl.col("path"), u["path"]).alias("path"),
        pl.coalesce(pl.col("query"), u["query"]).alias("query"),
        pl.coalesce(pl.col("dst_port"), u["port"]).alias("dst_port"),
    )
    return df.with_columns(
        pl.coalesce(pl.col("registered_domain"), registered_domains(df["host"])).alias("registered_domain"),
    ).with_columns(
        pl.coalesce(
            pl.col("search_terms"), search_terms_expr(pl.col("host"), pl.col("path"), pl.col("query"))
        ).alias("search_terms"),
    )
