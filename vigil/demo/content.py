"""What each request asks for: a page of a catalogue site or a search, chosen by context, plus page assets."""

from __future__ import annotations

from urllib.parse import quote_plus

import numpy as np
import polars as pl

from vigil.demo.catalog import ENGINES, SITES
from vigil.demo.queries import EVERYDAY_QUERIES, STAFF_QUERIES, SUBJECT_QUERIES
from vigil.demo.timetable import SUBJECTS
from vigil.demo.traffic import CONTEXTS, CTX

SEARCH_SHARE = {**dict.fromkeys(SUBJECTS, 0.22), "free": 0.2, "staff": 0.1, "night": 0.0}
ASSET_SHARE = 0.6  # pages whose site has an asset host load one asset line after them

_PAGES = pl.DataFrame(
    [
        {"page": i, "host": s.host, "cat": s.category, "tpl": tpl, "asset_host": s.asset_host, "site": si}
        for i, (si, s, tpl) in enumerate((si, s, tpl) for si, s in enumerate(SITES) for tpl in s.pages)
    ]
)
ALL_QUERIES: tuple[str, ...] = tuple(
    dict.fromkeys([q for qs in SUBJECT_QUERIES.values() for q in qs] + list(EVERYDAY_QUERIES) + list(STAFF_QUERIES))
)
_QUERY_INDEX = {q: i for i, q in enumerate(ALL_QUERIES)}


def search_url(engine_host: str, query: str) -> str:
    """The URL a browser sends for `query` on one of the demo's engines (scenarios use the same shape)."""
    for host, path, param, _share in ENGINES:
        if host == engine_host:
            return f"https://{host}{path}?{param}={quote_plus(query)}{_suffix(host)}"
    raise ValueError(f"not a demo search engine: {engine_host}")


def _suffix(host: str) -> str:
    if "google" in host:
        return "&hl=en-GB&source=hp"
    if "bing" in host:
        return "&form=QBLH"
    return ""


def _page_weights(ctx: str) -> np.ndarray:
    per_site = np.array(
        [s.weights.get(ctx, 0.0) + (s.weights.get("lesson", 0.0) if ctx in SUBJECTS else 0.0) for s in SITES]
    )
    pages_per_site = np.array([len(s.pages) for s in SITES])
    w: np.ndarray = np.repeat(per_site / pages_per_site, pages_per_site)
    return w / float(w.sum())


def _query_pool(ctx: str) -> tuple[np.ndarray, np.ndarray]:
    """Query indices and weights for a context: mostly on-topic, a tail of everyday searches."""
    if ctx in SUBJECT_QUERIES:
        topical, other, share = SUBJECT_QUERIES[ctx], EVERYDAY_QUERIES, 0.85
    elif ctx == "staff":
        topical, other, share = STAFF_QUERIES, EVERYDAY_QUERIES, 0.8
    else:
        topical, other, share = EVERYDAY_QUERIES, (), 1.0
    idx = [_QUERY_INDEX[q] for q in topical] + [_QUERY_INDEX[q] for q in other]
    w = [share / len(topical)] * len(topical) + ([(1 - share) / len(other)] * len(other) if other else [])
    return np.array(idx), np.array(w) / np.sum(w)


def add_content(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Add `url`, `host`, `cat`, `method`, `referrer`, `kind` to a request frame (and asset rows after pages)."""
    ctx = frame["ctx"].to_numpy()
    n = len(ctx)
    page = np.full(n, -1, np.int64)
    engine = np.full(n, -1, np.int64)
    query = np.full(n, -1, np.int64)
    engine_p = np.array([e[3] for e in ENGINES])
    for name in CONTEXTS:
        rows = np.flatnonzero(ctx == CTX[name])
        if len(rows) == 0:
            continue
        is_search = rng.random(len(rows)) < SEARCH_SHARE[name]
        s_rows, p_rows = rows[is_search], rows[~is_search]
        page[p_rows] = rng.choice(len(_PAGES), len(p_rows), p=_page_weights(name))
        engine[s_rows] = rng.choice(len(ENGINES), len(s_rows), p=engine_p / engine_p.sum())
        pool, weights = _query_pool(name)
        query[s_rows] = pool[rng.choice(len(pool), len(s_rows), p=weights)]
    engines = pl.DataFrame(
        {
            "engine": np.arange(len(ENGINES)),
            "e_host": [e[0] for e in ENGINES],
            "e_prefix": [f"https://{e[0]}{e[1]}?{e[2]}=" for e in ENGINES],
            "e_suffix": [_suffix(e[0]) for e in ENGINES],
        }
    )
    queries = pl.DataFrame({"query": np.arange(len(ALL_QUERIES)), "q_enc": [quote_plus(q) for q in ALL_QUERIES]})
    df = (
        frame.with_columns(
            page=page, engine=engine, query=query, rid=rng.integers(100_000, 999_999_999, n).astype(np.int64)
        )
        .join(_PAGES, on="page", how="left", maintain_order="left")
        .join(engines, on="engine", how="left", maintain_order="left")
        .join(queries, on="query", how="left", maintain_order="left")
    )
    searching = pl.col("engine") >= 0
    page_url = (
        pl.lit("https://")
        + pl.col("host")
        + pl.col("tpl").str.replace_all("{id}", pl.col("rid").cast(pl.String), literal=True)
    )
    df = df.with_columns(
        url=pl.when(searching).then(pl.col("e_prefix") + pl.col("q_enc") + pl.col("e_suffix")).otherwise(page_url),
        host=pl.when(searching).then(pl.col("e_host")).otherwise(pl.col("host")),
        cat=pl.when(searching & pl.col("e_host").str.contains("youtube"))
        .then(pl.lit("video"))
        .when(searching)
        .then(pl.lit("search"))
        .otherwise(pl.col("cat")),
        kind=pl.when(searching).then(pl.lit("search")).otherwise(pl.lit("page")),
        referrer=pl.lit(None, pl.String),
    )
    assets = _assets(df, rng)
    keep = [*frame.columns, "url", "host", "cat", "kind", "referrer"]
    out = pl.concat([df.select(keep), assets.select(keep)])
    return out.with_columns(
        method=pl.when(pl.col("host").str.starts_with("login.")).then(pl.lit("POST")).otherwise(pl.lit("GET"))
    )


def _assets(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """One static-asset request shortly after a share of page views, referred by the page."""
    pages = df.filter((pl.col("kind") == "page") & (pl.col("asset_host") != ""))
    pages = pages.filter(pl.Series(rng.random(pages.height) < ASSET_SHARE))
    n = pages.height
    ext = np.array([".js", ".css", ".woff2", ".jpg", ".png"])[rng.integers(0, 5, n)]
    return pages.with_columns(
        t=pl.col("t") + pl.Series(rng.integers(40_000, 900_000, n)),
        referrer=pl.col("url"),
        url=pl.lit("https://") + pl.col("asset_host") + pl.lit("/s/") + pl.col("rid").cast(pl.String) + pl.Series(ext),
        host=pl.col("asset_host"),
        kind=pl.lit("asset"),
    )
