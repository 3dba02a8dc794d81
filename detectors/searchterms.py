"""Search-term extraction: which query parameter (or path segment) carries what a user searched for.

The engine table is data (`detectors/data/search_engines.toml`). Vectorised: hosts are resolved to a rule
set once per distinct host (hosts repeat heavily in logs), only rows on a search host go on to regex
extraction, and terms are URL-decoded once per distinct value. Runs at ingest on every event, so the
common case (not a search) costs one dictionary replace over the host column.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from detectors.normalise import url_decode

ENGINE_FILE = Path(__file__).parent / "data" / "search_engines.toml"
_TLD = r"(?:[a-z]{2,3}|com?\.[a-z]{2}|[a-z]{2,3}\.[a-z]{2})"


@dataclass(frozen=True)
class EngineRule:
    """One row of the engine table: which hosts, which path, and where the terms are."""

    name: str
    hosts: tuple[str, ...]
    params: tuple[str, ...]
    path: str | None = None
    path_terms: str | None = None
    query_terms: str | None = None
    kind: str = "search"
    kagi: tuple[str, ...] = ()
    matomo: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def engine_rules() -> tuple[EngineRule, ...]:
    """The engine table, in file order."""
    with ENGINE_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    return tuple(
        EngineRule(
            name=e["name"],
            hosts=tuple(e["hosts"]),
            params=tuple(e.get("params", ())),
            path=e.get("path"),
            path_terms=e.get("path_terms"),
            query_terms=e.get("query_terms"),
            kind=e.get("kind", "search"),
            kagi=tuple(e.get("kagi", ())),
            matomo=tuple(e.get("matomo", ())),
        )
        for e in data["engine"]
    )


@lru_cache(maxsize=1)
def _host_index() -> tuple[dict[str, tuple[int, ...]], list[tuple[re.Pattern[str], int]]]:
    exact: dict[str, list[int]] = {}
    wild: list[tuple[re.Pattern[str], int]] = []
    for i, rule in enumerate(engine_rules()):
        for host in rule.hosts:
            if "{}" in host:
                pattern = re.escape(host).replace(r"\{\}", _TLD)
                wild.append((re.compile(rf"(?:^|\.){pattern}$"), i))
            else:
                exact.setdefault(host, []).append(i)
    return {h: tuple(v) for h, v in exact.items()}, wild


@lru_cache(maxsize=100_000)
def rules_for_host(host: str) -> tuple[int, ...]:
    """Indexes of engine rules for a host (itself or a parent domain listed, or a `{}` pattern), in order."""
    exact, wild = _host_index()
    found: set[int] = set()
    labels = host.split(".")
    for i in range(len(labels) - 1):
        found.update(exact.get(".".join(labels[i:]), ()))
    found.update(i for pattern, i in wild if pattern.search(host))
    return tuple(sorted(found))


def _param(query: pl.Expr, name: str) -> pl.Expr:
    raw = query.str.extract(rf"(?:^|&){re.escape(name)}=([^&#]*)", 1)
    return pl.when(raw == "").then(None).otherwise(raw)


def _rule_expr(rule: EngineRule, path: pl.Expr, query: pl.Expr) -> pl.Expr:
    candidates = [_param(query, p) for p in rule.params]
    if rule.query_terms:
        candidates.append(query.str.extract(rule.query_terms, 1))
    if rule.path_terms:
        candidates.append(path.str.extract(rule.path_terms, 1))
    expr = pl.coalesce(candidates) if candidates else pl.lit(None, dtype=pl.String)
    if rule.path:
        expr = pl.when(path.str.contains(rule.path)).then(expr).otherwise(None)
    return expr


def _decode(raw: pl.Series) -> pl.Series:
    """`url_decode` + white-space collapse, vectorised; only values with `%` go through Python (once each)."""
    plain = raw.str.replace_all("+", " ", literal=True)
    pct = plain.str.contains("%", literal=True).fill_null(False)
    if pct.any():
        mapping = {v: url_decode(v) for v in raw.filter(pct).unique().to_list()}
        decoded = raw.replace_strict(mapping, default=None, return_dtype=pl.String)
        plain = pl.select(pl.when(pct).then(decoded).otherwise(plain)).to_series()
    out = plain.str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.select(pl.when(out == "").then(None).otherwise(out)).to_series()


def _rule_sets(hosts: pl.Series) -> tuple[pl.Series, list[tuple[int, ...]]]:
    """Per row, the id of its host's rule set (null when not a search host), and the sets by id."""
    sets: dict[tuple[int, ...], int] = {}
    mapping: dict[str, int | None] = {}
    for host in hosts.drop_nulls().unique().to_list():
        rules = rules_for_host(host)
        mapping[host] = sets.setdefault(rules, len(sets)) if rules else None
    ids = hosts.replace_strict(mapping, default=None, return_dtype=pl.Int32)
    return ids, list(sets)


