"""Raw events and pupil timelines from the warehouse (DSL and deputy only; every call audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool

from api.auth import require
from api.deps import CurrentPrincipal, StoreDep, WarehouseDep
from api.present import events_to_dicts
from cases import audit
from cases.errors import InvalidInput

router = APIRouter(prefix="/api", tags=["events"])

MAX_SPAN = timedelta(days=92)


def _aware(ts: datetime | None, default: datetime) -> datetime:
    if ts is None:
        return default
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@router.get("/events", dependencies=[require("events.view_raw")])
async def events(
    principal: CurrentPrincipal,
    store: StoreDep,
    warehouse: WarehouseDep,
    school: Annotated[str, Query(min_length=1, max_length=64)],
    user: Annotated[str | None, Query(max_length=255)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
    why: Annotated[str | None, Query(max_length=500)] = None,
) -> list[dict[str, Any]]:
    """One school's events in [since, until) (default the last 24 hours), optionally one user's, in time order."""
    end = _aware(until, datetime.now(UTC))
    start = _aware(since, end - timedelta(hours=24))
    if start >= end:
        raise InvalidInput("since must be before until")
    if end - start > MAX_SPAN:
        raise InvalidInput("at most 92 days per request")
    table = await run_in_threadpool(warehouse.events, school, since=start, until=end, user=user, limit=limit)
    await run_in_threadpool(
        audit.record,
        store,
        actor=principal.name,
        action="events.view",
        object_type="events",
        object_id=user,
        school=school,
        detail={"since": start, "until": end, "rows": table.num_rows},
        why=why,
    )
    return events_to_dicts(table)


@router.get("/users/{user}/timeline", dependencies=[require("events.view_raw")])
async def timeline(
    user: Annotated[str, Path(min_length=1, max_length=255)],
    principal: CurrentPrincipal,
    store: StoreDep,
    warehouse: WarehouseDep,
    school: Annotated[str, Query(min_length=1, max_length=64)],
    around: datetime | None = None,
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
    why: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """One user's events within ± minutes of an instant (default now), audited."""
    centre = _aware(around, datetime.now(UTC))
    table = await run_in_threadpool(warehouse.timeline, school, user, centre, minutes)
    await run_in_threadpool(
        audit.record,
        store,
        actor=principal.name,
        action="timeline.view",
        object_type="user",
        object_id=user,
        school=school,
        detail={"around": centre, "minutes": minutes, "rows": table.num_rows},
        why=why,
    )
    return {
        "user": user,
        "school": school,
        "around": centre.isoformat(),
        "minutes": minutes,
        "events": events_to_dicts(table),
    }
