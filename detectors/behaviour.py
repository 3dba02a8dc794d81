"""Behaviour rules that need history: sequences, not single requests.

1. `behaviour:after_block` - a blocked request, then within minutes the same user sends repeated traffic
   to a host the school has not seen before (or only a couple of users have): a new way round the block.
2. `behaviour:went_dark` - a busy user's traffic stops while the same device keeps talking to one or two
   destinations: consistent with a VPN or tunnel taking the traffic out of the filter's sight.
3. `behaviour:lesson_spread` - a first-seen host reached by many users in the same hour from the same /24:
   a new unblocker being passed round a class (or a new lesson resource: graded low unless the name looks
   like a proxy to the domain model).
History comes from `ctx.warehouse` (read-only). Without it (`vigil detect`) nothing can be called "new",
so these rules grade themselves 1 (digest only) instead of guessing. IsolationForest ranks users per batch
(`rank_users`); the rank is evidence for ordering a review list, never an alert on its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import polars as pl

from detectors.circumvention_config import BehaviourConfig
from detectors.domain_model import is_ordinary

_LOCK = threading.Lock()

MIN_BASELINE_DAYS = 5
"""Days of earlier data a school needs before a host can be called new to it."""
_CON: duckdb.DuckDBPyConnection | None = None
_HIT_COLUMNS = ("_row", "rule", "base", "title", "why", "matched", "kind")
_UNBLOCKER_SHAPE = re.compile(
    r"(proxy|unblock|bypass|vpn|tunnel|anonym|hide|mirror|games?)|\.(vercel\.app|github\.io|pages\.dev|netlify\.app"
    r"|onrender\.com|replit\.app|repl\.co|glitch\.me|web\.app|firebaseapp\.com|herokuapp\.com|workers\.dev"
    r"|ngrok(-free)?\.(io|app|dev)|railway\.app|fly\.dev|deno\.dev|surge\.sh)$"
)


def _cursor() -> duckdb.DuckDBPyConnection:
    global _CON
    with _LOCK:
        if _CON is None:
            _CON = duckdb.connect(":memory:", config={"threads": 1})
        return _CON.cursor()


def _history_files(warehouse: Any, school: str, before: datetime, days: int) -> list[str]:
    files: list[str] = warehouse.files("events", school, before - timedelta(days=days), before)
    return files


def host_history(warehouse: Any, school: str, hosts: Sequence[str], before: datetime, days: int) -> dict[str, int]:
    """Distinct users per host in the school's events of the `days` before `before` (hosts never seen: absent)."""
    if not hosts:
        return {}
    files = _history_files(warehouse, school, before, days)
    if not files:
        return {}
    rows = _cursor().execute(
        "SELECT host, count(DISTINCT coalesce(user, client_ip)) FROM read_parquet(?, union_by_name=true) "
        "WHERE ts >= ? AND ts < ? AND host IN (SELECT unnest(?)) GROUP BY host",
        [files, before - timedelta(days=days), before, list(hosts)],
    ).fetchall()
    return {str(h): int(n) for h, n in rows}


def seen_before(warehouse: Any, school: str, hosts: Sequence[str], before: datetime, days: int) -> set[str]:
    """Hosts among these that the school's events show in the `days` before `before`."""
    return set(host_history(warehouse, school, hosts, before, days))


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"_row": pl.UInt32, "rule": pl.String, "base": pl.Int32, "title": pl.String,
                                "why": pl.String, "matched": pl.String, "kind": pl.String})


def _history_for(df: pl.DataFrame, warehouse: Any, hosts: list[str], days: int) -> dict[tuple[str, str], int] | None:
    """(school, host) -> users in history, or None when there is no warehouse."""
    if warehouse is None:
        return None
    out: dict[tuple[str, str], int] = {}
    start = df["ts"].min()
    assert isinstance(start, datetime)
    schools = df["school"].drop_nulls().unique().to_list()
    # A warehouse that has only just started has no baseline: everything would look first-seen.
    for school in schools:
        known = [d for d in warehouse.days("events", str(school)) if d < start.date()]
        if len(known) < MIN_BASELINE_DAYS:
            return None
    for school in schools:
        for host, n in host_history(warehouse, str(school), hosts, start, days).items():
            out[(str(school), host)] = n
    return out


def behaviour_hits(df: pl.DataFrame, ctx: Any, cfg: BehaviourConfig, allow: Sequence[str] = ()) -> pl.DataFrame:
    """Hits of the three behaviour rules over one batch (columns as the detector's hit frame)."""
    if df.height == 0:
        return _empty()
    wh = ctx.warehouse
    parts = [_after_block(df, wh, cfg, allow), _went_dark(df, cfg), _lesson_spread(df, wh, cfg, allow)]
    parts = [p for p in parts if p.height]
    return pl.concat(parts, how="vertical_relaxed") if parts else _empty()


