"""From requests to filter decisions: who (login, group, address), when (UTC), and what each filter did."""

from __future__ import annotations

import zlib
from datetime import date, datetime

import numpy as np
import polars as pl

from vigil.demo.catalog import BLOCKED, CATEGORY_BY_KEY, USER_AGENTS, WARNED, dst_ip_for
from vigil.demo.population import Population
from vigil.demo.traffic import MACHINE_BASE, STAFF_OFFSET, UA_KINDS

TZ = "Europe/London"
DEVICE_OF = {"pupil": "netsweeper", "machine": "netsweeper", "sixth": "e2guardian", "staff": "fortigate"}
PROCEED_SHARE = 0.5  # warned pupils who click through the warning page


def people(pop: Population) -> pl.DataFrame:
    """person id -> login, filter group, e2guardian group number, audience, device and Wi-Fi lease."""
    p = pop.pupils.select(
        person=pl.col("idx"),
        user=pl.col("user"),
        group=pl.col("filter_group"),
        # e2guardian filter groups: 1 default, then one per sixth-form year.
        group_no=pl.when(pl.col("year") == 12).then(2).when(pl.col("year") == 13).then(3).otherwise(0),
        audience=pl.when(pl.col("sixth")).then(pl.lit("sixth")).otherwise(pl.lit("pupil")),
        wifi_ip=pl.col("wifi_ip"),
    )
    s = pop.staff.select(
        person=pl.col("idx") + STAFF_OFFSET,
        user=pl.col("user"),
        group=pl.lit("staff"),
        group_no=pl.lit(0),
        audience=pl.lit("staff"),
        wifi_ip=pl.col("wifi_ip"),
    )
    return pl.concat([p.cast({"group_no": pl.Int64}), s.cast({"group_no": pl.Int64, "person": pl.Int64})])


def _ua_table() -> pl.DataFrame:
    rows = [(k, i, ua) for k, name in enumerate(UA_KINDS) for i, ua in enumerate(USER_AGENTS[name])]
    return pl.DataFrame(rows, schema=["ua", "ua_variant", "user_agent"], orient="row")


def _dst_ips(hosts: pl.Series) -> pl.Series:
    uniq = sorted(hosts.drop_nulls().unique().to_list())
    mapping = {h: dst_ip_for(zlib.crc32(h.encode())) for h in uniq}
    return hosts.replace_strict(mapping, default=None, return_dtype=pl.String)