@lru_cache(maxsize=1)
def _param_literals() -> list[str]:
    return sorted({f"{p}=" for rule in engine_rules() for p in rule.params})


def extract_frame(df: pl.DataFrame) -> pl.DataFrame:
    """For a frame with `host`, `path`, `query`: columns `search_terms` and `search_kind`, row-aligned."""
    n = df.height
    ids, sets = _rule_sets(df["host"]) if n else (pl.Series(dtype=pl.Int32), [])
    out_terms = pl.repeat(None, n, dtype=pl.String, eager=True).alias("search_terms")
    out_kind = pl.repeat(None, n, dtype=pl.String, eager=True).alias("search_kind")
    if not sets or ids.null_count() == n:
        return pl.DataFrame([out_terms, out_kind])
    rules = engine_rules()
    # Most rows on big search hosts (YouTube videos, Google Classroom, BBC pages) are not searches: only
    # rows whose query names a search parameter, or whose host has path-carried searches, go on to regexes.
    path_sets = [
        i for i, rule_ids in enumerate(sets) if any(rules[r].path_terms or rules[r].query_terms for r in rule_ids)
    ]
    hint = pl.col("query").str.contains_any(_param_literals()).fill_null(False)
    sub = (
        df.select("path", "query")
        .with_columns(_set=ids, _row=pl.int_range(n, dtype=pl.UInt32))
        .filter(pl.col("_set").is_not_null() & (hint | pl.col("_set").is_in(path_sets)))
    )
    pieces = []
    for (set_id,), part in sub.partition_by("_set", as_dict=True).items():
        rule_ids = sets[int(set_id)]
        path, query = pl.col("path").fill_null(""), pl.col("query").fill_null("")
        terms: pl.Expr = pl.lit(None, dtype=pl.String)
        kind: pl.Expr = pl.lit(None, dtype=pl.String)
        for i in reversed(rule_ids):  # the earliest rule that yields terms wins
            value = _rule_expr(rules[i], path, query)
            terms = pl.when(value.is_not_null()).then(value).otherwise(terms)
            kind = pl.when(value.is_not_null()).then(pl.lit(rules[i].kind)).otherwise(kind)
        pieces.append(part.select("_row", terms.alias("t"), kind.alias("k")))
    found = pl.concat(pieces).filter(pl.col("t").is_not_null()) if pieces else None
    if found is not None and found.height:
        decoded = _decode(found["t"])
        out_terms = out_terms.scatter(found["_row"], decoded)
        out_kind = out_kind.scatter(found["_row"], found["k"])
    return pl.DataFrame([out_terms, out_kind])


def _extract_struct(s: pl.Series) -> pl.Series:
    return extract_frame(s.struct.unnest())["search_terms"]


def search_terms_expr(host: pl.Expr, path: pl.Expr, query: pl.Expr) -> pl.Expr:
    """Decoded search terms for rows whose host is a known search engine or site search, else null."""
    return pl.struct(host.alias("host"), path.alias("path"), query.alias("query")).map_batches(
        _extract_struct, return_dtype=pl.String
    )


def extract_url(url: str) -> str | None:
    """Search terms of one URL (tests, unwrapped inner URLs)."""
    from parsers.urls import split_url

    df = pl.DataFrame({"url": [url]}).select(split_url(pl.col("url")).alias("u")).unnest("u")
    return extract_frame(df)["search_terms"][0]  # type: ignore[no-any-return]