def _after_block(df: pl.DataFrame, warehouse: Any, cfg: BehaviourConfig, allow: Sequence[str]) -> pl.DataFrame:
    window = timedelta(minutes=cfg.after_block_minutes)
    base = df.filter(pl.col("user").is_not_null() & pl.col("host").is_not_null())
    blocks = base.filter(pl.col("action") == "blocked").select("user", pl.col("ts").alias("_bts"),
                                                              pl.col("host").alias("_bhost"))
    if blocks.height == 0:
        return _empty()
    allowed = base.filter(pl.col("action").is_in(["allowed", "proceeded"]) | pl.col("action").is_null())
    # Hosts the batch itself shows to few users; history (when present) must also call them new or rare.
    users_per_host = base.group_by("host").agg(pl.col("user").n_unique().alias("_nu"))
    rare = users_per_host.filter(pl.col("_nu") <= cfg.rare_max_users)["host"].to_list()
    rare = [h for h in rare if not is_ordinary(h, allow)]
    if not rare:
        return _empty()
    pairs = allowed.filter(pl.col("host").is_in(rare)).join(blocks, on="user", how="inner").filter(
        (pl.col("ts") > pl.col("_bts")) & (pl.col("ts") <= pl.col("_bts") + window)
        & (pl.col("host") != pl.col("_bhost"))
    )
    if pairs.height == 0:
        return _empty()
    counts = pairs.group_by("user", "host").agg(pl.col("_row").n_unique().alias("_n"), pl.col("_bhost").first())
    counts = counts.filter(pl.col("_n") >= cfg.min_new_host_requests)
    if counts.height == 0:
        return _empty()
    history = _history_for(df, warehouse, counts["host"].unique().to_list(), cfg.history_days)
    school_of = df.select("user", "school").unique("user", keep="first")
    counts = counts.join(school_of, on="user", how="left")
    sev: list[int] = []
    for school, host in counts.select("school", "host").iter_rows():
        if history is None:
            sev.append(1)  # cannot tell "new" without history: digest only
        else:
            n = history.get((str(school), str(host)), 0)
            sev.append(3 if n <= cfg.rare_max_users else 0)
    counts = counts.with_columns(pl.Series("base", sev, dtype=pl.Int32)).filter(pl.col("base") > 0)
    rows = pairs.join(counts.select("user", "host", "base", "_n"), on=["user", "host"]).unique("_row")
    return rows.select(
        "_row", pl.lit("behaviour:after_block").alias("rule"), "base",
        pl.lit("Blocked, then straight to a new, rarely used site").alias("title"),
        ("After being blocked on " + pl.col("_bhost") + ", the pupil went within "
         + pl.lit(str(cfg.after_block_minutes)) + " minutes to " + pl.col("host")
         + ", a site the school has not seen before or only one or two people use, and kept using it ("
         + pl.col("_n").cast(pl.String) + " requests). That is how pupils reach an unblocker.").alias("why"),
        pl.col("host").alias("matched"), pl.lit("behaviour").alias("kind"),
    ).cast({"base": pl.Int32})


def _went_dark(df: pl.DataFrame, cfg: BehaviourConfig) -> pl.DataFrame:
    gap = timedelta(minutes=cfg.dark_minutes)
    users = df.filter(pl.col("user").is_not_null() & pl.col("client_ip").is_not_null())
    if users.height == 0:
        return _empty()
    last = users.group_by("user", "client_ip").agg(
        pl.col("ts").max().alias("_last"), pl.col("ts").min().alias("_first"), pl.len().alias("_n"),
        pl.col("_row").sort_by("ts").last().alias("_row"),
    )
    last = last.filter(pl.col("_n") >= cfg.dark_min_prior_events)
    if last.height == 0:
        return _empty()
    # The same device afterwards with no user at all (firewall or unauthenticated traffic): still switched on.
    after = df.filter(pl.col("user").is_null() & pl.col("client_ip").is_not_null()).select(
        "client_ip", "ts", pl.coalesce("host", "dst_ip").alias("_dest"))
    joined = last.join(after, on="client_ip").filter(pl.col("ts") > pl.col("_last") + gap)
    if joined.height == 0:
        return _empty()
    summary = joined.group_by("user", "client_ip").agg(
        pl.col("_row").first(), pl.col("_dest").n_unique().alias("_dests"), pl.len().alias("_after"),
        pl.col("_dest").mode().first().alias("_top"),
    )
    tunnel_like = (pl.col("_dests") <= 2) & (pl.col("_after") >= 20)
    return summary.select(
        "_row", pl.lit("behaviour:went_dark").alias("rule"),
        pl.when(tunnel_like).then(pl.lit(2)).otherwise(pl.lit(1)).cast(pl.Int32).alias("base"),
        pl.lit("A busy pupil's browsing stopped while the device stayed online").alias("title"),
        ("This pupil's filtered browsing stopped, but the same device (" + pl.col("client_ip")
         + ") kept sending traffic, mostly to " + pl.col("_top").fill_null("?") + " ("
         + pl.col("_after").cast(pl.String) + " connections to " + pl.col("_dests").cast(pl.String)
         + " destination(s)). A VPN or tunnel looks like this.")
        .alias("why"),
        pl.col("_top").alias("matched"), pl.lit("behaviour").alias("kind"),
    )


