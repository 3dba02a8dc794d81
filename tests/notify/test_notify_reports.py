"""Digest and governors' report numbers match the records; PDFs render (pdftotext); routes by role; exports."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cases import audit, reports, workflow
from cases import schema as t
from cases.reports_pdf import digest_pdf, governors_pdf
from cases.store import CaseStore
from cases.synthetic import synthetic_alerts
from vigil.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from workspace_testkit import World, seed  # noqa: E402

IDENTITIES = (b"pupil.one", b"pupil.two", b"teacher.x", b"how many pills", b"10.0.")


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("LOUD SKIP: pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_digest_and_governors_numbers_match_the_store(tmp_path: Path) -> None:
    store = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    store.migrate()
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    alerts = synthetic_alerts(120, ("north",), start=now - timedelta(days=20), pupils=40)
    store.upsert_alerts(alerts)
    for a in alerts[:30]:
        workflow.close(store, a.id, "dsl-north", outcome="no_further_action", note="checked")
    settings = Settings(data_dir=tmp_path)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(t.alerts)).mappings()]
    week = [r for r in rows if now - timedelta(days=7) <= r["ts"] < now and r["subject_kind"] != "staff"]
    d = reports.digest(store, settings, "north", now, with_items=True, base_url="https://v.example")
    assert d["raised"]["total"] == len(week)
    assert d["raised"]["by_severity"] == {str(k): v for k, v in sorted(Counter(r["severity"] for r in week).items())}
    assert d["raised"]["by_category"] == dict(sorted(Counter(r["category"] for r in week).items()))
    open_rows = [r for r in rows if r["status"] != "closed" and r["subject_kind"] != "staff"]
    assert d["open"]["total"] == len(open_rows)
    low = [r for r in week if r["severity"] <= 2]
    assert d["low_severity"]["total"] == len(low) == len(d["low_severity"]["list"])
    assert all(i["link"] == f"https://v.example/alerts/{i['id']}" for i in d["low_severity"]["list"])
    no_items = reports.digest(store, settings, "north", now, with_items=False)
    assert "list" not in no_items["low_severity"]

    period = reports.term_period("autumn-2026", now, "Europe/London")
    g = reports.governors(store, settings, None, "north", period, now)
    term = [r for r in rows if period.since <= r["ts"] < period.until]
    assert g["alerts"]["total"] == len(term) == sum(g["alerts"]["by_category"].values())
    assert sum(sum(w.values()) for w in g["alerts"]["per_week"].values()) == len(term)
    closed = Counter(r["outcome"] for r in term if r["status"] == "closed")
    assert g["alerts"]["by_outcome"] == dict(sorted(closed.items()))
    assert g["alerts"]["about_staff"] == sum(1 for r in term if r["subject_kind"] == "staff")

    text = _pdf_text(governors_pdf(g), tmp_path)
    assert "report to governors" in text and f"Safeguarding alerts: {len(term)}" in text
    assert "Alerts per week" in text and "Autumn term 2026" in text
    dtext = _pdf_text(digest_pdf(d), tmp_path)
    assert "Weekly safeguarding digest" in dtext and f"Alerts raised: {len(week)}" in dtext
    for a in alerts:
        assert a.user not in text  # the governors' PDF names nobody


def test_term_parsing() -> None:
    now = datetime(2027, 2, 10, tzinfo=UTC)
    assert reports.term_period(None, now, "Europe/London").label == "Spring term 2027"
    p = reports.term_period("summer-2027", now, "Europe/London")
    assert p.as_dict("Europe/London")["first_day"] == "2027-04-01"
    assert p.as_dict("Europe/London")["last_day"] == "2027-08-31"
    with pytest.raises(Exception, match="autumn-YYYY"):
        reports.term_period("easter-2027", now, "Europe/London")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return seed(tmp_path_factory.mktemp("reports") / "var")


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c


def _get(client: TestClient, world: World, who: str, url: str, **params: Any) -> Any:
    return client.get(url, params=params, headers=world.headers(who))


@pytest.mark.parametrize("role", ["dsl", "deputy-dsl", "network-manager", "head-teacher"])
@pytest.mark.parametrize(
    "url", ["/api/reports/digest", "/api/reports/governors", "/api/reports/governors.pdf", "/reports/governors"]
)
def test_aggregate_reports_for_every_role_without_identities(
    client: TestClient, world: World, role: str, url: str
) -> None:
    resp = _get(client, world, f"{role}-north", url, school="north")
    assert resp.status_code == 200, resp.text[:200]
    for bad in IDENTITIES:
        assert bad not in resp.content, f"{bad!r} in {url} for {role}"
    assert _get(client, world, f"{role}-north", url, school="south").status_code == 403
    assert _get(client, world, "admin-north", url, school="north").status_code == 403


def test_digest_list_only_for_safeguarding_roles(client: TestClient, world: World) -> None:
    dsl = _get(client, world, "dsl-north", "/api/reports/digest", school="north").json()
    nm = _get(client, world, "network-manager-north", "/api/reports/digest", school="north").json()
    assert [i["id"] for i in dsl["low_severity"]["list"]] == [world.alerts["north"]["low"]]
    assert "list" not in nm["low_severity"] and nm["raised"] == dsl["raised"]
    html = _get(client, world, "dsl-north", "/api/reports/digest", school="north", format="html")
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text


def test_incident_export_roles_content_and_audit(client: TestClient, world: World, tmp_path: Path) -> None:
    aid = world.alerts["north"]["escalated"]
    for role in ("network-manager", "head-teacher", "admin"):
        for ext in ("pdf", "csv"):
            resp = _get(client, world, f"{role}-north", f"/api/alerts/{aid}/export.{ext}")
            assert resp.status_code == 403, f"{role} exported an incident ({resp.status_code})"
    assert _get(client, world, "dsl-south", f"/api/alerts/{aid}/export.csv").status_code == 403
    resp = _get(client, world, "deputy-dsl-north", f"/api/alerts/{aid}/export.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["pupil"] == "pupil.two" and rows[0]["reference"] == aid
    assert "escalated to the head teacher" in rows[0]["history"] and "head teacher to decide" in rows[0]["notes"]
    pdf = _get(client, world, "dsl-north", f"/api/alerts/{aid}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content, tmp_path)
    assert "Safeguarding incident record" in text and "pupil.two" in text and "Triage history" in text
    entries, _ = audit.entries(world.store, ["north"], object_id=aid)
    formats = sorted(e["detail"]["format"] for e in entries if e["action"] == "alert.export")
    assert formats == ["csv", "pdf"] and {e["actor"] for e in entries if e["action"] == "alert.export"} == {
        "deputy-dsl-north",
        "dsl-north",
    }


def test_formula_injection_is_neutralised() -> None:
    from cases.exports import _safe

    assert _safe("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _safe("plain") == "plain"


def test_subject_access_export_is_dsl_only_and_audited(client: TestClient, world: World) -> None:
    url = "/api/pupils/pupil.one/sar"
    for role in ("deputy-dsl", "network-manager", "head-teacher", "admin"):
        assert _get(client, world, f"{role}-north", url, school="north", why="SAR 12").status_code == 403
    assert _get(client, world, "dsl-north", url, school="south", why="SAR 12").status_code == 403
    resp = _get(client, world, "dsl-north", url, school="north", why="Parent's SAR ref 12")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert "alerts.json" in names and "events.csv" in names
    entries, _ = audit.entries(world.store, ["north"], object_id="pupil.one")
    assert any(e["action"] == "sar.export" and e["why"] == "Parent's SAR ref 12" for e in entries)
