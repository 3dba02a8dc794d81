"""Filter tests against the real filter: e2guardian in front of Squid on loopback, logs ingested by Vigil.

Covers: pass/fail per group (pupils block gambling and proxies, staff may gamble), a mis-configured group
(a guest network whose traffic skips e2guardian, so adult is allowed) failing with a clear record and an
alert, a group identified by source address, the monitoring check passing with ingested logs and failing
with the log source switched off (nothing ingested, or an empty log), an unreachable proxy, CSV and PDF
exports (PDF text checked with pdftotext), resulting actions (audited), and the schedule running once.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from ft_rigkit import FilterRig, rig_plan

from cases import audit
from cases import schema as t
from cases.store import CaseStore
from filtertests import export, records
from filtertests.plans import parse_plan
from filtertests.schedule import run_due
from filtertests.service import RunReport, run_and_record
from vigil.settings import Settings

pytestmark = pytest.mark.realparts


def _run(settings: Settings, store: CaseStore, yaml_text: str, *, proxy: str | None, logs: list[Path]) -> RunReport:
    plan = parse_plan(yaml_text)
    return run_and_record(
        settings, plan, store=store, proxy=proxy, actor="nm-test", trigger="cli", ingest_logs=[str(p) for p in logs]
    )


def _by(report: RunReport) -> dict[tuple[str, str, str], object]:
    return {(r.check, r.group, r.url): r for r in report.results}


def test_groups_pass_and_monitoring_sees_every_probe(
    filter_rig: FilterRig, settings: Settings, store: CaseStore
) -> None:
    """Correct policies: every check passes for pupils and staff, and each probe is in the ingested e2guardian log."""
    report = _run(settings, store, rig_plan(filter_rig), proxy=filter_rig.e2g_proxy, logs=[filter_rig.e2g_log])
    failed = [(r.check, r.group, r.url, r.reason) for r in report.results if not r.passed]
    assert not failed, failed
    res = {(r.check, r.group, r.url.split(":")[0]): r for r in report.results}
    assert res[("gambling-pupils", "pupils", "http")].observed == "blocked"
    assert res[("gambling-staff", "staff", "http")].observed == "allowed"
    https_proxy = next(r for r in report.results if r.url.startswith("https://proxy-anonymizer"))
    assert https_proxy.observed == "blocked" and https_proxy.detail.startswith("CONNECT")
    assert https_proxy.method == "CONNECT" and https_proxy.log_action == "blocked"
    adult = res[("adult-test-page", "pupils", "http")]
    assert adult.seen_in_logs and adult.log_action == "blocked" and adult.log_category == "Adult"
    assert adult.log_source == "e2guardian"
    assert res[("control-page", "staff", "http")].log_action == "allowed"
    run = records.get_run(store, report.run_id, ["rig"])
    assert run["passed"] and run["failures"] == 0 and run["actor"] == "nm-test"
    assert run["summary"]["gambling"] == {"probes": 2, "passed": 2, "failed": 0}
    entries, _ = audit.entries(store, ["rig"], object_id=report.run_id)
    assert [e["action"] for e in entries] == ["filtertest.run"]


def test_misconfigured_group_fails_with_record_and_alert(
    filter_rig: FilterRig, settings: Settings, store: CaseStore, tmp_path: Path
) -> None:
    """A guest network sent straight to Squid (no e2guardian) reaches the adult test page: failure, alert."""
    guests = f"  - name: guests\n    user: guest1\n    password: x\n    proxy: {filter_rig.squid_proxy}\n"
    library = "  - name: library\n    source_address: 127.0.0.3\n"
    text = rig_plan(filter_rig, extra_groups=guests + library)
    report = _run(settings, store, text, proxy=filter_rig.e2g_proxy, logs=[filter_rig.e2g_log, filter_rig.squid_log])
    by = {(r.check, r.group): r for r in report.results}
    bad = by[("adult-test-page", "guests")]
    assert not bad.passed and bad.observed == "allowed" and bad.expected == "blocked"
    assert "expected blocked, observed allowed" in bad.reason
    assert bad.seen_in_logs and bad.log_action == "allowed" and bad.log_source == "squid"
    # the library PC has no proxy login: e2guardian's ip plugin logs its address as the user
    lib = by[("adult-test-page", "library")]
    assert lib.passed and lib.identity == "127.0.0.3" and lib.log_action == "blocked", lib.reason
    assert all(r.passed for r in report.results if r.group in ("pupils", "staff"))

    run = records.get_run(store, report.run_id, ["rig"])
    assert not run["passed"] and run["failures"] == 1 and run["actions_outstanding"] == 1
    row = next(r for r in run["results"] if not r["passed"])
    assert row["group_name"] == "guests" and row["url"] == "http://adult.test/" and row["alert_id"]
    with store.engine.connect() as c:
        alert = c.execute(sa.select(t.alerts).where(t.alerts.c.id == row["alert_id"])).one()._mapping
    assert alert["detector"] == "filtertest" and alert["category"] == "pornography" and alert["severity"] == 4
    assert alert["subject_kind"] == "unknown" and alert["user"] is None and alert["school"] == "rig"
    assert "guests" in alert["title"]

    # the resulting action, recorded later and audited
    assert (
        records.record_action(store, report.run_id, "Guest VLAN routed through e2guardian", actor="nm", schools=["rig"])
        == 1
    )
    assert records.get_run(store, report.run_id, ["rig"])["actions_outstanding"] == 0
    entries, _ = audit.entries(store, ["rig"], object_id=report.run_id)
    assert {e["action"] for e in entries} == {"filtertest.run", "filtertest.action"}

    # exports for the annual review and governors
    rows = records.results_for_export(store, ["rig"])
    csv_text = export.to_csv(rows)
    assert csv_text.count("\n") == len(report.results) + 1 and "Guest VLAN routed" in csv_text
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: PDF text not checked")
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(export.to_pdf(rows, title="Filter and monitoring checks - rig", generated=datetime.now(UTC)))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Filter and monitoring checks - rig" in text
    assert "FAIL adult / guests / main: http://adult.test/" in text
    assert "Resulting action: Guest VLAN routed through e2guardian" in text
    assert "Run by: nm-test" in text


def test_monitoring_fails_when_the_log_source_is_off(
    filter_rig: FilterRig, settings: Settings, store: CaseStore, tmp_path: Path
) -> None:
    """Same correct filter, but nothing ingested (or an empty log): every monitored check fails, saying why."""
    text = rig_plan(filter_rig, wait=2)
    no_logs = _run(settings, store, text, proxy=filter_rig.e2g_proxy, logs=[])
    empty = tmp_path / "empty.log"
    empty.write_text("")
    empty_log = _run(settings, store, text, proxy=filter_rig.e2g_proxy, logs=[empty])
    for report in (no_logs, empty_log):
        assert all(r.filter_ok for r in report.results)  # the filter itself works
        assert all(not r.passed and r.seen_in_logs is False for r in report.results)
        adult = next(r for r in report.results if r.check == "adult-test-page" and r.group == "pupils")
        assert "not found in the ingested logs (user alice, host adult.test" in adult.reason
    run = records.get_run(store, no_logs.run_id, ["rig"])
    assert run["failures"] == run["probes"] and all(r["seen_in_logs"] is False for r in run["results"])


def test_unreachable_proxy_is_a_clear_failure(settings: Settings, store: CaseStore, filter_rig: FilterRig) -> None:
    """A filter that does not answer: every probe fails with the reason, the run is still recorded."""
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again on exit: nothing listens there
    report = _run(settings, store, rig_plan(filter_rig, wait=1), proxy=f"http://127.0.0.1:{dead}", logs=[])
    assert report.results and all(r.observed == "error" for r in report.results)
    assert all(f"filter (proxy 127.0.0.1:{dead}) unreachable" in r.detail for r in report.results)
    assert all("Connection refused" in r.detail for r in report.results)
    assert records.get_run(store, report.run_id, ["rig"])["failures"] == len(report.results)


def test_schedule_runs_once_per_due_instant(filter_rig: FilterRig, tmp_path: Path, store: CaseStore) -> None:
    """`run_due` runs the configured plan when due, records it as scheduled, and not again until next due."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(rig_plan(filter_rig, wait=1))
    settings = Settings(
        data_dir=Path(str(store.engine.url.database)).parent,
        timezone="UTC",
        filtertests={
            "enabled": True,
            "schedule": "0 6 * * 1",
            "plan": str(plan),
            "proxy": filter_rig.e2g_proxy,
            "school": "rig",
        },
    )
    now = datetime.now(UTC)
    first = run_due(settings, now, store=store)  # no scheduled run yet: the latest slot is due
    assert first is not None and all(r.passed is not None for r in first.results)
    assert run_due(settings, now + timedelta(minutes=5), store=store) is None  # that slot is done
    assert run_due(settings, now + timedelta(days=8), store=store) is not None  # a week later: due again
    runs = records.list_runs(store, ["rig"])
    assert len(runs) == 2 and {(r["actor"], r["trigger"]) for r in runs} == {("scheduled", "schedule")}


def test_schedule_is_off_until_a_filter_proxy_is_configured(tmp_path: Path, store: CaseStore) -> None:
    """The shipped default never probes test pages directly from the Vigil host."""
    base = Path(str(store.engine.url.database)).parent
    assert run_due(Settings(data_dir=base), datetime.now(UTC), store=store) is None  # off by default
    enabled_without_proxy = Settings(data_dir=base, filtertests={"enabled": True})
    assert run_due(enabled_without_proxy, datetime.now(UTC), store=store) is None
    assert records.list_runs(store, ["default"]) == []
