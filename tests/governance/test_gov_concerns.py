"""Staff-reported concerns: cases in the DSL's queue (staff allegations to the head teacher), the same
workflow and audit as alerts, the reporter's own view, and warehouse events attached by the DSL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from govkit import GovWorld, ai_rows, build_world, who, write_events

from cases import audit
from governance import concerns
from governance.errors import GovernanceInvalid

SEEN = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """A world with some SYNTHETIC browsing by pupil.amy in the warehouse."""
    w = build_world(tmp_path_factory.mktemp("gov-concerns") / "var")
    write_events(w.settings, "amy", ai_rows("north", datetime.now(UTC)))
    return w


@pytest.fixture(scope="module")
def client(world: GovWorld) -> Iterator[TestClient]:
    """HTTPS client."""
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c


def _report(client: TestClient, world: GovWorld, **over: Any) -> dict[str, Any]:
    body = {
        "school": "north",
        "what": "Saw a pupil searching for ways to hurt themselves",
        "who": "Amy, Year 9",
        "when": SEEN.isoformat(),
        "where": "Library PC 4",
        "category": "suicide_self_harm",
        "subject_kind": "pupil",
        "subject_user": "Pupil.Amy",
        **over,
    }
    resp = client.post("/api/governance/concerns", headers=world.headers(who("staff")), json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _queue(client: TestClient, world: GovWorld, role: str) -> set[str]:
    resp = client.get("/api/alerts", params={"school": "north"}, headers=world.headers(who(role)))
    assert resp.status_code == 200
    body = resp.json()
    items = body["alerts"] if isinstance(body, dict) else body
    return {a["id"] for a in items}


def test_a_concern_is_a_case_in_the_dsl_queue(client: TestClient, world: GovWorld) -> None:
    out = _report(client, world)
    alert = world.store.get_alert(out["alert_id"])
    assert alert is not None
    assert alert["detector"] == "staff_report" and alert["category"] == "suicide_self_harm"
    assert alert["severity"] == concerns.GUIDANCE["suicide_self_harm"][0] == 4
    assert alert["user"] == "pupil.amy" and alert["subject_kind"] == "pupil" and alert["status"] == "new"
    report = alert["evidence"]["report"]
    assert (
        report["where"] == "Library PC 4" and report["reported_by"] == who("staff") and report["who"] == "Amy, Year 9"
    )
    assert out["alert_id"] in _queue(client, world, "dsl")
    assert out["alert_id"] not in _queue(client, world, "head_teacher")
    # the same report posted twice is one case
    again = _report(client, world)
    assert again["alert_id"] == out["alert_id"]
    assert [c["alert_id"] for c in concerns.mine(world.store, who("staff"), ["north"])].count(out["alert_id"]) == 1


def test_immediate_risk_raises_severity_and_staff_allegations_go_to_the_head(
    client: TestClient, world: GovWorld
) -> None:
    urgent = _report(client, world, what="Pupil says they will hurt themselves tonight", immediate=True)
    assert urgent["severity"] == 5
    staff = _report(
        client,
        world,
        what="A teacher messaged a pupil on a personal account",
        who="Mr X",
        category="sexual_exploitation",
        subject_kind="staff",
        subject_user=None,
    )
    assert staff["routed_to"] == "head_teacher"
    assert staff["alert_id"] in _queue(client, world, "head_teacher")
    assert staff["alert_id"] not in _queue(client, world, "dsl")
    assert client.get(f"/api/alerts/{staff['alert_id']}", headers=world.headers(who("dsl"))).status_code == 403


def test_same_workflow_and_the_reporter_sees_only_the_state(client: TestClient, world: GovWorld) -> None:
    out = _report(
        client, world, what="Cruel edited photo shared in a class chat", category="bullying", who="Year 8 group"
    )
    assert out["severity"] == 3
    dsl = world.headers(who("dsl"))
    aid = out["alert_id"]
    mine = {
        c["alert_id"]: c
        for c in client.get("/api/governance/concerns/mine", headers=world.headers(who("staff"))).json()
    }
    assert mine[aid]["status"] == "received"
    assert client.post(f"/api/alerts/{aid}/triage", headers=dsl, json={}).status_code == 200
    closed = client.post(
        f"/api/alerts/{aid}/close",
        headers=dsl,
        json={"outcome": "pastoral_support", "note": "Spoke to both; parents informed"},
    )
    assert closed.status_code == 200, closed.text
    mine = {
        c["alert_id"]: c
        for c in client.get("/api/governance/concerns/mine", headers=world.headers(who("staff"))).json()
    }
    assert mine[aid]["status"] == "closed"
    assert "outcome" not in mine[aid] and "Spoke to both" not in str(mine)
    actions = [e["action"] for e in audit.entries(world.store, ["north"], object_id=aid)[0]]
    assert {"governance.concern", "alert.triage", "alert.close"} <= set(actions)
    # another member of staff does not see it
    world.add("staff3-north", "staff", "north")
    other = client.get("/api/governance/concerns/mine", headers=world.headers("staff3-north")).json()
    assert aid not in {c["alert_id"] for c in other}


def test_dsl_attaches_warehouse_events(client: TestClient, world: GovWorld) -> None:
    out = _report(
        client,
        world,
        what="Pupil showed me a chatbot telling them to skip meals",
        category="eating_disorders",
        when=datetime.now(UTC).isoformat(),
    )
    aid = out["alert_id"]
    now = datetime.now(UTC)
    body = {
        "user": "pupil.amy",
        "since": (now - timedelta(days=2, hours=1)).isoformat(),
        "until": now.isoformat(),
        "host": "chatgpt.com",
    }
    resp = client.post(f"/api/governance/concerns/{aid}/events", headers=world.headers(who("dsl")), json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attached"] == 5
    att = world.store.attachments(aid)
    assert att and att[-1]["kind"] == "events" and {e["host"] for e in att[-1]["content"]["events"]} == {"chatgpt.com"}
    reads = [e for e in audit.entries(world.store, ["north"], object_id=aid)[0] if e["action"] == "events.read"]
    assert reads and reads[0]["detail"]["user"] == "pupil.amy" and reads[0]["actor"] == who("dsl")
    for role in ("head_teacher", "network_manager", "staff", "governor"):
        denied = client.post(f"/api/governance/concerns/{aid}/events", headers=world.headers(who(role)), json=body)
        assert denied.status_code == 403, role
    # only concerns take attachments this way; and a window over 7 days is refused
    wide = {**body, "since": (now - timedelta(days=30)).isoformat()}
    assert (
        client.post(f"/api/governance/concerns/{aid}/events", headers=world.headers(who("dsl")), json=wide).status_code
        == 422
    )


def test_bad_reports_are_refused() -> None:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "school": "north",
        "reporter": "x",
        "reported_at": now,
        "what": "w",
        "who": "y",
        "when": now,
        "where": "z",
        "category": "bullying",
        "subject_kind": "pupil",
    }
    with pytest.raises(GovernanceInvalid, match="future"):
        concerns.concern_alert(**{**base, "when": now + timedelta(days=1)})
    with pytest.raises(GovernanceInvalid, match="category"):
        concerns.concern_alert(**{**base, "category": "nonsense"})
    with pytest.raises(GovernanceInvalid, match="what happened"):
        concerns.concern_alert(**{**base, "what": "  "})


def test_concerns_page_and_attach_form(client: TestClient, world: GovWorld) -> None:
    pupil = _report(
        client,
        world,
        what="Pupil showed me a self-harm forum",
        category="suicide_self_harm",
        when=datetime.now(UTC).isoformat(),
    )
    staff = _report(
        client,
        world,
        what="Teacher shared an unsuitable video",
        who="Mr Y",
        category="other",
        subject_kind="staff",
        subject_user=None,
        when=datetime.now(UTC).isoformat(),
    )
    dsl_page = client.get("/governance/concerns", headers=world.headers(who("dsl"))).text
    head_page = client.get("/governance/concerns", headers=world.headers(who("head_teacher"))).text
    assert pupil["alert_id"] in dsl_page and staff["alert_id"] not in dsl_page
    assert staff["alert_id"] in head_page and pupil["alert_id"] not in head_page
    assert "Attach events from the logs" in dsl_page and "Attach events from the logs" not in head_page
    now = datetime.now(UTC)
    form = {
        "user": "pupil.amy",
        "since": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "until": now.strftime("%Y-%m-%dT%H:%M"),
        "host": "photomath.com",
    }
    resp = client.post(
        f"/governance/concerns/{pupil['alert_id']}/events",
        headers=world.headers(who("dsl")),
        data=form,
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == f"/alerts/{pupil['alert_id']}"
    att = world.store.attachments(pupil["alert_id"])
    assert len(att[-1]["content"]["events"]) == 2
    assert (
        client.post(
            f"/governance/concerns/{staff['alert_id']}/events",
            headers=world.headers(who("dsl")),
            data=form,
            follow_redirects=False,
        ).status_code
        == 403
    )
