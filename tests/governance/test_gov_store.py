"""The register, follow-up scheduling and the review on SQLite and PostgreSQL (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cases import audit
from cases.store import CaseStore
from filtertests import records
from filtertests.plans import Plan
from filtertests.runner import ProbeResult
from governance import exports, followup, requests, review
from governance.config import GovernanceConfig
from governance.errors import GovernanceForbidden, GovernanceInvalid, GovernanceState

PLAN = """
name: synthetic follow-up plan
groups: [{name: students, user: probe.student}, {name: staff, user: probe.staff}]
checks: [{name: adult, category: adult, urls: ["http://adult.test/"], expect: blocked}]
monitoring: {required: false}
"""


def _ask(store: CaseStore, kind: str = "block", category: str = "games", url: str = "games.example") -> str:
    return str(
        requests.submit(
            store,
            school="north",
            actor="miss.jones",
            kind=kind,
            url=url,
            category=category,
            group="students",
            reason="distracting in lessons",
        )["id"]
    )


def _fake_runner(observed: str) -> Any:
    def run(plan: Plan, *, proxy: str | None = None) -> list[ProbeResult]:
        assert len(plan.checks) == 1 and [g.name for g in plan.groups] == ["students"]
        check, now = plan.checks[0], datetime.now(UTC)
        return [
            ProbeResult(
                check=check.name,
                category=check.category,
                kind="http",
                group="students",
                site="main",
                url=check.urls[0],
                host="games.example",
                method="GET",
                identity="probe.student",
                expected=check.expect,
                observed=observed,
                detail=f"synthetic {observed}",
                status=200,
                started=now,
                finished=now,
                monitored=False,
            )
        ]

    return run


def test_submit_validates(gov_store: CaseStore) -> None:
    with pytest.raises(GovernanceInvalid, match="web address"):
        requests.submit(
            gov_store,
            school="north",
            actor="a",
            kind="block",
            url="not a url",
            category="games",
            group="students",
            reason="why not",
        )
    with pytest.raises(GovernanceInvalid, match="cannot be overridden"):
        requests.submit(
            gov_store,
            school="north",
            actor="a",
            kind="unblock",
            url="x.example",
            category="illegal_content",
            group="students",
            reason="research",
        )
    with pytest.raises(GovernanceInvalid, match="unknown category"):
        requests.submit(
            gov_store,
            school="north",
            actor="a",
            kind="block",
            url="x.example",
            category="nope",
            group="students",
            reason="why not",
        )
    row = requests.get(gov_store, _ask(gov_store))
    assert row is not None and row["url"] == "https://games.example" and row["host"] == "games.example"
    assert row["status"] == "pending" and row["followup_status"] == "none"


def test_decisions_roles_and_states(gov_store: CaseStore) -> None:
    cfg = GovernanceConfig()
    rid = _ask(gov_store)
    with pytest.raises(GovernanceForbidden):
        requests.decide(
            gov_store,
            rid,
            actor="nm",
            roles={"network_manager"},
            approve=True,
            reason="fine by me",
            filter_change="x",
            config=cfg,
        )
    requests.set_delegations(gov_store, "north", ["games"], actor="dsl")
    with pytest.raises(GovernanceInvalid, match="filter change"):
        requests.decide(
            gov_store,
            rid,
            actor="nm",
            roles={"network_manager"},
            approve=True,
            reason="fine by me",
            filter_change="",
            config=cfg,
        )
    out = requests.decide(
        gov_store,
        rid,
        actor="nm",
        roles={"network_manager"},
        approve=True,
        reason="clear-cut games site",
        filter_change="games.example on the students' deny list",
        config=cfg,
    )
    assert out["decided_role"] == "network_manager" and out["followup_status"] == "unconfigured"
    with pytest.raises(GovernanceState, match="already approved"):
        requests.decide(
            gov_store,
            rid,
            actor="dsl",
            roles={"dsl"},
            approve=False,
            reason="changed my mind",
            filter_change=None,
            config=cfg,
        )
    with pytest.raises(GovernanceForbidden):
        requests.decide(
            gov_store,
            "R-missing",
            actor="dsl",
            roles={"dsl"},
            approve=False,
            reason="whatever",
            filter_change=None,
            config=cfg,
        )
    trail = [e["action"] for e in audit.entries(gov_store, ["north"], object_id=rid)[0]]
    assert trail == ["governance.decide", "governance.request"]


def test_followup_scheduled_due_and_recorded(gov_store: CaseStore, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    cfg = GovernanceConfig(followup_plan=str(plan), followup_delay_minutes=30)
    rid = _ask(gov_store)
    decided = requests.decide(
        gov_store,
        rid,
        actor="dsl",
        roles={"dsl"},
        approve=True,
        reason="distracting",
        filter_change="deny list",
        config=cfg,
    )
    assert decided["followup_status"] == "scheduled"
    assert followup.due(gov_store) == []  # not before the filter has had time to apply the change
    later = datetime.now(UTC) + timedelta(minutes=31)
    assert followup.due(gov_store, later) == [rid]
    done = followup.run_due(gov_store, cfg, now=later, runner=_fake_runner("allowed"))
    assert done[0]["followup_status"] == "failed" and "expected blocked, observed allowed" in done[0]["followup_detail"]
    run = records.get_run(gov_store, done[0]["followup_run_id"], ["north"])
    assert run["trigger"] == "schedule" and not run["passed"] and run["results"][0]["url"] == "https://games.example"
    again = followup.run_followup(gov_store, rid, cfg, actor="dsl", runner=_fake_runner("blocked"))
    assert again["followup_status"] == "passed"
    assert followup.due(gov_store, later) == []
    # a broken plan is an error on the request, not a crash
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    broken = followup.run_followup(gov_store, rid, GovernanceConfig(followup_plan=str(bad)), runner=_fake_runner("x"))
    assert broken["followup_status"] == "error" and "follow-up plan" in broken["followup_detail"]
    pending = _ask(gov_store)
    with pytest.raises(GovernanceState):
        followup.run_followup(gov_store, pending, cfg, runner=_fake_runner("blocked"))


def test_csv_escapes_formulas(gov_store: CaseStore) -> None:
    requests.submit(
        gov_store,
        school="north",
        actor="a",
        kind="block",
        url="x.example",
        category="games",
        group="students",
        reason='=HYPERLINK("http://evil")',
    )
    text = exports.register_csv(requests.export_rows(requests.list_requests(gov_store, ["north"]), identities=True))
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_review_lifecycle(gov_store: CaseStore) -> None:
    from cases import users

    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    for name, role in (("head", "head_teacher"), ("lead", "dsl"), ("it", "network_manager"), ("gov", "governor")):
        users.create_user(gov_store, name, role, ["north"], "password123")
    cfg = GovernanceConfig()
    opened = review.open_review(gov_store, None, "north", "2026-27", actor="lead", config=cfg)
    assert opened["status"] == "draft" and opened["prefill"]["sources"]["days_with_data"] == 0
    assert review.open_review(gov_store, None, "north", "2026-27", actor="lead", config=cfg)["id"] == opened["id"]
    with pytest.raises(GovernanceState, match="name every signatory"):
        review.sign(gov_store, "north", "2026-27", "dsl", actor="lead", roles={"dsl"})
    review.update(
        gov_store,
        "north",
        "2026-27",
        actor="lead",
        answers={"byod": "Guest VLAN, filtered"},
        signatories={"slt": "head", "dsl": "lead", "it_lead": "it", "governor": "gov"},
    )
    act = review.add_action(gov_store, "north", "2026-27", actor="lead", text="Check the backup line", owner="it")
    for slot, name, role in (
        ("slt", "head", "head_teacher"),
        ("dsl", "lead", "dsl"),
        ("it_lead", "it", "network_manager"),
    ):
        assert review.sign(gov_store, "north", "2026-27", slot, actor=name, roles={role})["status"] == "signing"
    with pytest.raises(GovernanceForbidden):
        review.sign(gov_store, "north", "2026-27", "governor", actor="head", roles={"head_teacher"})
    final = review.sign(gov_store, "north", "2026-27", "governor", actor="gov", roles={"governor"}, note="assured")
    assert final["status"] == "signed" and final["signoffs"]["governor"]["note"] == "assured"
    review.complete_action(gov_store, "north", "2026-27", act["id"], actor="it")  # actions stay live after sign-off
    assert review.get(gov_store, "north", "2026-27")["actions"][0]["status"] == "done"  # type: ignore[index]
    with pytest.raises(GovernanceState):
        review.update(gov_store, "north", "2026-27", actor="lead", answers={"byod": "changed"})
