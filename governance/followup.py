"""Follow-up filter tests: after a block/allow decision, probe the URL as the affected group through the filter.

The school's filter-test plan (`[governance] followup_plan`) supplies the group's proxy credentials or source
address, the sites and how to recognise a block page; the follow-up keeps that, replaces the checks with one
check of the request's URL expecting `blocked` (a block) or `allowed` (an unblock), probes through
`filtertests.runner`, stores the run with `filtertests.records.save_run` (trigger `schedule`) and writes the
verdict on the request, so the register shows whether the change really took effect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from filtertests.errors import PlanError
from filtertests.plans import Check, Plan, load_plan
from filtertests.records import save_run
from filtertests.runner import ProbeResult, run_plan
from governance.config import GovernanceConfig
from governance.errors import GovernanceForbidden, GovernanceState
from governance.tables import requests as R

Runner = Callable[..., list[ProbeResult]]


def followup_plan(base: Plan, request: dict[str, Any]) -> Plan:
    """The base plan reduced to one check of the request's URL for the request's group."""
    expect: Literal["blocked", "allowed"] = "blocked" if request["kind"] == "block" else "allowed"
    slug = re.sub(r"[^a-z0-9_]", "_", str(request["category"]).lower()) or "other"
    check = Check(
        name=f"request {request['id']}",
        category=slug,
        kind="http",
        urls=[request["url"]],
        expect=expect,
        monitor=False,  # the register asks whether the filter changed; log coverage is the plan runs' job
        note=f"follow-up of {request['kind']} request {request['id']}",
    )
    plan = base.model_copy(
        update={
            "name": f"follow-up {request['id']}",
            "description": f"{request['kind']} {request['host']}",
            "school": request["school"],
            "checks": [check],
        }
    )
    return plan.only_groups([request["group_name"]])


def _verdict(results: Sequence[ProbeResult]) -> tuple[str, str]:
    passed = all(r.filter_ok for r in results)
    parts = [f"{r.group}@{r.site}: expected {r.expected}, observed {r.observed} ({r.detail})" for r in results]
    return ("passed" if passed else "failed"), "; ".join(parts)


def run_followup(
    store: CaseStore,
    request_id: str,
    config: GovernanceConfig,
    *,
    actor: str = "scheduled",
    runner: Runner = run_plan,
) -> dict[str, Any]:
    """Probe one approved request now; returns the updated request (status passed/failed/error)."""
    with store.engine.connect() as c:
        found = c.execute(sa.select(R).where(R.c.id == request_id)).first()
    if found is None:
        raise GovernanceForbidden("not permitted, or no such request")
    request = t.row_dict(found)
    if request["status"] != "approved":
        raise GovernanceState(f"request {request_id} is {request['status']}: only approved requests are followed up")
    plan_path = config.plan_for(request["school"])
    run_id: str | None = None
    if not plan_path:
        status, detail = "unconfigured", "no follow-up plan in [governance]: check the change by hand"
    else:
        try:
            plan = followup_plan(load_plan(plan_path), request)
            proxy = config.proxy_for(request["school"])
            started = datetime.now(UTC)
            results = runner(plan, proxy=proxy)
            finished = datetime.now(UTC)
            run_id = save_run(
                store,
                school=request["school"],
                plan=plan,
                results=results,
                actor=actor,
                trigger="schedule",
                proxy=proxy,
                started=started,
                finished=finished,
            )
            status, detail = _verdict(results)
        except PlanError as exc:
            status, detail = "error", f"follow-up plan: {exc}"
    values = {
        "followup_status": status,
        "followup_detail": detail[:4000],
        "followup_run_id": run_id,
        "followup_at": t.now(),
    }
    with store.engine.begin() as conn:
        conn.execute(sa.update(R).where(R.c.id == request_id).values(**values))
        audit.append(
            conn,
            actor=actor,
            action="governance.followup",
            object_type="gov_request",
            object_id=request_id,
            school=request["school"],
            detail={"status": status, "run_id": run_id},
        )
    return {**request, **values}


def due(store: CaseStore, now: datetime | None = None, school: str | None = None) -> list[str]:
    """Ids of approved requests whose follow-up is scheduled and due."""
    moment = now or t.now()
    where = [R.c.status == "approved", R.c.followup_status == "scheduled", R.c.followup_due <= moment]
    if school:
        where.append(R.c.school == school)
    with store.engine.connect() as c:
        return [str(v) for v in c.execute(sa.select(R.c.id).where(*where).order_by(R.c.followup_due)).scalars()]


def run_due(
    store: CaseStore,
    config: GovernanceConfig,
    *,
    now: datetime | None = None,
    school: str | None = None,
    runner: Runner = run_plan,
) -> list[dict[str, Any]]:
    """Run every due follow-up (the scheduler's and `vigil governance followups`' entry point)."""
    return [run_followup(store, rid, config, runner=runner) for rid in due(store, now, school)]
