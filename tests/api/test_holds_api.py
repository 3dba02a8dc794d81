"""Legal holds, evidence and the retention plan/runs through the API and pages (SYNTHETIC data only).

The route matrix checks every role x school cell; these tests check what the routes do: holds placed,
reviewed and released with audit entries, held rows surviving a real retention run as verified evidence,
a tampered evidence file reported (and refused for download), and 403 for other schools and other roles.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from fastapi.testclient import TestClient
from workspace_testkit import World

from cases import audit
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from retention.holds import place_hold
from retention.job import RetentionJob
from retention.policy import load_config
from warehouse.writer import WarehouseWriter

OLD = 100  # days: past the default 90-day events period
HELD_USER = "pupil.kept"
OTHER_USER = "pupil.gone"


def old_events(school: str, day: date, per_user: int = 4) -> pa.Table:
    """Invented events for two pupils on one old day."""
    base = datetime.combine(day, time(9, 0), UTC)
    rows = [
        {
            "ts": base + timedelta(minutes=i),
            "school": school,
            "source": "squid",
            "user": user,
            "action": "allowed",
            "url": f"https://example.test/{user}/{i}",
            "host": "example.test",
            "raw": f"synthetic old line {school} {user} {i}",
            "origin": f"synthetic-old:{school}:{user}:{i}",
        }
        for user in (HELD_USER, OTHER_USER)
        for i in range(per_user)
    ]
    return pa.Table.from_pylist([{n: r.get(n) for n in EVENT_SCHEMA.names} for r in rows], schema=EVENT_SCHEMA)


def entries(world: World, school: str, action: str) -> list[dict[str, Any]]:
    """Audit entries of one action in one school, newest first."""
    rows, _ = audit.entries(world.store, [school], limit=1000)
    return [r for r in rows if r["action"] == action]


def h(world: World, name: str) -> dict[str, str]:
    """Bearer header for one of the seeded users."""
    return world.headers(name)


@dataclass
class Purged:
    """A real retention run over an old north partition with a pupil hold placed through the API."""

    hold_id: int
    day: date
    plan_before: dict[str, Any]
    plan_after: dict[str, Any]


@pytest.fixture(scope="module")
def purged(client: TestClient, world: World) -> Purged:
    day = (datetime.now(UTC) - timedelta(days=OLD)).date()
    writer = WarehouseWriter(world.settings.warehouse_dir)
    for school in ("north", "south"):
        writer.write_batch(f"old-{school}", old_events(school, day), REJECT_SCHEMA.empty_table())
    resp = client.post(
        "/api/holds",
        params={"school": "north"},
        json={"user": HELD_USER, "reason": "Police enquiry about an online contact", "case_ref": "CPOMS-118"},
        headers=h(world, "dsl-north"),
    )
    assert resp.status_code == 201, resp.text
    hold_id = int(resp.json()["id"])
    before = client.get("/api/retention/plan", params={"school": "north"}, headers=h(world, "dsl-north"))
    assert before.status_code == 200, before.text
    config = load_config(world.settings.section("retention"))
    RetentionJob(data_dir=world.settings.data_dir, store=world.store, config=config).apply()
    after = client.get("/api/retention/plan", params={"school": "north"}, headers=h(world, "dsl-north"))
    return Purged(hold_id, day, before.json(), after.json())


def test_place_list_review_release_each_audited(client: TestClient, world: World) -> None:
    dsl = h(world, "dsl-north")
    review_by = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    resp = client.post(
        "/api/holds",
        params={"school": "north"},
        json={"user": "Pupil.Three", "reason": "Section 47 enquiry", "review_at": review_by},
        headers=dsl,
    )
    assert resp.status_code == 201, resp.text
    hold = resp.json()
    assert (hold["kind"], hold["user"], hold["placed_by"]) == ("pupil", "pupil.three", "dsl-north")
    assert hold["review_at"].startswith(review_by) and hold["review_due"] is False and hold["released_at"] is None

    listed = client.get("/api/holds", params={"school": "north"}, headers=dsl).json()
    assert hold["id"] in [x["id"] for x in listed]
    again = client.post(
        "/api/holds", params={"school": "north"}, json={"user": "pupil.three", "reason": "twice"}, headers=dsl
    )
    assert again.status_code == 409 and f"hold {hold['id']}" in again.json()["detail"]

    reviewed = client.post(f"/api/holds/{hold['id']}/review", json={"note": "Still open with police"}, headers=dsl)
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "dsl-north"
    assert reviewed.json()["review_at"] is None  # no next date given

    released = client.post(f"/api/holds/{hold['id']}/release", json={"reason": "Enquiry closed"}, headers=dsl)
    assert released.status_code == 200
    assert (released.json()["released_by"], released.json()["release_reason"]) == ("dsl-north", "Enquiry closed")
    active = client.get("/api/holds", params={"school": "north"}, headers=dsl).json()
    assert hold["id"] not in [x["id"] for x in active]
    gone = client.get("/api/holds", params={"school": "north", "status": "released"}, headers=dsl).json()
    assert hold["id"] in [x["id"] for x in gone]
    twice = client.post(f"/api/holds/{hold['id']}/release", json={"reason": "again"}, headers=dsl)
    assert twice.status_code == 409

    for action, why in (
        ("retention.hold_place", "Section 47 enquiry"),
        ("retention.hold_review", "Still open with police"),
        ("retention.hold_release", "Enquiry closed"),
    ):
        mine = [e for e in entries(world, "north", action) if e["object_id"] == str(hold["id"])]
        assert len(mine) == 1 and mine[0]["actor"] == "dsl-north" and mine[0]["why"] == why, action


def test_alert_hold_sets_the_flag_and_checks_the_alert(client: TestClient, world: World) -> None:
    dsl = h(world, "dsl-north")
    top = world.alerts["north"]["top"]
    resp = client.post(
        "/api/holds", params={"school": "north"}, json={"alert_id": top, "reason": "LADO referral"}, headers=dsl
    )
    assert resp.status_code == 201 and resp.json()["kind"] == "alert"
    assert world.store.get_alert(top)["legal_hold"] is True  # type: ignore[index]
    cases = {
        "another school's alert": ({"alert_id": world.alerts["south"]["top"], "reason": "x" * 5}, 403),
        "a staff alert the DSL cannot see": ({"alert_id": world.alerts["north"]["staff"], "reason": "xxxxx"}, 403),
        "no such alert": ({"alert_id": "0" * 40, "reason": "xxxxx"}, 403),
        "both pupil and alert": ({"alert_id": top, "user": "a", "reason": "xxxxx"}, 422),
        "neither": ({"reason": "xxxxx"}, 422),
        "no reason": ({"user": "pupil.x", "reason": ""}, 422),
        "review date in the past": ({"user": "pupil.x", "reason": "xxxxx", "review_at": "2020-01-01"}, 422),
    }
    for what, (body, code) in cases.items():
        got = client.post("/api/holds", params={"school": "north"}, json=body, headers=dsl)
        assert got.status_code == code, f"{what}: {got.status_code} {got.text}"
    # The school in the query is the one checked: north's DSL may not place holds in south.
    south = client.post(
        "/api/holds", params={"school": "south"}, json={"user": "pupil.one", "reason": "xxxxx"}, headers=dsl
    )
    assert south.status_code == 403


def test_other_school_and_other_roles_get_403(client: TestClient, world: World) -> None:
    south_hold = place_hold(world.store, school="south", actor="dsl-south", reason="south case", user="pupil.s")
    missing = 9_999_999
    dsl = h(world, "dsl-north")
    for hold_id in (south_hold["id"], missing):
        calls = [
            client.post(f"/api/holds/{hold_id}/review", json={"note": "not mine"}, headers=dsl),
            client.post(f"/api/holds/{hold_id}/release", json={"reason": "not mine"}, headers=dsl),
            client.get(f"/api/holds/{hold_id}/evidence", headers=dsl),
            client.get(f"/api/holds/{hold_id}/evidence/verify", headers=dsl),
            client.get(f"/api/holds/{hold_id}/evidence/download", headers=h(world, "deputy-dsl-north")),
        ]
        # Same answer for another school's hold and for no hold at all: existence never leaks.
        assert [(c.status_code, c.json()["detail"]) for c in calls] == [(403, "not permitted, or no such hold")] * 5
    assert client.get("/api/holds", params={"school": "south"}, headers=dsl).status_code == 403
    assert client.get("/holds/{}".format(south_hold["id"]), headers=dsl).status_code == 403

    nm = h(world, "network-manager-north")
    assert client.get("/api/holds", params={"school": "north"}, headers=nm).status_code == 403
    placed = client.post("/api/holds", params={"school": "north"}, json={"user": "p", "reason": "xxxxx"}, headers=nm)
    assert placed.status_code == 403
    assert client.get("/api/retention/plan", params={"school": "north"}, headers=nm).status_code == 403
    assert client.get("/api/retention/runs", params={"school": "north"}, headers=nm).status_code == 403
    deputy = h(world, "deputy-dsl-north")
    assert client.get("/api/holds", params={"school": "north"}, headers=deputy).status_code == 403
    assert client.get("/api/retention/plan", params={"school": "north"}, headers=deputy).status_code == 403
    head = h(world, "head-teacher-north")
    assert client.get("/api/holds", params={"school": "north"}, headers=head).status_code == 403
    assert client.get("/api/retention/runs", params={"school": "north"}, headers=head).status_code == 200


def test_plan_counts_what_the_next_run_deletes_and_runs_record_it(
    client: TestClient, world: World, purged: Purged
) -> None:
    key = f"events/school=north/date={purged.day.isoformat()}"
    before = {i["key"]: i for i in purged.plan_before["items"]}
    assert before[key]["rows"] == 8 and before[key]["held_rows"] == 4, "4 of the 8 rows are the held pupil's"
    assert all("school=north" in k or i["kind"] == "alert" for k, i in before.items()), "north only"
    assert purged.plan_before["totals"]["partition"]["rows"] >= 8
    assert {p["data_class"] for p in purged.plan_before["policy"]} >= {"events", "rejects", "audit"}
    assert "events: 90 days (default)" in [p["rule"] for p in purged.plan_before["policy"]]
    assert key not in {i["key"] for i in purged.plan_after["items"]}
    assert "pupil.kept" not in str(purged.plan_before), "counts only, no identities"

    runs = client.get("/api/retention/runs", params={"school": "north"}, headers=h(world, "dsl-north")).json()
    deleted = {d["object"]: d for d in runs[0]["deletions"]}
    assert deleted[key]["rows"] == 8 and runs[0]["finished_at"] is not None
    assert not any("school=south" in o for o in deleted), "another school's deletions are not shown"
    head_runs = client.get("/api/retention/runs", params={"school": "north"}, headers=h(world, "head-teacher-north"))
    assert head_runs.json() == runs
    south = client.get("/api/retention/runs", params={"school": "south"}, headers=h(world, "dsl-south")).json()
    assert f"events/school=south/date={purged.day.isoformat()}" in {d["object"] for d in south[0]["deletions"]}
    assert key not in {d["object"] for d in south[0]["deletions"]}


def test_evidence_survives_verifies_downloads_and_tampering_is_shown(
    client: TestClient, world: World, purged: Purged
) -> None:
    dsl, deputy = h(world, "dsl-north"), h(world, "deputy-dsl-north")
    ev = client.get(f"/api/holds/{purged.hold_id}/evidence", headers=dsl).json()
    assert [f["partition_date"] for f in ev["files"]] == [purged.day.isoformat()]
    assert ev["files"][0]["rows"] == 4 and len(ev["files"][0]["sha256"]) == 64
    ok = client.get(f"/api/holds/{purged.hold_id}/evidence/verify", headers=dsl).json()
    assert ok["ok"] is True and [f["status"] for f in ok["files"]] == ["ok"]

    # The deputy may read the held rows (raw events) though not manage holds; the read is audited.
    got = client.get(
        f"/api/holds/{purged.hold_id}/evidence/download", params={"why": "strategy meeting"}, headers=deputy
    )
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = pacsv.read_csv(io.BytesIO(got.content))
    assert rows.num_rows == 4 and set(rows.column("user").to_pylist()) == {HELD_USER}
    read = entries(world, "north", "retention.evidence_read")
    assert read[0]["actor"] == "deputy-dsl-north" and read[0]["why"] == "strategy meeting"
    parquet = client.get(f"/api/holds/{purged.hold_id}/evidence/download?format=parquet", headers=dsl)
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"

    page = client.get("/holds?school=north", headers=dsl)
    assert page.status_code == 200 and "verified" in page.text and "failed verification" not in page.text

    target = world.settings.data_dir / ev["files"][0]["path"]
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.write_bytes(bytes(raw))

    bad = client.get(f"/api/holds/{purged.hold_id}/evidence/verify", headers=dsl).json()
    assert bad["ok"] is False and bad["files"][0]["status"] == "mismatch"
    assert bad["files"][0]["expected"] == ev["files"][0]["sha256"] != bad["files"][0]["actual"]
    refused = client.get(f"/api/holds/{purged.hold_id}/evidence/download", headers=deputy)
    assert refused.status_code == 409 and "failed verification" in refused.json()["detail"]
    listing = client.get("/holds?school=north", headers=dsl).text
    assert "failed verification" in listing
    detail = client.get(f"/holds/{purged.hold_id}", headers=dsl).text
    assert "Failed verification" in detail and "mismatch" in detail and "download-csv" not in detail


def test_pages_place_review_and_release_through_forms(client: TestClient, world: World) -> None:
    dsl = h(world, "dsl-north")
    placed = client.post(
        "/holds",
        data={"school": "north", "user": "pupil.form", "reason": "From the form"},
        headers=dsl,
        follow_redirects=False,
    )
    assert placed.status_code == 303 and placed.headers["location"].startswith("/holds?done=")
    hold = next(x for x in client.get("/api/holds", headers=dsl).json() if x["user"] == "pupil.form")
    mismatch = client.post(
        "/holds?school=north",
        data={"school": "south", "user": "p2", "reason": "xxxxx"},
        headers=dsl,
        follow_redirects=False,
    )
    assert mismatch.status_code == 422
    bad = client.post(
        f"/holds/{hold['id']}/review", data={"note": "still needed", "next_review_at": "soon"}, headers=dsl
    )
    assert bad.status_code == 422 and "next_review_at" in bad.text
    assert client.post(f"/holds/{hold['id']}/review", data={"note": "still needed"}, headers=dsl).status_code == 200
    out = client.post(f"/holds/{hold['id']}/release", data={"reason": "no longer needed"}, headers=dsl)
    assert out.status_code == 200 and "hold released" in out.text
    retention = client.get("/retention", headers=dsl)
    assert retention.status_code == 200 and "90 days (default)" in retention.text