def _lesson_spread(df: pl.DataFrame, warehouse: Any, cfg: BehaviourConfig, allow: Sequence[str]) -> pl.DataFrame:
    base = df.filter(pl.col("user").is_not_null() & pl.col("host").is_not_null() & pl.col("client_ip").is_not_null())
    if base.height == 0:
        return _empty()
    base = base.with_columns(
        pl.col("ts").dt.truncate("1h").alias("_hour"),
        pl.col("client_ip").str.extract(r"^(\d+\.\d+\.\d+)\.\d+$", 1).alias("_net"),
    ).filter(pl.col("_net").is_not_null())
    groups = base.group_by("school", "host", "_hour", "_net").agg(pl.col("user").n_unique().alias("_nu"))
    groups = groups.filter(pl.col("_nu") >= cfg.lesson_min_users)
    if groups.height == 0:
        return _empty()
    hosts = [h for h in groups["host"].unique().to_list() if not is_ordinary(h, allow)]
    if not hosts:
        return _empty()
    history = _history_for(df, warehouse, hosts, cfg.history_days)
    if history is None:
        # Without history nothing can be called first-seen: every popular site in a lesson would qualify.
        return _empty()
    seen = {k[1] for k in history}
    hosts = [h for h in hosts if h not in seen]
    if not hosts:
        return _empty()
    # New *and* shaped like an unblocker (free hosting platform or a bypass word): 2; otherwise 1, because a
    # teacher sending a class to a new quiz site looks exactly the same.
    new_hosts = [h for h in hosts if _UNBLOCKER_SHAPE.search(h)]
    rows = base.join(groups.filter(pl.col("host").is_in(hosts)), on=["school", "host", "_hour", "_net"])
    grade = pl.when(pl.col("host").is_in(new_hosts)).then(pl.lit(2)).otherwise(pl.lit(1)).cast(pl.Int32)
    first = rows.sort("ts").unique(["user", "host"], keep="first")
    return first.select(
        "_row", pl.lit("behaviour:lesson_spread").alias("rule"), grade.alias("base"),
        pl.lit("A new site spread round a class within the hour").alias("title"),
        ("The site " + pl.col("host") + " was new to the school and " + pl.col("_nu").cast(pl.String)
         + " pupils on the same network reached it within the same hour: a new unblocker being passed round looks "
         "like this (so does a new lesson resource).").alias("why"),
        pl.col("host").alias("matched"), pl.lit("behaviour").alias("kind"),
    )


def rank_users(df: pl.DataFrame, seed: int = 0) -> dict[str, float]:
    """IsolationForest anomaly rank per user over this batch (higher = more unusual); for ordering only."""
    from sklearn.ensemble import IsolationForest

    users = df.filter(pl.col("user").is_not_null())
    if users.select(pl.col("user").n_unique()).item() < 20:
        return {}
    feats = users.group_by("user").agg(
        pl.len().alias("n"),
        (pl.col("action") == "blocked").mean().alias("blocked"),
        pl.col("category").is_null().mean().alias("uncategorised"),
        pl.col("host").n_unique().alias("hosts"),
        (pl.col("method") == "CONNECT").mean().alias("connect"),
        pl.col("host").str.contains(r"^\d{1,3}(\.\d{1,3}){3}$").fill_null(False).mean().alias("ip_hosts"),
    ).sort("user")
    x = feats.drop("user").fill_null(0).to_numpy().astype(np.float64)
    forest = IsolationForest(n_estimators=100, random_state=seed).fit(x)
    scores = -forest.score_samples(x)
    return {str(u): round(float(s), 4) for u, s in zip(feats["user"].to_list(), scores, strict=True)}
