"""API behaviour beyond the matrix: object-level checks, audit of reads, sessions, CSRF, TOTP, lock-out."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient
from workspace_testkit import PASSWORD, World

from cases import audit, users


def test_token_flow_and_alert_list_contract(client: TestClient, world: World) -> None:
    r = client.post("/api/token", data={"username": "dsl-north", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    rows = client.get("/api/alerts", params={"school": "north"}, headers=h)
    assert rows.status_code == 200
    items = rows.json()
    assert {"id", "school", "user", "category", "severity", "status", "ts"} <= set(items[0])
    assert items[0]["id"] == world.alerts["north"]["top"]  # most severe first
    assert all(i["school"] == "north" for i in items)
    assert world.alerts["north"]["staff"] not in {i["id"] for i in items}  # staff alerts: head teacher only
    assert int(rows.headers["X-Total-Count"]) == len(items)
    assert client.get("/api/alerts", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/alerts").status_code == 401
    bad = client.post("/api/token", data={"username": "dsl-north", "password": "wrong"})
    assert bad.status_code == 401


def test_object_level_checks(client: TestClient, world: World) -> None:
    north = world.alerts["north"]
    dsl, head = world.headers("dsl-north"), world.headers("head-teacher-north")
    assert client.get(f"/api/alerts/{north['staff']}", headers=dsl).status_code == 403
    assert client.get(f"/api/alerts/{north['staff']}", headers=head).status_code == 200
    assert client.get(f"/api/alerts/{north['top']}", headers=head).status_code == 403  # not escalated
    assert client.get(f"/api/alerts/{north['escalated']}", headers=head).status_code == 200
    # missing and other-school look identical: 403 with the same body, never 404
    missing = client.get("/api/alerts/does-not-exist", headers=dsl)
    other = client.get(f"/api/alerts/{world.alerts['south']['top']}", headers=dsl)
    assert missing.status_code == other.status_code == 403
    assert missing.json() == other.json()
    head_list = client.get("/api/alerts", headers=head).json()
    assert {i["id"] for i in head_list} == {north["staff"], north["escalated"]}


def test_reads_of_personal_data_are_audited(client: TestClient, world: World) -> None:
    north = world.alerts["north"]
    before = audit.entries(world.store, ["north"], actor="deputy-dsl-north")[1]
    h = world.headers("deputy-dsl-north")
    assert client.get(f"/api/alerts/{north['low']}", headers=h, params={"why": "weekly review"}).status_code == 200
    r = client.get(f"/api/alerts/{north['top']}/timeline", headers=h)
    assert r.status_code == 200 and len(r.json()["events"]) > 50
    assert client.get("/api/events", params={"school": "north", "user": "pupil.one"}, headers=h).status_code == 200
    tl = client.get("/api/users/pupil.one/timeline", params={"school": "north"}, headers=h)
    assert tl.status_code == 200
    rows, after = audit.entries(world.store, ["north"], actor="deputy-dsl-north")
    assert after - before == 4
    assert {e["action"] for e in rows[:4]} == {"alert.view", "timeline.view", "events.view"}
    assert any(e["why"] == "weekly review" for e in rows)


def test_summary_has_no_identities(client: TestClient, world: World) -> None:
    r = client.get("/api/reports/summary", params={"school": "north"}, headers=world.headers("network-manager-north"))
    assert r.status_code == 200
    text = r.text
    assert "pupil.one" not in text and "teacher.x" not in text and "10.0." not in text
    assert r.json()["alerts"]["total"] >= 4


def test_sources_health(client: TestClient, world: World) -> None:
    r = client.get("/api/sources", headers=world.headers("network-manager-north"))
    assert r.status_code == 200
    rows = r.json()
    assert rows and rows[0]["source"] == "squid" and rows[0]["events"] > 0
    assert "pupil" not in r.text
    assert client.get("/api/filtertests", headers=world.headers("network-manager-north")).json() == []


def _login(client: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post(
        "/login", data={"username": user, "password": password, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:300]
    return client


def test_ui_session_cookie_flags_and_csrf(world: World) -> None:
    with TestClient(world.app, base_url="https://testserver") as c:
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        r = c.post(
            "/login",
            data={"username": "dsl-north", "password": PASSWORD, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=strict" in cookie.lower()
        assert r.headers["location"] == "/alerts"
        alert = world.alerts["north"]["low"]
        detail = c.get(f"/alerts/{alert}")
        assert detail.status_code == 200 and "<svg" in detail.text
        token = re.search(r'name="csrf" value="([^"]+)"', detail.text)
        assert token
        # a form post without (or with a wrong) CSRF token is refused
        assert c.post(f"/alerts/{alert}/notes", data={"body": "x"}, follow_redirects=False).status_code == 403
        assert (
            c.post(f"/alerts/{alert}/notes", data={"body": "x", "csrf": "forged"}, follow_redirects=False).status_code
            == 403
        )
        ok = c.post(
            f"/alerts/{alert}/notes", data={"body": "spoke to tutor", "csrf": token.group(1)}, follow_redirects=False
        )
        assert ok.status_code == 303
        assert "spoke to tutor" in c.get(f"/alerts/{alert}").text
        assert c.get("/network").status_code == 200
        nm = c.get("/admin/users")
        assert nm.status_code == 403 and "Not permitted" in nm.text
        c.post("/logout", data={"csrf": token.group(1)})
        assert c.get("/alerts", follow_redirects=False).headers["location"].startswith("/login")


def test_login_without_form_token_and_lockout(world: World) -> None:
    users.create_user(world.store, "lock-me", "dsl", ["north"], PASSWORD)
    with TestClient(world.app, base_url="https://testserver") as c:
        assert c.post("/login", data={"username": "lock-me", "password": PASSWORD}).status_code == 400
        for _ in range(users.MAX_FAILURES):
            assert c.post("/api/token", data={"username": "lock-me", "password": "nope"}).status_code == 401
        assert c.post("/api/token", data={"username": "lock-me", "password": PASSWORD}).status_code == 401


def test_totp_second_factor(world: World) -> None:
    users.create_user(world.store, "head-totp", "head_teacher", ["north"], PASSWORD)
    secret = users.enable_totp(world.store, "head-totp")
    with TestClient(world.app, base_url="https://testserver") as c:
        assert c.post("/api/token", data={"username": "head-totp", "password": PASSWORD}).status_code == 401
        ok = c.post(
            "/api/token", data={"username": "head-totp", "password": PASSWORD, "totp": pyotp.TOTP(secret).now()}
        )
        assert ok.status_code == 200
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        r = c.post(
            "/login",
            data={"username": "head-totp", "password": PASSWORD, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        assert r.headers["location"].startswith("/login/totp")
        assert c.get("/head", follow_redirects=False).status_code == 303  # half signed in: not yet
        step = c.get("/login/totp")
        token = re.search(r'name="csrf" value="([^"]+)"', step.text)
        assert token
        bad = c.post(
            "/login/totp",
            data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111", "csrf": token.group(1)},
        )
        assert bad.status_code == 401
        done = c.post(
            "/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf": token.group(1)}, follow_redirects=False
        )
        assert done.status_code == 303 and done.headers["location"] == "/head"
        assert c.get("/head").status_code == 200


def test_admin_manages_only_own_school_users(client: TestClient, world: World) -> None:
    h = world.headers("admin-north")
    names = {u["name"] for u in client.get("/api/admin/users", headers=h).json()}
    assert "dsl-north" in names and "dsl-south" not in names
    assert client.post("/api/admin/users/dsl-south/disable", headers=h).status_code == 403
    assert client.get("/api/alerts", headers=h).status_code == 403  # admin sees no safeguarding data
    created = client.post(
        "/api/admin/users",
        headers=h,
        json={"name": "new-deputy", "role": "deputy_dsl", "schools": ["north"], "password": "password123"},
    )
    assert created.status_code == 201 and "password" not in created.text


def test_errors_are_json_for_api_and_workflow_conflicts_are_409(client: TestClient, world: World) -> None:
    h = world.headers("dsl-north")
    alert = world.alerts["north"]["low"]
    r = client.post(f"/api/alerts/{alert}/close", headers=h, json={"outcome": "nope", "note": "x"})
    assert r.status_code == 422
    assert (
        client.post(
            f"/api/alerts/{alert}/close", headers=h, json={"outcome": "false_positive", "note": "VPN test by IT"}
        ).status_code
        == 200
    )
    again = client.post(f"/api/alerts/{alert}/close", headers=h, json={"outcome": "false_positive", "note": "x"})
    assert again.status_code == 409 and "closed" in again.json()["detail"]
    assert client.get("/healthz").json()["status"] == "ok"
    assert "vigil_http_requests_total" in client.get("/metrics").text


def test_filter_test_history_is_school_scoped(client: TestClient, world: World) -> None:
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from filtertests.tables import filtertest_runs as RUNS

    now = datetime.now(UTC)
    with world.store.engine.begin() as conn:
        for school in ("north", "south"):
            conn.execute(
                sa.insert(RUNS).values(
                    id=f"run-{school}",
                    school=school,
                    started_at=now,
                    finished_at=now,
                    actor="nm",
                    trigger="manual",
                    plan_name="weekly checks",
                    plan_sha256="0" * 64,
                    proxy=None,
                    probes=12,
                    failures=1,
                    passed=False,
                    summary={},
                )
            )
    rows = client.get("/api/filtertests", headers=world.headers("network-manager-north")).json()
    assert [r["id"] for r in rows] == ["run-north"]
    assert rows[0]["actions_outstanding"] == 0 and rows[0]["passed"] is False
    assert (
        client.get(
            "/api/filtertests", params={"school": "south"}, headers=world.headers("network-manager-north")
        ).status_code
        == 403
    )
