"""Case-store retention on SQLite and PostgreSQL: closed alerts by class, the audit purge exemption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases import schema as t
from cases import workflow
from cases.store import CaseStore
from retention import holds
from retention.job import RetentionJob
from retention.policy import RetentionConfig
from retention.records import deletions
from retention.tables import retention_audit_purges
from tests.retention.retention_kit import add_alert

NOW = datetime.now(UTC)
CONFIG = RetentionConfig.model_validate({"schools": {"s2": {"audit_years": 3}}})


def _insert_audit(store: CaseStore, school: str | None, ts: datetime, action: str = "alert.view") -> None:
    with store.engine.begin() as c:
        c.execute(
            sa.insert(t.audit).values(
                ts=ts, actor="dsl1", action=action, object_type="alert", object_id="a", school=school, detail={}
            )
        )


def _audit_count(store: CaseStore, **where: object) -> int:
    q = sa.select(sa.func.count()).select_from(t.audit)
    for k, v in where.items():
        q = q.where(t.audit.c[k] == v)
    with store.engine.connect() as c:
        return int(c.execute(q).scalar_one())


def test_ordinary_audit_deletes_and_updates_are_still_refused(store: CaseStore) -> None:
    _insert_audit(store, "s1", NOW - timedelta(days=9 * 365))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(sa.delete(t.audit))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(sa.update(t.audit).values(actor="someone else"))
    # A grant must reach at least a year back: the exemption cannot be used on recent entries.
    with pytest.raises(sa.exc.DBAPIError, match="at least a year"), store.engine.begin() as c:
        c.execute(sa.insert(retention_audit_purges).values(run_id="x", school="s1", cutoff=NOW, state="open", ts=NOW))
    # A grant for another school does not cover this school's rows.
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
        old = NOW - timedelta(days=2 * 365)
        c.execute(sa.insert(retention_audit_purges).values(run_id="x", school="s2", cutoff=old, state="open", ts=NOW))
        c.execute(sa.delete(t.audit).where(t.audit.c.school == "s1"))
    assert _audit_count(store, school="s1") == 1


def test_audit_purge_deletes_only_expired_entries_and_audits_itself(tmp_path: Path, store: CaseStore) -> None:
    for years in (7, 5, 2):
        _insert_audit(store, "s1", NOW - timedelta(days=years * 366))
        _insert_audit(store, "s2", NOW - timedelta(days=years * 366))
    _insert_audit(store, None, NOW - timedelta(days=7 * 366))
    job = RetentionJob(data_dir=tmp_path / "var", store=store, config=CONFIG, now=NOW)
    planned = {i.key: i.rows for i in job.plan().items if i.kind == "audit"}
    assert sorted(planned.values()) == [1, 1, 2]
    job.apply()
    assert _audit_count(store, school="s1", action="alert.view") == 2  # 6 years: only the 7-year-old went
    assert _audit_count(store, school="s2", action="alert.view") == 1  # 3 years: 7 and 5 went
    purges = [d for d in deletions(store, job.run_id) if d["kind"] == "audit"]
    assert {(d["school"], d["rows"]) for d in purges} == {("s1", 1), ("s2", 2), ("", 1)}
    with store.engine.connect() as c:
        entries = c.execute(sa.select(t.audit).where(t.audit.c.action == "retention.delete_audit")).all()
        grants = c.execute(sa.select(retention_audit_purges)).all()
    assert len(entries) == 3 and all(e.detail["run_id"] == job.run_id for e in entries)
    assert {e.school for e in entries} == {"s1", "s2", None}
    assert all(g.state == "done" for g in grants) and sum(g.rows for g in grants) == 4
    # Closed grants cannot be reopened, so the exemption ends with the purging transaction.
    with pytest.raises(sa.exc.DBAPIError, match="append-only once closed"), store.engine.begin() as c:
        c.execute(sa.update(retention_audit_purges).values(state="open"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(sa.delete(t.audit))


def test_closed_alerts_expire_by_outcome_unless_held(tmp_path: Path, store: CaseStore) -> None:
    day = NOW - timedelta(days=1)
    fp = add_alert(store, "s1", "alice", day, rule="fp")
    acted = add_alert(store, "s1", "bob", day, rule="acted")
    open_ = add_alert(store, "s1", "carol", day, rule="open")
    held = add_alert(store, "s1", "dave", day, rule="held")
    pupil_held = add_alert(store, "s1", "erin", day, rule="pupil")
    for aid in (fp, held, pupil_held):
        workflow.add_note(store, aid, "dsl1", "looked at it")
        workflow.close(store, aid, "dsl1", outcome="false_positive", note="nothing of concern")
    workflow.close(store, acted, "dsl1", outcome="social_care_referral", note="referred")
    workflow.set_legal_hold(store, held, "dsl1", hold=True, why="keep")
    holds.place_hold(store, school="s1", actor="dsl1", reason="investigation", user="erin")

    later = NOW + timedelta(days=91)
    job = RetentionJob(data_dir=tmp_path / "var", store=store, config=CONFIG, now=later)
    result = job.apply()
    gone = [i.key for i in result.deleted if i.kind == "alert"]
    assert gone == [fp]
    assert store.get_alert(fp) is None and store.notes(fp) == []
    for kept in (acted, open_, held, pupil_held):
        assert store.get_alert(kept) is not None
    with store.engine.connect() as c:
        entry = c.execute(sa.select(t.audit).where(t.audit.c.action == "retention.delete_alert")).one()
    assert entry.object_id == fp and entry.detail["class"] == "false_positive_alerts"
    assert entry.detail["removed"]["alert_notes"] == 1
    assert "90 days after closing" in entry.detail["rule"]

    # The safeguarding record goes only after its own period (25 years by default).
    much_later = NOW + timedelta(days=25 * 366)
    job2 = RetentionJob(data_dir=tmp_path / "var", store=store, config=CONFIG, now=much_later)
    assert acted in [i.key for i in job2.plan().items if i.kind == "alert"]
