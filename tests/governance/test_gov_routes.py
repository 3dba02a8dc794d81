"""Governance routes: every route x role x own/other school, from an expectation table written here.

Mirrors tests/api/test_route_matrix.py for the `/api/governance` and `/governance` routes, with objects
(requests, concerns, reviews, actions) seeded in both schools so object routes are exercised for real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from govkit import ROLES, GovWorld, who

from api.auth import declared_permission
from api.main import api_routes
from governance import concerns, requests, review
from governance.config import GovernanceConfig

GRANTS: dict[str, set[str]] = {
    "governance.submit": {"dsl", "deputy_dsl", "network_manager", "head_teacher", "staff"},
    "governance.view": {"dsl", "deputy_dsl", "network_manager", "head_teacher", "governor"},
    "governance.decide": {"dsl", "network_manager"},
    "governance.delegate": {"dsl"},
    "governance.review": {"dsl", "head_teacher", "network_manager"},
    "governance.signoff": {"dsl", "head_teacher", "network_manager", "governor"},
    "governance.ai_detail": {"dsl"},
    "events.view_raw": {"dsl", "deputy_dsl"},
    "alerts.view": {"dsl", "deputy_dsl", "head_teacher"},
}

RV = "/reviews/{school}/{year}"
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/governance/requests"): "governance.submit",
    ("GET", "/api/governance/requests/mine"): "governance.submit",
    ("GET", "/api/governance/requests"): "governance.view",
    ("GET", "/api/governance/requests/{request_id}"): "governance.view",
    ("POST", "/api/governance/requests/{request_id}/decision"): "governance.decide",
    ("POST", "/api/governance/requests/{request_id}/followup"): "governance.decide",
    ("GET", "/api/governance/register.csv"): "governance.view",
    ("GET", "/api/governance/register.pdf"): "governance.view",
    ("GET", "/api/governance/delegations"): "governance.view",
    ("PUT", "/api/governance/delegations"): "governance.delegate",
    ("POST", "/api/governance/concerns"): "governance.submit",
    ("GET", "/api/governance/concerns/mine"): "governance.submit",
    ("POST", "/api/governance/concerns/{alert_id}/events"): "events.view_raw",
    ("GET", "/api/governance/reviews"): "governance.view",
    ("GET", "/api/governance" + RV): "governance.view",
    ("POST", "/api/governance" + RV): "governance.review",
    ("PUT", "/api/governance" + RV): "governance.review",
    ("POST", "/api/governance" + RV + "/prefill"): "governance.review",
    ("POST", "/api/governance" + RV + "/actions"): "governance.review",
    ("POST", "/api/governance" + RV + "/actions/{action_id}/done"): "governance.review",
    ("POST", "/api/governance" + RV + "/signoff"): "governance.signoff",
    ("GET", "/api/governance" + RV + "/pdf"): "governance.view",
    ("GET", "/api/governance/ai-services"): "governance.view",
    ("GET", "/api/governance/ai-use"): "governance.view",
    ("GET", "/api/governance/ai-use/pupils"): "governance.ai_detail",
    ("GET", "/governance/mine"): "governance.submit",
    ("POST", "/governance/requests"): "governance.submit",
    ("POST", "/governance/concerns"): "governance.submit",
    ("GET", "/governance"): "governance.view",
    ("GET", "/governance/requests/{request_id}"): "governance.view",
    ("POST", "/governance/requests/{request_id}/decision"): "governance.decide",
    ("POST", "/governance/requests/{request_id}/followup"): "governance.decide",
    ("POST", "/governance/delegations"): "governance.delegate",
    ("GET", "/governance" + RV): "governance.view",
    ("POST", "/governance" + RV): "governance.review",
    ("POST", "/governance" + RV + "/signoff"): "governance.signoff",
    ("GET", "/governance/ai"): "governance.view",
    ("GET", "/governance/ai/pupils"): "governance.ai_detail",
    ("GET", "/governance/concerns"): "alerts.view",
    ("POST", "/governance/concerns/{alert_id}/events"): "events.view_raw",
}
# Routes answering from the caller's own schools whatever the cell's school (no school parameter or object).
UNSCOPED = {
    ("GET", "/api/governance/requests/mine"),
    ("GET", "/api/governance/concerns/mine"),
    ("GET", "/api/governance/ai-services"),
    ("GET", "/governance/mine"),
    ("GET", "/governance/concerns"),
}
YEAR = "2026-27"


@pytest.fixture(scope="module")
def objects(gov_world: GovWorld) -> dict[str, dict[str, Any]]:
    """Per school: a request in a delegated category, a concern, an opened review with one action."""
    store = gov_world.store
    out: dict[str, dict[str, Any]] = {}
    for school in ("north", "south"):
        requests.set_delegations(store, school, ["education"], actor=who("dsl", school))
        req = requests.submit(
            store,
            school=school,
            actor=who("staff", school),
            kind="unblock",
            url="https://www.bbc.co.uk/bitesize",
            category="education",
            group="students",
            reason="Year 9 history coursework",
        )
        con = concerns.submit(
            store,
            school=school,
            reporter=who("staff", school),
            what="a cruel meme shared",
            who="two Year 8 pupils",
            when=datetime.now(UTC) - timedelta(hours=1),
            where="IT room",
            category="bullying",
            subject_kind="pupil",
        )
        review.open_review(store, None, school, YEAR, actor=who("dsl", school), config=GovernanceConfig())
        act = review.add_action(
            store, school, YEAR, actor=who("dsl", school), text="Test the guest Wi-Fi", owner="it lead"
        )
        out[school] = {"request": req["id"], "alert": con["alert_id"], "action": act["id"]}
    return out


def test_every_governance_route_is_in_the_table(gov_world: GovWorld) -> None:
    """A new governance route must be added here with the permission its decorator declares."""
    served = {
        (m, r.path): declared_permission(r)
        for r in api_routes(gov_world.app.routes)
        if r.path.startswith(("/api/governance", "/governance"))
        for m in r.methods or ()
    }
    assert set(served) == set(ROUTES), f"untested: {set(served) - set(ROUTES)}; gone: {set(ROUTES) - set(served)}"
    for key, perm in served.items():
        assert perm == ROUTES[key], f"{key} declares {perm}, the table says {ROUTES[key]}"


def _body(path: str, school: str) -> dict[str, Any] | None:
    now = datetime.now(UTC)
    if path.endswith("/governance/requests"):
        return {
            "school": school,
            "kind": "block",
            "url": "http://games.example/",
            "category": "games",
            "group": "students",
            "reason": "matrix",
        }
    if path.endswith("/decision"):
        return {"approve": True, "reason": "matrix", "filter_change": "matrix change", "decision": "approve"}
    if path.endswith("/governance/concerns"):
        return {
            "school": school,
            "what": "matrix",
            "who": "someone",
            "when": now.isoformat(),
            "where": "hall",
            "category": "other",
            "subject_kind": "unknown",
        }
    if path.endswith("/events"):
        return {"user": "pupil.one", "since": (now - timedelta(hours=2)).isoformat(), "until": now.isoformat()}
    if path.endswith("/delegations"):
        return {"school": school, "categories": ["education"], "category": "education"}
    if path.endswith("/actions"):
        return {"text": "matrix action", "owner": "someone"}
    if path.endswith("/signoff"):
        return {"slot": "dsl"}
    if path.endswith("{year}") or path.endswith(YEAR):
        return {"answers": {}, "op": "save"}
    return None


def _call(
    client: TestClient, world: GovWorld, objs: dict[str, dict[str, Any]], role: str, school: str, method: str, path: str
) -> Any:
    url = (
        path.replace("{request_id}", objs[school]["request"])
        .replace("{alert_id}", objs[school]["alert"])
        .replace("{action_id}", str(objs[school]["action"]))
        .replace("{school}", school)
        .replace("{year}", YEAR)
    )
    params: dict[str, str] = {}
    by_path = any(k in path for k in ("{request_id}", "{alert_id}", "{school}"))
    body = _body(path, school) if method != "GET" else None
    if (method, path) not in UNSCOPED and not by_path and not (body and "school" in body):
        params["school"] = school
    headers = world.headers(who(role))
    if path.startswith("/api/"):
        return client.request(method, url, params=params, headers=headers, json=body, follow_redirects=False)
    return client.request(method, url, params=params, headers=headers, data=body, follow_redirects=False)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_route_role_school(
    gov_client: TestClient, gov_world: GovWorld, objects: dict[str, dict[str, Any]], method: str, path: str
) -> None:
    """Own school and permission held -> allowed (not 401/403, no 5xx); anything else -> 403."""
    perm = ROUTES[(method, path)]
    for role in ROLES:
        for school in ("north", "south"):
            resp = _call(gov_client, gov_world, objects, role, school, method, path)
            own = school == "north" or (method, path) in UNSCOPED
            if role in GRANTS[perm] and own:
                assert resp.status_code not in (401, 403), f"{role} denied {method} {path} in {school}: {resp.text}"
                assert resp.status_code < 500, resp.text
            else:
                assert resp.status_code == 403, f"{role} got {resp.status_code} for {method} {path} in {school}"
