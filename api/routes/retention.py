"""`/api/retention`: the school's retention policy and what the next run would delete (DSL), and the history
of runs and their deletions (DSL and head teacher, as audit readers); the `/retention` page shows all three.

Counts and keys only: a plan names partitions (`events/school=<id>/date=<day>`), alert ids and row counts,
never row contents, so reading it is not a read of personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from api.auth import Principal, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep
from api.errors import Forbidden
from api.ui.common import render
from cases import schema as t
from cases.store import CaseStore
from retention.job import RetentionJob
from retention.policy import DATA_CLASSES, load_config
from retention.tables import retention_deletions, retention_runs
from vigil.settings import Settings

router = APIRouter(prefix="/api/retention", tags=["retention"])
pages = APIRouter(include_in_schema=False)

School = Annotated[str, Query(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=365)]


class PolicyClass(BaseModel):
    """One data class: what it is and how long this school keeps it."""

    data_class: str
    what: str
    rule: str
    kept: str


class PlanItemOut(BaseModel):
    """One thing the next run would delete, with its row count and the rows active holds would keep."""

    kind: str
    key: str
    rows: int
    data_class: str
    rule: str
    cutoff: datetime | None
    held_rows: int


class PlanOut(BaseModel):
    """The next run for one school, as of now: nothing is changed by asking."""

    school: str
    now: datetime
    policy: list[PolicyClass]
    totals: dict[str, dict[str, int]]
    items: list[PlanItemOut]
    interrupted: int


class DeletionOut(BaseModel):
    """One recorded deletion."""

    kind: str
    object: str
    rows: int
    rule: str
    cutoff: datetime | None
    ts: datetime


class RunOut(BaseModel):
    """One real run (scheduled or from the CLI) and what it deleted in the school(s) asked about."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    actor: str
    totals: dict[str, dict[str, int]]
    deletions: list[DeletionOut]


def policy_for(settings: Settings, school: str) -> list[dict[str, str]]:
    """Every data class with the school's effective period in words."""
    policy = load_config(settings.section("retention")).for_school(school)
    out = []
    for c, what in DATA_CLASSES.items():
        rule = policy.describe(c)
        out.append({"data_class": c, "what": what.replace("`", ""), "rule": rule, "kept": rule.split(": ", 1)[-1]})
    return out


def plan_for(settings: Settings, store: CaseStore, school: str) -> dict[str, Any]:
    """What a run now would delete in one school (counts only; changes nothing)."""
    config = load_config(settings.section("retention"))
    plan = RetentionJob(data_dir=settings.data_dir, store=store, config=config, school=school).plan()
    items: list[dict[str, Any]] = [
        {
            "kind": i.kind,
            "key": i.key,
            "rows": i.rows,
            "data_class": i.data_class,
            "rule": i.rule,
            "cutoff": i.cutoff,
            "held_rows": sum(i.held.values()),
        }
        for i in plan.items
        if i.school == school
    ]
    totals: dict[str, dict[str, int]] = {}
    for i in items:
        entry = totals.setdefault(i["kind"], {"objects": 0, "rows": 0})
        entry["objects"] += 1
        entry["rows"] += i["rows"]
    marker = f"school={school}__"
    return {
        "school": school,
        "now": plan.now,
        "policy": policy_for(settings, school),
        "totals": totals,
        "items": items,
        "interrupted": sum(1 for p in plan.pending_recovery if marker in p),
    }


def runs_for(store: CaseStore, schools: list[str], limit: int) -> list[dict[str, Any]]:
    """The latest real runs, newest first, each with its deletions in these schools only."""
    r, d = retention_runs.c, retention_deletions.c
    with store.engine.connect() as conn:
        runs = [
            t.row_dict(x) for x in conn.execute(sa.select(retention_runs).order_by(r.started_at.desc()).limit(limit))
        ]
        ids = [x["run_id"] for x in runs]
        q = sa.select(retention_deletions).where(d.run_id.in_(ids), d.school.in_(schools)).order_by(d.id)
        found = [t.row_dict(x) for x in conn.execute(q)] if ids and schools else []
    out: list[dict[str, Any]] = []
    for run in runs:
        mine = [x for x in found if x["run_id"] == run["run_id"]]
        totals: dict[str, dict[str, int]] = {}
        for x in mine:
            entry = totals.setdefault(x["kind"], {"objects": 0, "rows": 0})
            entry["objects"] += 1
            entry["rows"] += int(x["rows"])
        # The run's own summary covers every school it ran for, so only this school's deletions are shown.
        keep = ("run_id", "started_at", "finished_at", "trigger", "actor")
        out.append({**{k: run[k] for k in keep}, "totals": totals, "deletions": mine})
    return out


def _audit_schools(principal: Principal, school: str | None) -> list[str]:
    schools = principal.schools_for("audit.view")
    if school:
        if school not in schools:
            raise Forbidden(f"not permitted: audit.view in school {school}")
        return [school]
    return schools


@router.get("/plan", dependencies=[require("retention.manage")], response_model=PlanOut)
async def plan(store: StoreDep, settings: SettingsDep, school: School) -> dict[str, Any]:
    """The school's policy per data class and what the next run would delete now (counts only)."""
    return await run_in_threadpool(plan_for, settings, store, school)


@router.get("/runs", dependencies=[require("audit.view")], response_model=list[RunOut])
def runs(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 30,
) -> list[dict[str, Any]]:
    """Past runs, newest first, with what each deleted in the caller's schools (or one school)."""
    return runs_for(store, _audit_schools(principal, school), limit)


@pages.get("/retention", dependencies=[require("retention.manage")], response_model=None)
async def retention_page(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    school: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The policy per data class, the next run's plan and past runs, for one of the DSL's schools."""
    schools = principal.schools_for("retention.manage")
    chosen = school or (schools[0] if schools else "")
    if chosen not in schools:
        raise Forbidden(f"not permitted: retention.manage in school {chosen}")
    data = await run_in_threadpool(plan_for, settings, store, chosen)
    history = await run_in_threadpool(runs_for, store, [chosen], 30)
    return render(request, "retention.html", principal, school=chosen, schools=schools, plan=data, runs=history)
