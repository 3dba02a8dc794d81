"""`/api/filtertests` and the filter-test pages: who may view, run and record actions; exports; run via the API.

The app is built with the filter-test routers placed first (as the one-line wiring in api/routes/__init__.py
will do, ahead of the old placeholder in sources.py). Runs are seeded with synthetic probe results, except
one test that runs the configured plan through the real rig via `POST /api/filtertests/run`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ft_rigkit import FilterRig, rig_plan

import api.main
from api.routes import ROUTERS
from api.routes import filtertests as ft_routes
from cases import sessions, users
from cases.store import CaseStore
from filtertests import records
from filtertests.plans import parse_plan
from filtertests.runner import ProbeResult
from vigil.settings import Settings

PLAN = parse_plan(
    "name: synthetic\ngroups: [{name: pupils, user: alice}]\n"
    "checks: [{name: adult, category: adult, urls: ['http://adult.test/'], expect: blocked}]"
)


def _result(group: str, observed: str, seen: bool) -> ProbeResult:
    now = datetime.now(UTC)
    return ProbeResult(
        check="adult",
        category="adult",
        kind="http",
        group=group,
        site="main",
        url="http://adult.test/",
        host="adult.test",
        method="GET",
        identity=group,
        expected="blocked",
        observed=observed,
        detail="synthetic",
        status=200,
        started=now,
        finished=now + timedelta(seconds=1),
        monitored=True,
        alert_category="pornography",
        seen_in_logs=seen,
        log_action=observed if seen else None,
        monitoring_detail="synthetic",
    )


class App:
    """The app, its store and a bearer header per user."""

    def __init__(self, client: TestClient, store: CaseStore, ids: dict[str, int]) -> None:
        self.client, self.store, self.ids = client, store, ids

    def h(self, name: str) -> dict[str, str]:
        raw, _ = sessions.create(self.store, self.ids[name], "api")
        return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filter_rig: FilterRig) -> Iterator[App]:
    """App with users: network manager, DSL, deputy, head teacher of `rig`, and another school's manager."""
    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    plan = tmp_path / "plan.yaml"
    plan.write_text(rig_plan(filter_rig, wait=10))
    settings = Settings(
        data_dir=tmp_path / "var",
        timezone="UTC",
        filtertests={"plan": str(plan), "proxy": filter_rig.e2g_proxy, "school": "rig"},
    )
    store = CaseStore.from_url(settings.case_db_url)
    monkeypatch.setattr(api.main, "ROUTERS", (ft_routes.router, ft_routes.pages, *ROUTERS))
    application = api.main.create_app(settings, store=store)
    ids = {
        name: users.create_user(store, name, role, [school], "password123")
        for name, role, school in (
            ("nm", "network_manager", "rig"),
            ("dsl", "dsl", "rig"),
            ("deputy", "deputy_dsl", "rig"),
            ("head", "head_teacher", "rig"),
            ("nm-other", "network_manager", "other"),
        )
    }
    with TestClient(application, base_url="https://testserver") as client:
        yield App(client, store, ids)
    store.dispose()


def _seed(store: CaseStore, school: str = "rig") -> str:
    now = datetime.now(UTC)
    results = [_result("pupils", "blocked", True), _result("guests", "allowed", True)]
    return records.save_run(
        store,
        school=school,
        plan=PLAN,
        results=results,
        actor="nm",
        trigger="cli",
        proxy=None,
        started=now,
        finished=now,
    )


