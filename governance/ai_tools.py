"""Generative-AI services as an enrichment category, and AI-tool use reported against the school's policy.

`governance/data/ai_services.toml` lists the services (chat assistants, image generators, AI companions,
homework solvers, writing and code tools) with vendor, category and domains. Matching is by host name suffix:
the distinct hosts of a period are mapped once (each host to its parent domains, then an equi-join), and the
events are joined to that small map, all in DuckDB over the school's pruned Parquet partitions.

`usage()` is the aggregate for governors and SLT (counts by service, group and week, approved or not for
the group under `[governance.ai_policy]`; never a user name); `pupil_detail()` is the DSL's per-pupil view
and writes an audit entry for every call.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from cases import audit
from cases.store import CaseStore
from governance.config import AiPolicy
from governance.errors import GovernanceInvalid

DATA = Path(__file__).parent / "data" / "ai_services.toml"
AI_CATEGORIES: dict[str, str] = {
    "chat_assistant": "Chat assistants",
    "image_generator": "Image generators",
    "ai_companion": "AI companions and characters",
    "homework_solver": "Homework solvers",
    "writing_tool": "Writing and paraphrasing tools",
    "code_assistant": "Code assistants",
}


@dataclass(frozen=True)
class AiService:
    """One generative-AI service."""

    id: str
    name: str
    vendor: str
    category: str
    domains: tuple[str, ...]


def parse_services(text: str) -> tuple[AiService, ...]:
    """Validate the list: known categories, unique ids, no domain a suffix of another (one match per host)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GovernanceInvalid(f"ai_services.toml: {exc}") from exc
    out: list[AiService] = []
    for i, item in enumerate(data.get("service", [])):
        try:
            svc = AiService(
                id=str(item["id"]),
                name=str(item["name"]),
                vendor=str(item["vendor"]),
                category=str(item["category"]),
                domains=tuple(str(d).lower().strip(".") for d in item["domains"]),
            )
        except KeyError as exc:
            raise GovernanceInvalid(f"ai_services.toml: service {i} lacks {exc}") from exc
        if svc.category not in AI_CATEGORIES:
            raise GovernanceInvalid(f"ai_services.toml: {svc.id}: unknown category {svc.category!r}")
        out.append(svc)
    ids = [s.id for s in out]
    if len(ids) != len(set(ids)):
        raise GovernanceInvalid("ai_services.toml: duplicate service ids")
    domains = sorted(d for s in out for d in s.domains)
    for d in domains:
        clash = [o for o in domains if o != d and (o == d or o.endswith("." + d))]
        if clash or domains.count(d) > 1:
            raise GovernanceInvalid(f"ai_services.toml: domain {d} overlaps {clash or [d]}")
    return tuple(out)


@lru_cache(maxsize=1)
def services() -> tuple[AiService, ...]:
    """The shipped list."""
    return parse_services(DATA.read_text("utf-8"))


def domain_table() -> pa.Table:
    """domain -> service id, name, vendor, category (one row per domain)."""
    rows = [(d, s.id, s.name, s.vendor, s.category) for s in services() for d in s.domains]
    names = ["domain", "service", "name", "vendor", "ai_category"]
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


_HOST_MAP = """
WITH hosts AS (SELECT DISTINCT host FROM ev WHERE host IS NOT NULL),
suffixes AS (
  SELECT host, array_to_string(string_split(host, '.')[-i:], '.') AS suffix
  FROM hosts, range(1, 7) AS r(i)
  WHERE i <= len(string_split(host, '.'))
)
SELECT s.host, d.service, d.ai_category FROM suffixes s JOIN domains d ON s.suffix = d.domain
"""