def resolve(frame: pl.DataFrame, pop: Population, days: list[date], rng: np.random.Generator) -> pl.DataFrame:
    """Attach identities, addresses, UTC time, device, and each filter's decision to every request."""
    midnights = pl.DataFrame(
        {
            "day": np.arange(len(days) + 1),
            "midnight": [
                datetime(d.year, d.month, d.day) for d in [*days, days[-1].fromordinal(days[-1].toordinal() + 1)]
            ],
        }
    ).with_columns(pl.col("midnight").dt.cast_time_unit("us"))
    machine = pl.col("person") >= MACHINE_BASE
    df = (
        frame.join(people(pop), on="person", how="left", maintain_order="left")
        .join(midnights, on="day", how="left", maintain_order="left")
        .with_columns(
            audience=pl.when(machine).then(pl.lit("machine")).otherwise(pl.col("audience")),
            client_ip=pl.when(pl.col("b") >= 0)
            .then(pl.format("10.{}.{}.{}", pl.col("b"), pl.col("c"), pl.col("d")))
            .otherwise(pl.col("wifi_ip")),
            client_name=pl.when(machine)
            .then(
                pl.format(
                    "WS-M{}-{}",
                    pl.col("c").cast(pl.String).str.zfill(2),
                    (pl.col("d") - 10).cast(pl.String).str.zfill(2),
                )
            )
            .otherwise(pl.col("user")),
            local=pl.col("midnight") + pl.duration(microseconds=pl.col("t")),
        )
        .with_columns(
            ts=pl.col("local")
            .dt.replace_time_zone(TZ, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC"),
            device=pl.coalesce(pl.col("force_device"), pl.col("audience").replace_strict(DEVICE_OF)),
        )
    )
    # Each person keeps one browser of their device kind all week.
    df = df.with_columns(
        ua_variant=pl.col("person")
        % pl.col("ua").replace_strict({i: len(USER_AGENTS[k]) for i, k in enumerate(UA_KINDS)}, return_dtype=pl.Int64)
    )
    df = df.join(_ua_table(), on=["ua", "ua_variant"], how="left", maintain_order="left")
    return _decide(df, rng)


def _decide(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Allowed, blocked or warned per audience and category (a scenario may force a decision), then proceeds."""
    policy = pl.lit("allowed")
    for audience, blocked_cats in BLOCKED.items():
        aud = pl.col("audience").replace({"machine": "pupil"}) == audience
        policy = (
            pl.when(aud & pl.col("cat").is_in(list(blocked_cats)))
            .then(pl.lit("blocked"))
            .when(aud & pl.col("cat").is_in(list(WARNED[audience])))
            .then(pl.lit("warned"))
            .otherwise(policy)
        )
    df = df.with_columns(action=pl.coalesce(pl.col("force_action"), policy))
    # e2guardian and FortiGate have no warn-and-proceed page in this school's set-up: warnings are Netsweeper's.
    df = df.with_columns(
        action=pl.when((pl.col("action") == "warned") & (pl.col("device") != "netsweeper"))
        .then(pl.lit("allowed"))
        .otherwise(pl.col("action"))
    )
    warned = df.filter(pl.col("action") == "warned")
    proceeded = _proceeds(warned, rng)
    df = pl.concat([df, proceeded], how="vertical")
    n = df.height
    size = rng.lognormal(9.0, 1.3, n).astype(np.int64)
    cats = pl.DataFrame(
        {
            "cat": [c.key for c in CATEGORY_BY_KEY.values()],
            "ns_number": [c.ns_number for c in CATEGORY_BY_KEY.values()],
            "ns_name": [c.ns_name for c in CATEGORY_BY_KEY.values()],
            "fg_id": [c.fg_id for c in CATEGORY_BY_KEY.values()],
            "fg_desc": [c.fg_desc for c in CATEGORY_BY_KEY.values()],
            "e2_name": [c.e2_name for c in CATEGORY_BY_KEY.values()],
        }
    )
    blocked = pl.col("action") == "blocked"
    return (
        df.join(cats, on="cat", how="left", maintain_order="left")
        .with_columns(
            status=pl.when(blocked)
            .then(403)
            .when(pl.col("action") == "warned")
            .then(200)
            .otherwise(pl.when(pl.col("method") == "POST").then(302).otherwise(200)),
            bytes_in=pl.when(blocked).then(pl.Series(rng.integers(900, 2400, n))).otherwise(pl.Series(size)),
            bytes_out=pl.Series(rng.integers(300, 1800, n)),
            duration_ms=pl.when(blocked).then(0).otherwise(pl.Series(rng.integers(8, 900, n))),
            dst_ip=_dst_ips(df["host"]),
            sport=pl.Series(rng.integers(49152, 65535, n)),
        )
        .sort("ts", "client_ip", "url", maintain_order=True)
    )


def _proceeds(warned: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Some warned pupils click "proceed": the same URL again a few seconds later, logged as proceeded."""
    picked = warned.filter(pl.Series(rng.random(warned.height) < PROCEED_SHARE, dtype=pl.Boolean))
    delay = pl.lit(pl.Series(rng.integers(3_000_000, 25_000_000, picked.height), dtype=pl.Int64))
    return picked.with_columns(
        ts=pl.col("ts") + pl.duration(microseconds=delay),
        action=pl.lit("proceeded"),
    )
