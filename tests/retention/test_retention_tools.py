"""The CLI, the daily schedule, file permissions, the subject-access export and `vigil dpia`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from cases import schema as t
from cases import workflow
from cases.store import CaseStore
from retention import holds
from retention.dpia import render_dpia
from retention.job import RetentionJob
from retention.policy import RetentionConfig
from retention.sar import export_subject
from retention.schedule import run_due
from tests.retention.retention_kit import add_alert, build_warehouse, partition_rows, snapshot
from vigil.settings import Settings, SourceConfig

TODAY = datetime.now(UTC).date()
NOW = datetime.combine(TODAY, time(12, 0), UTC)
TOML = """
[schools.s1]
name = "Synthetic Primary"
[[sources]]
name = "proxy"
school = "s1"
format = "squid"
path = "/var/log/squid/access.log"
[retention]
run_at = "02:30"
[retention.schools.s2]
events_days = 60
"""


def vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(cwd / "var"), "VIGIL_CONFIG": str(cwd / "vigil.toml")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_dry_run_then_run_then_holds(tmp_path: Path) -> None:
    (tmp_path / "vigil.toml").write_text(TOML)
    root = tmp_path / "var" / "warehouse"
    build_warehouse(root, TODAY, max_age=95)
    before = snapshot(root)
    r = vigil("retention", "run", "--dry-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "partition events/school=s2/date=" in r.stdout and "rows 9" in r.stdout
    assert "dry run, nothing changed" in r.stdout.splitlines()[-1]
    assert snapshot(root) == before

    r = vigil("retention", "holds", "add", "--school", "s2", "--user", "bob", "--reason", "enquiry", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    hold_id = json.loads(r.stdout)["id"]
    r = vigil("retention", "plan", "--json", cwd=tmp_path)
    plan = json.loads(r.stdout)
    assert plan["totals"]["partition"]["objects"] == 5 + 35 + 65 * 2  # s1 events 91-95, s2 61-95, rejects 31-95
    assert any(i["held"] == {str(hold_id): 3} for i in plan["items"])

    r = vigil("retention", "run", "--school", "s2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "rows 9" in r.stdout and "run r" in r.stdout.splitlines()[-1]
    assert not any(
        "school=s2" in k and "date=" + (TODAY - timedelta(days=61)).isoformat() in k for k in partition_rows(root)
    )
    assert any(
        "school=s1" in k and "date=" + (TODAY - timedelta(days=95)).isoformat() in k for k in partition_rows(root)
    ), "--school s2 left s1 alone"
    r = vigil("retention", "holds", "verify", str(hold_id), cwd=tmp_path)
    assert r.returncode == 0 and "35 files, all verified" in r.stdout, r.stdout + r.stderr
    r = vigil("retention", "holds", "release", str(hold_id), "--reason", "closed", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["released_by"].startswith("cli")
    r = vigil("retention", "holds", "list", cwd=tmp_path)
    assert r.stdout == ""
    r = vigil("retention", "run", "--days", "0", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("vigil: ") and "Traceback" not in r.stderr


def test_schedule_runs_once_a_day_after_run_at(tmp_path: Path, sqlite_store: CaseStore) -> None:
    settings = Settings(data_dir=tmp_path / "var", retention={"run_at": "02:30"})  # type: ignore[call-arg]
    build_warehouse(settings.warehouse_dir, TODAY, schools=("s1",), max_age=92)
    early = datetime.combine(TODAY, time(2, 0), UTC)
    assert run_due(settings, early, store=sqlite_store) is None
    first = run_due(settings, early + timedelta(hours=1), store=sqlite_store)
    assert first is not None and {i.key[-10:] for i in first.deleted if i.key.startswith("events")} == {
        (TODAY - timedelta(days=a)).isoformat() for a in (91, 92)
    }
    assert run_due(settings, early + timedelta(hours=5), store=sqlite_store) is None  # already ran today
    assert run_due(settings, early + timedelta(days=1, hours=1), store=sqlite_store) is not None


def test_warehouse_and_evidence_files_are_owner_only(tmp_path: Path, sqlite_store: CaseStore) -> None:
    data = tmp_path / "var"
    build_warehouse(data / "warehouse", TODAY, schools=("s1",), max_age=92)
    holds.place_hold(sqlite_store, school="s1", actor="dsl1", reason="enquiry", user="alice")
    RetentionJob(data_dir=data, store=sqlite_store, config=RetentionConfig(), now=NOW).apply()
    for base in (data / "warehouse", data / "evidence"):
        files = [p for p in base.rglob("*") if p.is_file() and p.name != ".lock"]
        assert files
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}, base
    for d in [*(data / "warehouse").glob("*/school=*/date=*"), *(data / "evidence").rglob("*")]:
        if d.is_dir():
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_subject_access_export(tmp_path: Path, sqlite_store: CaseStore) -> None:
    data = tmp_path / "var"
    build_warehouse(data / "warehouse", TODAY, schools=("s1",), max_age=92)
    aid = add_alert(sqlite_store, "s1", "alice", NOW - timedelta(days=1))
    workflow.add_note(sqlite_store, aid, "dsl1", "spoke to alice")
    holds.place_hold(sqlite_store, school="s1", actor="dsl1", reason="enquiry", user="alice")
    RetentionJob(data_dir=data, store=sqlite_store, config=RetentionConfig(), now=NOW).apply()
    dest = tmp_path / "out" / "sar.zip"
    r = export_subject(sqlite_store, data, school="s1", user="Alice", actor="dsl1", why="SAR-2026-01", dest=dest)
    assert (r.events, r.evidence_events, r.alerts, r.notes, r.holds) == (91 * 3, 2 * 3, 1, 1, 1)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with zipfile.ZipFile(dest) as zf:
        names = set(zf.namelist())
        events_csv = zf.read("events.csv").decode().splitlines()
        alerts = json.loads(zf.read("alerts.json"))
    assert {"README.txt", "events.csv", "evidence_events.csv", "alerts.json", "notes.json", "holds.json"} <= names
    assert len(events_csv) == 1 + 91 * 3 and all(',"alice",' in line for line in events_csv[1:])
    assert alerts[0]["id"] == aid
    with sqlite_store.engine.connect() as c:
        entry = c.execute(sa.select(t.audit).where(t.audit.c.action == "sar.export")).one()
    assert entry.actor == "dsl1" and entry.why == "SAR-2026-01" and entry.detail["events"] == 273


def test_dpia_reflects_the_live_configuration(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        sources=[SourceConfig(name="proxy", school="s1", format="squid", path="/var/log/squid/access.log")],
        retention={"schools": {"s2": {"events_days": 60}}},  # type: ignore[call-arg]
        kafka={"bootstrap": "10.0.0.9:9092", "topic": "raw"},  # type: ignore[call-arg]
    )
    md = render_dpia(settings)
    assert "| proxy | s1 | squid | Squid native access.log" in md
    assert "| raw monitoring events (warehouse `events/`) | 90 days | 60 days (override) |" in md
    assert "Search raw events and any pupil's timeline (every call audited) | dsl, deputy_dsl" in md
    assert "Retention settings and legal holds on alerts | dsl |" in md
    assert "10.0.0.9:9092" in md and "168 hours" in md
    (tmp_path / "vigil.toml").write_text(TOML)
    r = vigil("dpia", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("# Record of processing"), r.stderr
    assert "| proxy | s1 | squid |" in r.stdout and "60 days (override)" in r.stdout
