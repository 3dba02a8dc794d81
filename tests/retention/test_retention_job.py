"""The retention job on a warehouse aged 0..120 days for two schools with 90- and 60-day policies."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

from cases import schema as t
from cases.store import CaseStore
from retention import holds
from retention.job import RetentionJob
from retention.policy import RetentionConfig
from retention.records import deletions
from tests.retention.retention_kit import add_alert, build_warehouse, partition_rows, snapshot

TODAY = datetime.now(UTC).date()
NOW = datetime.combine(TODAY, time(12, 0), UTC)
CONFIG = RetentionConfig.model_validate({"schools": {"s2": {"events_days": 60}}})


def expected_expired(table: str, school: str, age: int) -> bool:
    days = {"events": 90 if school == "s1" else 60, "rejects": 30}[table]
    return age > days  # the partition's whole day must end before now - days


def key(table: str, school: str, age: int) -> str:
    return f"{table}/school={school}/date={(TODAY - timedelta(days=age)).isoformat()}"


def audit_rows(store: CaseStore, action: str) -> list[dict[str, object]]:
    with store.engine.connect() as c:
        q = sa.select(t.audit).where(t.audit.c.action == action).order_by(t.audit.c.id)
        return [t.row_dict(r) for r in c.execute(q)]


def test_exactly_the_expired_partitions_go_and_each_is_audited(tmp_path: Path, store: CaseStore) -> None:
    data = tmp_path / "var"
    root = data / "warehouse"
    build_warehouse(root, TODAY)
    before = partition_rows(root)
    job = RetentionJob(data_dir=data, store=store, config=CONFIG, now=NOW)
    plan = job.plan()
    planned = {i.key for i in plan.items if i.kind == "partition"}
    expected = {
        key(table, school, age)
        for table in ("events", "rejects")
        for school in ("s1", "s2")
        for age in range(121)
        if expected_expired(table, school, age)
    }
    assert planned == expected
    assert len(expected) == 30 + 60 + 90 + 90
    result = job.apply()
    after = partition_rows(root)
    assert set(after) == set(before) - expected
    assert all(after[k] == before[k] for k in after), "rows of kept partitions changed"
    assert {i.key for i in result.deleted if i.kind == "partition"} == expected
    assert not (root / "_trash" / job.run_id).exists(), "trash left behind"

    recorded = {d["object"]: d for d in deletions(store, job.run_id) if d["kind"] == "partition"}
    assert set(recorded) == expected
    assert all(recorded[k]["rows"] == before[k] for k in expected)
    entries = {e["object_id"]: e for e in audit_rows(store, "retention.delete_partition")}
    assert set(entries) == expected
    for k, e in entries.items():
        detail = e["detail"]
        assert isinstance(detail, dict)
        assert detail["rows"] == before[k] and detail["run_id"] == job.run_id
        assert "days" in str(detail["rule"]) and e["actor"] == "retention"
    s2_rule = entries[key("events", "s2", 61)]["detail"]
    assert isinstance(s2_rule, dict) and "60 days (school s2 override)" in s2_rule["rule"]

    # Manifests that pointed only at deleted files are gone; the rest remain.
    manifests = {p.stem for p in (root / "_batches").glob("*.json")}
    assert f"b-s1-{(TODAY - timedelta(days=120)).isoformat()}" not in manifests
    assert f"b-s1-{(TODAY - timedelta(days=40)).isoformat()}" in manifests  # its events partition is live

    # A second run finds nothing more to do.
    again = RetentionJob(data_dir=data, store=store, config=CONFIG, now=NOW).apply()
    assert not [i for i in again.deleted if i.kind == "partition"]


def test_dry_run_changes_nothing(tmp_path: Path, store: CaseStore) -> None:
    data = tmp_path / "var"
    build_warehouse(data / "warehouse", TODAY, max_age=100)
    add_alert(store, "s1", "alice", NOW - timedelta(days=95), rule="held")
    holds.place_hold(store, school="s1", actor="dsl1", reason="police enquiry", user="alice")
    tree = snapshot(data / "warehouse")

    def db_counts() -> dict[str, int]:
        with store.engine.connect() as c:
            names = sa.inspect(c).get_table_names()
            return {n: int(c.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names}

    counts = db_counts()
    plan = RetentionJob(data_dir=data, store=store, config=CONFIG, now=NOW).plan()
    assert plan.totals()["partition"]["objects"] > 0
    held = [i for i in plan.items if i.held]
    assert held and all(sum(i.held.values()) == 3 for i in held), "alice's 3 rows per expired day"
    assert snapshot(data / "warehouse") == tree
    assert db_counts() == counts
    assert not (data / "evidence").exists()


def test_holds_keep_rows_as_verified_evidence(tmp_path: Path, store: CaseStore) -> None:
    data = tmp_path / "var"
    build_warehouse(data / "warehouse", TODAY, max_age=100)
    alert_day = NOW - timedelta(days=95)
    alert_id = add_alert(store, "s2", "bob", datetime.combine(alert_day.date(), time(9, 0), UTC), rule="held")
    pupil = holds.place_hold(store, school="s1", actor="dsl1", reason="police enquiry", user="Alice")
    on_alert = holds.place_hold(store, school="s2", actor="dsl2", reason="LADO case", alert_id=alert_id)
    assert store.get_alert(alert_id)["legal_hold"] is True  # type: ignore[index]

    RetentionJob(data_dir=data, store=store, config=CONFIG, now=NOW).apply()

    files = holds.evidence_for_hold(store, pupil["id"])
    assert [f["partition_date"] for f in files] == [
        (TODAY - timedelta(days=age)).isoformat() for age in range(100, 90, -1)
    ]
    assert all(f["rows"] == 3 for f in files)
    assert holds.verify_evidence(store, data, pupil["id"]).ok
    kept = holds.read_evidence(store, data, pupil["id"], actor="dsl1", why="case review")
    assert set(kept.column("user").to_pylist()) == {"alice"} and kept.num_rows == 30
    assert audit_rows(store, "retention.evidence_read")[-1]["actor"] == "dsl1"

    # The alert hold kept bob's events around the alert (context window), from the one expired day.
    alert_files = holds.evidence_for_hold(store, on_alert["id"])
    assert [f["partition_date"] for f in alert_files] == [alert_day.date().isoformat()]
    rows = pq.read_table(data / alert_files[0]["path"])
    assert set(rows.column("user").to_pylist()) == {"bob"} and rows.num_rows == 3

    # Owner-only permissions on evidence files and their directories.
    for f in files + alert_files:
        p = data / f["path"]
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(p.parent.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "evidence").stat().st_mode) == 0o700

    # Tampering with a file is caught, even when SHA256SUMS is rewritten to match.
    target = data / files[0]["path"]
    os.chmod(target, 0o600)
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.write_bytes(bytes(raw))
    report = holds.verify_evidence(store, data, pupil["id"])
    assert not report.ok and report.files[0]["status"] == "mismatch"
    import hashlib

    sums = target.parent / "SHA256SUMS"
    lines = [
        f"{hashlib.sha256(raw).hexdigest()}  {target.name}" if line.endswith(target.name) else line
        for line in sums.read_text().splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n")
    assert not holds.verify_evidence(store, data, pupil["id"]).ok

    # Release: the next run deletes the evidence, audited.
    holds.release_hold(store, on_alert["id"], actor="dsl2", reason="case closed")
    assert store.get_alert(alert_id)["legal_hold"] is False  # type: ignore[index]
    job = RetentionJob(data_dir=data, store=store, config=CONFIG, now=NOW)
    result = job.apply()
    assert [i.key for i in result.deleted if i.kind == "evidence"] == [f"evidence/school=s2/hold={on_alert['id']}"]
    assert not (data / alert_files[0]["path"]).exists()
    assert (data / files[1]["path"]).exists(), "the pupil hold is still active"
    entry = audit_rows(store, "retention.delete_evidence")[-1]
    assert entry["object_id"] == f"evidence/school=s2/hold={on_alert['id']}"
    assert json.loads(json.dumps(entry["detail"]))["rows"] == 3


def test_flagged_alert_without_a_hold_row_is_adopted(tmp_path: Path, sqlite_store: CaseStore) -> None:
    from cases import workflow

    data = tmp_path / "var"
    build_warehouse(data / "warehouse", TODAY, schools=("s1",), max_age=95)
    day = (NOW - timedelta(days=93)).date()
    alert_id = add_alert(sqlite_store, "s1", "carol", datetime.combine(day, time(9, 0), UTC))
    workflow.set_legal_hold(sqlite_store, alert_id, "dsl1", hold=True, why="keep for the LADO")
    RetentionJob(data_dir=data, store=sqlite_store, config=CONFIG, now=NOW).apply()
    adopted = holds.list_holds(sqlite_store, ["s1"])
    assert len(adopted) == 1 and adopted[0]["alert_id"] == alert_id
    files = holds.evidence_for_hold(sqlite_store, adopted[0]["id"])
    assert [f["partition_date"] for f in files] == [day.isoformat()]
