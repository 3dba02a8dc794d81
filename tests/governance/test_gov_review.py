"""The annual review: pre-filled figures match the records they come from; sign-off by the named people only;
answers freeze once signed; the PDF renders with its figures, sections, actions and sign-offs (pdftotext)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from govkit import GovWorld, ai_rows, build_world, who, write_events

from cases import workflow
from cases.store import AlertQuery
from cases.synthetic import synthetic_alert
from filtertests import records
from filtertests.plans import load_plan
from filtertests.runner import ProbeResult
from governance import concerns, prefill, requests
from governance.config import GovernanceConfig

YEAR = prefill.current_year()


def probe(category: str, observed: str, *, expected: str = "blocked", group: str = "students") -> ProbeResult:
    """A SYNTHETIC probe result."""
    now = datetime.now(UTC)
    return ProbeResult(
        check=f"{category} check",
        category=category,
        kind="http",
        group=group,
        site="main",
        url=f"http://{category}.test/",
        host=f"{category}.test",
        method="GET",
        identity="probe",
        expected=expected,
        observed=observed,
        detail="synthetic",
        status=200,
        started=now,
        finished=now,
        monitored=False,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """North has a year of records: filter runs, alerts, requests, concerns and browsing (all SYNTHETIC)."""
    w = build_world(tmp_path_factory.mktemp("gov-review") / "var")
    store, now, plan = w.store, datetime.now(UTC), load_plan("default")
    good = [probe("adult", "blocked"), probe("gambling", "blocked"), probe("control", "allowed", expected="allowed")]
    bad = [probe("adult", "allowed"), probe("adult", "allowed", group="staff"), probe("proxy", "blocked")]
    records.save_run(
        store,
        school="north",
        plan=plan,
        results=good,
        actor="nm",
        trigger="cli",
        proxy=None,
        started=now - timedelta(days=3),
        finished=now - timedelta(days=3),
    )
    run = records.save_run(
        store,
        school="north",
        plan=plan,
        results=bad,
        actor="nm",
        trigger="cli",
        proxy=None,
        started=now - timedelta(days=1),
        finished=now - timedelta(days=1),
    )
    failed = [r for r in records.get_run(store, run, ["north"])["results"] if not r["passed"]]
    records.record_action(
        store, run, "raised with the provider", actor="nm", schools=["north"], result_id=failed[0]["id"]
    )
    alerts = [
        synthetic_alert("north", "pupil.amy", "bullying", now - timedelta(days=2), severity=3, seq=1),
        synthetic_alert("north", "pupil.ben", "bullying", now - timedelta(days=4), severity=3, seq=2),
        synthetic_alert("north", "pupil.ben", "circumvention", now - timedelta(days=5), severity=2, seq=3),
        synthetic_alert("south", "pupil.zed", "bullying", now - timedelta(days=2), severity=3, seq=4),
    ]
    store.upsert_alerts(alerts)
    workflow.close(store, alerts[2].id, "dsl-north", outcome="no_further_action", note="VPN app removed")
    ids = [
        requests.submit(
            store, school="north", actor="staff-north", kind=k, url=u, category=c, group="students", reason="synthetic"
        )["id"]
        for k, u, c in (
            ("unblock", "edu.example", "education"),
            ("block", "game.example", "games"),
            ("unblock", "vid.example", "video_streaming"),
        )
    ]
    requests.decide(
        store,
        ids[0],
        actor="dsl-north",
        roles={"dsl"},
        approve=True,
        reason="curriculum need",
        filter_change="allow list",
        config=GovernanceConfig(),
    )
    requests.decide(
        store,
        ids[1],
        actor="dsl-north",
        roles={"dsl"},
        approve=False,
        reason="not for lessons",
        filter_change=None,
        config=GovernanceConfig(),
    )
    for cat in ("bullying", "other"):
        concerns.submit(
            store,
            school="north",
            reporter="staff-north",
            what=f"synthetic {cat}",
            who="someone",
            when=now - timedelta(hours=3),
            where="room 1",
            category=cat,
            subject_kind="pupil",
        )
    write_events(w.settings, "review-north", ai_rows("north", now))
    return w


@pytest.fixture(scope="module")
def client(world: GovWorld) -> Iterator[TestClient]:
    """HTTPS client."""
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c


def _open(client: TestClient, world: GovWorld) -> dict[str, Any]:
    resp = client.post(f"/api/governance/reviews/north/{YEAR}", headers=world.headers(who("dsl")))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_prefill_matches_the_records(client: TestClient, world: GovWorld) -> None:
    fig = _open(client, world)["prefill"]
    store = world.store
    runs = records.list_runs(store, ["north"])
    results = [r for run in runs for r in records.get_run(store, run["id"], ["north"])["results"]]
    fc = fig["filter_checks"]
    assert fc["runs"] == len(runs) == 2
    assert fc["probes"] == len(results) == 6
    assert fc["failures"] == sum(not r["passed"] for r in results)
    assert fc["failed_runs"] == sum(not r["passed"] for r in runs) == 1
    assert fc["actions_outstanding"] == sum(not r["passed"] and r["action_note"] is None for r in results)
    assert fc["by_category"]["adult"] == {"probes": 3, "failed": 2}
    listed, total = store.list_alerts(AlertQuery(visibility={"north": "all"}, limit=500))
    assert fig["alerts"]["total"] == total
    by_cat: dict[str, int] = {}
    for a in listed:
        by_cat[a["category"]] = by_cat.get(a["category"], 0) + 1
    assert fig["alerts"]["by_category"] == by_cat
    assert fig["alerts"]["by_outcome"] == {"no_further_action": 1}
    reqs = requests.list_requests(store, ["north"])
    assert fig["decisions"]["total"] == len(reqs) == 3
    assert fig["decisions"]["by_kind_status"] == {"unblock:approved": 1, "block:declined": 1, "unblock:pending": 1}
    assert fig["decisions"]["followups"] == {"unconfigured": 1, "none": 2}
    assert fig["concerns"] == {"bullying": 1, "other": 1}
    assert fig["ai_use"]["events"] == 20
    assert fig["sources"]["sources"][0]["source"] == "squid"
    assert fig["sources"]["sources"][0]["events"] == 27  # ai_rows: 20 AI requests + 7 ordinary ones
    assert fig["sources"]["days_with_data"] == 3


def test_signoff_by_the_named_people_then_frozen(client: TestClient, world: GovWorld, tmp_path: Path) -> None:
    _open(client, world)
    dsl = world.headers(who("dsl"))
    base = f"/api/governance/reviews/north/{YEAR}"
    answers = {
        "risk_profile": "Three pupils with EAL need translated guidance; SEND group uses a tighter profile.",
        "generative_ai": "Only Copilot for pupils; ChatGPT for staff.",
    }
    # a signatory must hold the slot's role in the school
    bad = client.put(base, headers=dsl, json={"signatories": {"governor": who("staff")}})
    assert bad.status_code == 422
    names = {
        "slt": who("head_teacher"),
        "dsl": who("dsl"),
        "it_lead": who("network_manager"),
        "governor": who("governor"),
    }
    resp = client.put(base, headers=dsl, json={"answers": answers, "signatories": names})
    assert resp.status_code == 200 and resp.json()["answers"]["generative_ai"].startswith("Only Copilot")
    assert (
        client.post(
            base + "/actions",
            headers=dsl,
            json={"text": "Put guest Wi-Fi on its own VLAN", "owner": "IT lead", "due": "2027-01-31"},
        ).status_code
        == 201
    )
    # the head teacher cannot sign the governor's slot, the governor cannot sign the DSL's
    assert (
        client.post(
            base + "/signoff", headers=world.headers(who("head_teacher")), json={"slot": "governor"}
        ).status_code
        == 403
    )
    assert (
        client.post(base + "/signoff", headers=world.headers(who("governor")), json={"slot": "dsl"}).status_code == 403
    )
    for slot, name in names.items():
        r = client.post(base + "/signoff", headers=world.headers(name), json={"slot": slot, "note": f"{slot} ok"})
        assert r.status_code == 200, r.text
        if slot == "slt":
            # once anyone has signed, the answers and figures are frozen
            assert client.put(base, headers=dsl, json={"answers": {"byod": "late edit"}}).status_code == 409
            assert client.post(base + "/prefill", headers=dsl).status_code == 409
    final = client.get(base, headers=world.headers(who("governor"))).json()
    assert final["status"] == "signed" and set(final["signoffs"]) == set(names)
    assert all(final["signoffs"][s]["name"] == n for s, n in names.items())
    assert client.post(base + "/signoff", headers=dsl, json={"slot": "dsl"}).status_code == 409
    pdf = client.get(base + "/pdf", headers=world.headers(who("governor")))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "review.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for needle in (
        "Filtering and monitoring review",
        YEAR,
        "Risk profile",
        "Three pupils with EAL",
        "Generative AI",
        "Put guest Wi-Fi on its own VLAN",
        "Responsible governor",
        who("governor"),
        "Runs: 2; probes: 6",
        "Alerts by category",
        "bullying",
    ):
        assert needle in " ".join(text.split()), needle
    page = client.get(f"/governance/reviews/north/{YEAR}", headers=world.headers(who("governor"))).text
    assert "Three pupils with EAL" in page and "signed" in page


def test_bad_years_are_refused(client: TestClient, world: GovWorld) -> None:
    for year in ("2026", "2026-28", "26-27", "x"):
        resp = client.post(f"/api/governance/reviews/north/{year}", headers=world.headers(who("dsl")))
        assert resp.status_code == 422, year
