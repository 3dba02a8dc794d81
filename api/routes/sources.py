"""`/api/sources` (ingest health: lag and silent sources); `filtertest_history` for the network page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.auth import Principal, require
from api.config import ApiConfig
from api.deps import ApiConfigDep, CurrentPrincipal, SettingsDep, WarehouseDep
from api.errors import Forbidden
from cases.store import CaseStore
from vigil.settings import Settings

router = APIRouter(prefix="/api", tags=["ingest health"])


def source_health(settings: Settings, cfg: ApiConfig, warehouse: Any, schools: list[str]) -> list[dict[str, Any]]:
    """Per school, source and observer: events and last event time over the health window, lag, silent flag.

    Derived from the warehouse, plus the ingest processes' own per-feed counters (`feed_health`);
    configured sources with no events at all are listed as silent so a dead feed is never invisible.
    """
    now = datetime.now(UTC)
    since = now - timedelta(days=cfg.health_days)
    silent_after = timedelta(minutes=cfg.silent_after_minutes)
    out: list[dict[str, Any]] = []
    for school in schools:
        seen: set[str] = set()
        for row in warehouse.source_health(school, since=since, until=now + timedelta(minutes=1)):
            last = row["last_ts"]
            if isinstance(last, datetime) and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            lag = (now - last).total_seconds() if isinstance(last, datetime) else None
            seen.add(str(row["source"]))
            out.append(
                {
                    "school": school,
                    "source": row["source"],
                    "observer": row["observer"],
                    "events": row["events"],
                    "last_ts": last,
                    "lag_seconds": lag,
                    "silent": lag is None or lag > silent_after.total_seconds(),
                    "configured": None,
                }
            )
        for src in settings.sources:
            if src.school == school and src.format not in seen and src.name not in seen:
                out.append(
                    {
                        "school": school,
                        "source": src.format,
                        "observer": src.observer or src.name,
                        "events": 0,
                        "last_ts": None,
                        "lag_seconds": None,
                        "silent": True,
                        "configured": src.name,
                    }
                )
    return out + feed_health(settings, schools)


def feed_health(settings: Settings, schools: list[str]) -> list[dict[str, Any]]:
    """What the ingest processes themselves report per feed (files, syslog senders, Kafka): lines received,
    rejects, last line, and silence counted in school hours (`[ingest] silent_after_minutes`)."""
    from ingest.health import source_status

    now = datetime.now(UTC)
    return [
        {
            "school": st.school,
            "source": st.name,
            "observer": st.kind,
            "events": st.events,
            "lines": st.lines,
            "rejects": st.rejects,
            "last_ts": st.last_seen,
            "lag_seconds": (now - st.last_seen).total_seconds() if st.last_seen else None,
            "silent": st.silent,
            "configured": "feed",
        }
        for st in source_status(settings, now=now)
        if st.school in schools
    ]


def _schools(principal: Principal, permission: str, school: str | None) -> list[str]:
    allowed = principal.schools_for(permission)
    if school is None:
        return allowed
    if school not in allowed:
        raise Forbidden(f"not permitted: {permission} in school {school}")
    return [school]


@router.get("/sources", dependencies=[require("sources.view")])
async def sources(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    cfg: ApiConfigDep,
    warehouse: WarehouseDep,
    school: str | None = None,
) -> list[dict[str, Any]]:
    """Ingest health per source and observer (no pupil identities)."""
    schools = _schools(principal, "sources.view", school)
    return await run_in_threadpool(source_health, settings, cfg, warehouse, schools)


def filtertest_history(store: CaseStore, schools: list[str], limit: int = 50) -> list[dict[str, Any]]:
    """Recorded filter checks for these schools, newest first (when, who, what plan, result, open actions)."""
    from filtertests.records import list_runs

    return list_runs(store, schools, limit=limit)