def tag(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `ai_service` and `ai_category` columns (null when the host is not an AI service)."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        con.register("ev", frame.select("host").to_arrow())
        con.register("domains", domain_table())
        mapped = pl.from_arrow(con.sql(_HOST_MAP).to_arrow_table())
    finally:
        con.close()
    assert isinstance(mapped, pl.DataFrame)
    mapped = mapped.rename({"service": "ai_service"})
    return frame.join(mapped, on="host", how="left")


def _query(warehouse: Any, school: str, since: datetime, until: datetime, select: str) -> pl.DataFrame:
    """Run `select` over the school's AI-service events in [since, until) (view `ai`: ts, user, group...)."""
    files = warehouse.files("events", school, since, until)
    if not files:
        return pl.DataFrame()
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        con.register("domains", domain_table())
        # a view cannot take prepared parameters: the file list and bounds are ours, quoted as literals
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(
            "CREATE TEMP VIEW ev AS SELECT ts, user, user_group, host, action "
            f"FROM read_parquet([{listed}], union_by_name=true) "
            f"WHERE ts >= '{since.astimezone(UTC).isoformat()}'::TIMESTAMPTZ "
            f"AND ts < '{until.astimezone(UTC).isoformat()}'::TIMESTAMPTZ"
        )
        con.execute(f"CREATE TEMP TABLE hostmap AS {_HOST_MAP}")
        con.execute(
            "CREATE TEMP VIEW ai AS SELECT ev.ts, ev.user, coalesce(ev.user_group, '(no group)') AS user_group, "
            "ev.host, ev.action, h.service, h.ai_category FROM ev JOIN hostmap h USING (host)"
        )
        out = pl.from_arrow(con.sql(select).to_arrow_table())
    finally:
        con.close()
    assert isinstance(out, pl.DataFrame)
    return out


def _approved(frame: pl.DataFrame, policy: AiPolicy) -> pl.DataFrame:
    """Add `approved` per (group, service) under the policy (a small table: groups x services)."""
    if frame.is_empty():
        return frame.with_columns(approved=pl.lit(False))
    pairs = frame.select("user_group", "service").unique()
    flags = [s in policy.approved_for(g) for g, s in pairs.iter_rows()]
    return frame.join(pairs.with_columns(approved=pl.Series(flags, dtype=pl.Boolean)), on=["user_group", "service"])


def usage(warehouse: Any, school: str, since: datetime, until: datetime, policy: AiPolicy) -> dict[str, Any]:
    """Aggregate AI-tool use (no identities): by service, by group and service, by week and category."""
    names = {s.id: s for s in services()}
    by_group = _query(
        warehouse,
        school,
        since,
        until,
        "SELECT user_group, service, ai_category, count(*) AS events, count(DISTINCT user) AS users, "
        "count(*) FILTER (WHERE action IN ('blocked', 'warned')) AS blocked FROM ai GROUP BY 1, 2, 3 ORDER BY 1, 2",
    )
    by_week = _query(
        warehouse,
        school,
        since,
        until,
        "SELECT CAST(date_trunc('week', ts) AS DATE) AS week, user_group, service, ai_category, count(*) AS events, "
        "count(DISTINCT user) AS users FROM ai GROUP BY 1, 2, 3, 4 ORDER BY 1",
    )
    by_group = _approved(by_group, policy)
    by_week = _approved(by_week, policy)
    groups = [
        {**r, "name": names[r["service"]].name, "vendor": names[r["service"]].vendor} for r in by_group.to_dicts()
    ]
    weeks: dict[str, dict[str, int]] = {}
    for r in by_week.to_dicts():
        slot = weeks.setdefault(str(r["week"]), {"approved": 0, "unapproved": 0})
        slot["approved" if r["approved"] else "unapproved"] += int(r["events"])
    per_category: dict[str, int] = {}
    for r in groups:
        per_category[r["ai_category"]] = per_category.get(r["ai_category"], 0) + int(r["events"])
    return {
        "school": school,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "events": sum(int(r["events"]) for r in groups),
        "unapproved_events": sum(int(r["events"]) for r in groups if not r["approved"]),
        "by_group": groups,
        "by_week": [{"week": w, **v} for w, v in sorted(weeks.items())],
        "by_category": dict(sorted(per_category.items())),
        "policy": {"approved": sorted(policy.approved), "groups": {g: sorted(v) for g, v in policy.groups.items()}},
    }


def pupil_detail(
    store: CaseStore,
    warehouse: Any,
    school: str,
    since: datetime,
    until: datetime,
    policy: AiPolicy,
    *,
    actor: str,
    why: str | None = None,
    only_unapproved: bool = False,
) -> list[dict[str, Any]]:
    """Per user and service: events, first and last use, approved or not (DSL only; audited)."""
    frame = _query(
        warehouse,
        school,
        since,
        until,
        "SELECT user, user_group, service, ai_category, count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM ai WHERE user IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY events DESC, user",
    )
    frame = _approved(frame, policy)
    if only_unapproved and not frame.is_empty():
        frame = frame.filter(~pl.col("approved"))
    rows = frame.to_dicts()
    audit.record(
        store,
        actor=actor,
        action="ai_tools.pupil_detail",
        object_type="report",
        object_id="ai_tools",
        school=school,
        detail={
            "since": since.isoformat(),
            "until": until.isoformat(),
            "rows": len(rows),
            "users": len({r["user"] for r in rows}),
        },
        why=why,
    )
    return rows
