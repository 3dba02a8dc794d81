"""Object-level rules: staff see only their own; the network manager only delegated categories; governors'
views and exports hold no names; per-pupil AI detail is the DSL's alone and audited."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from govkit import GovWorld, ai_rows, build_world, who, write_events

from cases import audit


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """A world with an AI policy: staff may use ChatGPT and Copilot; students only Copilot."""
    policy = {"ai_policy": {"approved": ["microsoft_copilot"], "groups": {"staff": ["chatgpt", "microsoft_copilot"]}}}
    w = build_world(tmp_path_factory.mktemp("gov-access") / "var", governance=policy)
    w.add("staff2-north", "staff", "north")
    write_events(w.settings, "ai-north", ai_rows("north", datetime.now(UTC)))
    return w


@pytest.fixture(scope="module")
def client(world: GovWorld) -> Iterator[TestClient]:
    """HTTPS client."""
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c


def _ask(client: TestClient, world: GovWorld, user: str, host: str, category: str) -> str:
    resp = client.post(
        "/api/governance/requests",
        headers=world.headers(user),
        json={
            "school": "north",
            "kind": "unblock",
            "url": f"https://{host}/",
            "category": category,
            "group": "students",
            "reason": f"needed: {host}",
        },
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_staff_see_only_their_own_requests(client: TestClient, world: GovWorld) -> None:
    mine = _ask(client, world, who("staff"), "mine.example", "education")
    theirs = _ask(client, world, "staff2-north", "theirs.example", "education")
    listed = client.get("/api/governance/requests/mine", headers=world.headers(who("staff"))).json()
    ids = {r["id"] for r in listed}
    assert mine in ids and theirs not in ids
    assert all(r["requested_by"] == who("staff") for r in listed)
    # the register and any request's detail are not theirs to read, even their own by id
    assert client.get("/api/governance/requests", headers=world.headers(who("staff"))).status_code == 403
    for rid in (mine, theirs):
        assert client.get(f"/api/governance/requests/{rid}", headers=world.headers(who("staff"))).status_code == 403
    page = client.get("/governance/mine", headers=world.headers(who("staff"))).text
    assert "mine.example" in page and "theirs.example" not in page
    # and they cannot decide
    resp = client.post(
        f"/api/governance/requests/{mine}/decision",
        headers=world.headers(who("staff")),
        json={"approve": True, "reason": "self-approved", "filter_change": "x"},
    )
    assert resp.status_code == 403


def test_network_manager_only_delegated_categories(client: TestClient, world: GovWorld) -> None:
    games = _ask(client, world, who("staff"), "games.example", "games")
    social = _ask(client, world, who("staff"), "social.example", "social_media")
    nm = world.headers(who("network_manager"))
    # nothing delegated yet: the NM sees none of them and cannot decide
    assert (
        client.put(
            "/api/governance/delegations", headers=nm, json={"school": "north", "categories": ["games"]}
        ).status_code
        == 403
    )
    assert not {games, social} & {r["id"] for r in client.get("/api/governance/requests", headers=nm).json()}
    resp = client.put(
        "/api/governance/delegations",
        headers=world.headers(who("dsl")),
        json={"school": "north", "categories": ["games"]},
    )
    assert resp.status_code == 200 and resp.json()["categories"] == ["games"]
    seen = {
        r["id"]: r for r in client.get("/api/governance/requests", headers=world.headers(who("network_manager"))).json()
    }
    assert games in seen and social not in seen and {r["category"] for r in seen.values()} == {"games"}
    nm = world.headers(who("network_manager"))
    assert client.get(f"/api/governance/requests/{social}", headers=nm).status_code == 403
    denied = client.post(
        f"/api/governance/requests/{social}/decision",
        headers=nm,
        json={"approve": True, "reason": "fine", "filter_change": "allowed social.example"},
    )
    assert denied.status_code == 403
    ok = client.post(
        f"/api/governance/requests/{games}/decision", headers=nm, json={"approve": False, "reason": "not educational"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["decided_role"] == "network_manager" and ok.json()["status"] == "declined"
    # the DSL decides anything, and illegal content can never be delegated
    assert (
        client.post(
            f"/api/governance/requests/{social}/decision",
            headers=world.headers(who("dsl")),
            json={"approve": True, "reason": "PE department page", "filter_change": "allow list"},
        ).status_code
        == 200
    )
    bad = client.put(
        "/api/governance/delegations",
        headers=world.headers(who("dsl")),
        json={"school": "north", "categories": ["illegal_content"]},
    )
    assert bad.status_code == 422


def _pdftext(data: bytes, tmp: Path) -> str:
    path = tmp / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_governor_exports_hold_no_identities(client: TestClient, world: GovWorld, tmp_path: Path) -> None:
    rid = _ask(client, world, who("staff"), "history.example", "education")
    client.post(
        f"/api/governance/requests/{rid}/decision",
        headers=world.headers(who("dsl")),
        json={"approve": True, "reason": "coursework", "filter_change": "added history.example to allow list"},
    )
    gov = world.headers(who("governor"))
    names = (who("staff"), "staff2-north", who("dsl"), who("network_manager"))
    csv_text = client.get("/api/governance/register.csv", params={"school": "north"}, headers=gov).text
    assert "history.example" in csv_text and "added history.example" in csv_text
    assert not [n for n in names if n in csv_text]
    pdf = client.get("/api/governance/register.pdf", params={"school": "north"}, headers=gov)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdftext(pdf.content, tmp_path)
    assert "history.example" in text and not [n for n in names if n in text]
    listed = client.get("/api/governance/requests", headers=gov).text
    assert not [n for n in names if n in listed]
    # the DSL's own export does carry the names
    dsl_csv = client.get(
        "/api/governance/register.csv", params={"school": "north"}, headers=world.headers(who("dsl"))
    ).text
    assert who("staff") in dsl_csv and who("dsl") in dsl_csv
    # AI use: aggregates for governors, never the pupils
    usage = client.get("/api/governance/ai-use", params={"school": "north"}, headers=gov)
    assert usage.status_code == 200 and usage.json()["events"] == 20
    assert not [u for u in ("pupil.amy", "pupil.ben", "teacher.cole") if u in usage.text]
    assert client.get("/api/governance/ai-use/pupils", params={"school": "north"}, headers=gov).status_code == 403
    page = client.get("/governance/ai", params={"school": "north"}, headers=gov).text
    assert "ChatGPT" in page and "pupil.amy" not in page


def test_per_pupil_ai_detail_is_audited(client: TestClient, world: GovWorld) -> None:
    before, _ = audit.entries(world.store, ["north"], actor=who("dsl"))
    resp = client.get(
        "/api/governance/ai-use/pupils",
        params={"school": "north", "unapproved": "true", "why": "weekly check"},
        headers=world.headers(who("dsl")),
    )
    assert resp.status_code == 200
    rows = resp.json()
    # students: only Copilot approved; staff: ChatGPT approved -> teacher.cole is not listed
    assert {(r["user"], r["service"]) for r in rows} == {
        ("pupil.amy", "chatgpt"),
        ("pupil.amy", "photomath"),
        ("pupil.ben", "character_ai"),
    }
    after, _ = audit.entries(world.store, ["north"], actor=who("dsl"))
    new = [e for e in after if e["action"] == "ai_tools.pupil_detail"]
    assert len(new) == len([e for e in before if e["action"] == "ai_tools.pupil_detail"]) + 1
    assert new[0]["why"] == "weekly check" and new[0]["detail"]["users"] == 2
    assert (
        client.get(
            "/api/governance/ai-use/pupils", params={"school": "north"}, headers=world.headers(who("deputy_dsl"))
        ).status_code
        == 403
    )