@pytest.mark.parametrize("who", ["nm", "dsl", "deputy", "head"])
def test_every_staff_role_views_the_history(app: App, who: str) -> None:
    """History, detail, trend and exports are open to every staff role of the school."""
    run_id = _seed(app.store)
    listed = app.client.get("/api/filtertests", params={"school": "rig"}, headers=app.h(who))
    assert listed.status_code == 200
    row = next(r for r in listed.json() if r["id"] == run_id)
    assert row["failures"] == 1 and row["actions_outstanding"] == 1 and row["categories"]["adult"]["failed"] == 1
    detail = app.client.get(f"/api/filtertests/{run_id}", headers=app.h(who)).json()
    assert [r["group_name"] for r in detail["results"]] == ["pupils", "guests"]
    assert app.client.get("/api/filtertests/trend", headers=app.h(who)).json()["adult"][0]["failed"] == 1
    csv_resp = app.client.get("/api/filtertests/export.csv", params={"school": "rig"}, headers=app.h(who))
    assert csv_resp.status_code == 200 and csv_resp.text.count("\n") == 3 and "guests" in csv_resp.text
    pdf = app.client.get("/api/filtertests/export.pdf", headers=app.h(who))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_other_school_and_missing_runs_are_403(app: App) -> None:
    """Another school's manager sees nothing of `rig`: 403 for the school, the run and its action, alike."""
    run_id = _seed(app.store)
    other = app.h("nm-other")
    assert app.client.get("/api/filtertests", params={"school": "rig"}, headers=other).status_code == 403
    assert app.client.get(f"/api/filtertests/{run_id}", headers=other).status_code == 403
    assert app.client.get("/api/filtertests/nope", headers=other).status_code == 403
    assert app.client.get("/api/filtertests", headers=other).json() == []
    resp = app.client.post(f"/api/filtertests/{run_id}/action", json={"note": "fixed"}, headers=other)
    assert resp.status_code == 403


def test_only_network_manager_or_dsl_record_actions(app: App) -> None:
    """The head teacher views but may not record the resulting action; the DSL may (audited)."""
    run_id = _seed(app.store)
    body = {"note": "Guest VLAN now routed through the filter"}
    assert app.client.post(f"/api/filtertests/{run_id}/action", json=body, headers=app.h("head")).status_code == 403
    ok = app.client.post(f"/api/filtertests/{run_id}/action", json=body, headers=app.h("dsl"))
    assert ok.status_code == 200 and ok.json()["results"] == 1
    again = app.client.post(f"/api/filtertests/{run_id}/action", json=body, headers=app.h("nm"))
    assert again.status_code == 400 and "no failure awaiting" in again.json()["detail"]
    detail = app.client.get(f"/api/filtertests/{run_id}", headers=app.h("nm")).json()
    assert detail["actions_outstanding"] == 0
    failed = next(r for r in detail["results"] if not r["passed"])
    assert failed["action_by"] == "dsl" and failed["action_note"] == body["note"]


def test_pages_list_runs_and_show_a_run(app: App) -> None:
    """The list page shows pass/fail per category; the run page lists each probe and the action form."""
    run_id = _seed(app.store)
    page = app.client.get("/filtertests", headers=app.h("head"))
    assert page.status_code == 200 and run_id in page.text and "fail 1/2" in page.text
    run_page = app.client.get(f"/filtertests/{run_id}", headers=app.h("nm"))
    assert run_page.status_code == 200 and "http://adult.test/" in run_page.text
    assert "Record the resulting action" in run_page.text
    head_view = app.client.get(f"/filtertests/{run_id}", headers=app.h("head"))
    assert "Record the resulting action" not in head_view.text


def test_network_manager_runs_the_configured_plan(app: App) -> None:
    """POST /api/filtertests/run probes the real rig; the DSL may not start runs."""
    assert app.client.post("/api/filtertests/run", params={"school": "rig"}, headers=app.h("dsl")).status_code == 403
    resp = app.client.post(
        "/api/filtertests/run", params={"school": "rig"}, json={"groups": ["staff"]}, headers=app.h("nm")
    )
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["actor"] == "nm" and run["trigger"] == "api" and run["probes"] == 6
    staff = {(r["check_name"], r["url"]): r for r in run["results"]}
    assert staff[("gambling-staff", "http://gambling.test/")]["observed"] == "allowed"
    assert staff[("adult-test-page", "http://adult.test/")]["observed"] == "blocked"
    # no ingest service in this test: the monitoring check fails, and says so
    assert all(r["seen_in_logs"] is False for r in run["results"]) and run["failures"] == 6
