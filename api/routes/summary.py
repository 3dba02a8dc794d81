"""`/api/reports/summary`: aggregates without identities, for every staff role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.auth import require
from api.deps import StoreDep, WarehouseDep
from cases import schema as t
from cases.errors import InvalidInput
from cases.store import CaseStore

router = APIRouter(prefix="/api/reports", tags=["reports"])


def alert_aggregates(store: CaseStore, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Alert counts by category, severity and status (no identities, staff alerts only as a count)."""
    a = t.alerts.c
    where = (a.school == school, a.ts >= since, a.ts < until)
    out: dict[str, Any] = {}
    with store.engine.connect() as c:
        for key, col in (
            ("by_category", a.category),
            ("by_severity", a.severity),
            ("by_status", a.status),
            ("by_outcome", a.outcome),
        ):
            rows = c.execute(sa.select(col, sa.func.count()).where(*where).group_by(col).order_by(col))
            out[key] = {str(k): int(n) for k, n in rows if k is not None}
        out["total"] = int(c.execute(sa.select(sa.func.count()).select_from(t.alerts).where(*where)).scalar_one())
    return out


def build_summary(store: CaseStore, warehouse: Any, school: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Warehouse aggregates plus alert aggregates for one school."""
    events = warehouse.summary(school, since=since, until=until)
    return {
        "school": school,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "events": events,
        "alerts": alert_aggregates(store, school, since, until),
    }


@router.get("/summary", dependencies=[require("reports.aggregate")])
async def summary(
    store: StoreDep,
    warehouse: WarehouseDep,
    school: Annotated[str, Query(min_length=1, max_length=64)],
    days: Annotated[int, Query(ge=1, le=400)] = 30,
) -> dict[str, Any]:
    """Counts of events and alerts over the last `days` days; never a user name or IP address."""
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    if since >= until:
        raise InvalidInput("empty period")
    return await run_in_threadpool(build_summary, store, warehouse, school, since, until)
