"""The retention job: plan what is expired, then apply it crash-safely and record every deletion.

Per expired partition, in this order (docs/retention.md, ADR 0005):
1. copy the rows held by active legal holds into the evidence store (idempotent, checksummed);
2. write an intent file `<warehouse>/_trash/<run-id>/<partition>.json` (fsynced);
3. rename the partition directory into `<warehouse>/_trash/<run-id>/...` (atomic, same filesystem), so a
   reader sees the whole partition or none of it;
4. record the deletion and its audit entry in one transaction (unique per run and partition);
5. remove the trash copy, then the intent.
A crash anywhere leaves the partition either live or in the trash; the next run's `recover()` finishes
interrupted deletions (recording any not yet recorded) and empties the trash. Partitions of today or later
are never candidates (policy), so ingest writing today's partition never races a rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cases import schema as t
from cases.store import CaseStore
from retention import evidence as ev
from retention import holds as hl
from retention import policy as pol
from retention import records as rec
from retention.errors import RetentionBusy
from retention.scan import count_rows, fsync_dir, list_partitions, partition_files, private_dirs
from retention.tables import hold_evidence, legal_holds, retention_runs
from warehouse.layout import parse_partition


@dataclass
class PlanItem:
    """One thing the run deletes: a partition, an alert, a school's old audit entries, or released evidence."""

    kind: str
    key: str
    school: str | None
    rows: int
    data_class: str
    rule: str
    cutoff: datetime | None
    held: dict[int, int] = field(default_factory=dict)


@dataclass
class Plan:
    """What a run would delete, and interrupted deletions a real run would finish first."""

    run_id: str
    now: datetime
    items: list[PlanItem]
    pending_recovery: list[str]

    def totals(self) -> dict[str, dict[str, int]]:
        """Per kind: how many objects and rows."""
        out: dict[str, dict[str, int]] = {}
        for item in self.items:
            entry = out.setdefault(item.kind, {"objects": 0, "rows": 0})
            entry["objects"] += 1
            entry["rows"] += item.rows
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (CLI --json, run summaries)."""
        return {
            "run_id": self.run_id,
            "now": self.now.isoformat(),
            "items": [{**asdict(i), "cutoff": i.cutoff.isoformat() if i.cutoff else None} for i in self.items],
            "pending_recovery": self.pending_recovery,
            "totals": self.totals(),
        }


@dataclass
class RunResult:
    """What a real run did."""

    plan: Plan
    deleted: list[PlanItem]
    skipped: list[str]
    recovered: list[str]
    evidence: list[dict[str, Any]]
    manifests_removed: int


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id (`r20260501T023000Z-1a2b3c`)."""
    return f"r{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _flat(key: str) -> str:
    return key.replace("/", "__")


def _write_json_durable(obj: object, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    fsync_dir(dest.parent)


class RetentionJob:
    """Plan and apply retention for one data directory and case store."""

    def __init__(
        self,
        *,
        data_dir: Path,
        store: CaseStore,
        config: pol.RetentionConfig,
        now: datetime | None = None,
        school: str | None = None,
        events_days: int | None = None,
        actor: str = rec.ACTOR,
        trigger: str = "cli",
    ) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "warehouse"
        self.trash = self.root / "_trash"
        self.store = store
        self.config = config
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.school = school
        self.events_days = events_days
        self.actor = actor
        self.trigger = trigger
        self.run_id = new_run_id(self.now)

    # ---- plan (reads only) -----------------------------------------------------------------------
    def plan(self, *, include_flagged: bool = True) -> Plan:
        """Everything expired now, with row counts; changes nothing on disk or in the database."""
        items: list[PlanItem] = []
        parts = list_partitions(self.root, self.school)
        holds: dict[str, list[hl.ActiveHold]] = {}
        for e in pol.expired_partitions(parts, self.now, self.config, events_days=self.events_days):
            item = PlanItem("partition", e.key, e.school, e.rows, e.data_class, e.rule, e.cutoff)
            if e.data_class == "events":
                if e.school not in holds:
                    holds[e.school] = hl.active_holds(self.store, e.school, include_flagged=include_flagged)
                files = partition_files(self.root / e.key)
                for hold in holds[e.school]:
                    n = ev.count_held(files, hold)
                    if n:
                        item.held[hold.id] = item.held.get(hold.id, 0) + n
            items.append(item)
        for a in pol.expired_alerts(rec.closed_alerts(self.store, self.school), self.now, self.config):
            items.append(PlanItem("alert", a.key, a.school, 1, a.data_class, a.rule, a.cutoff))
        for school in rec.audit_schools(self.store):
            if self.school and school != self.school:
                continue
            policy = self.config.for_school(school or "")
            cutoff = pol.audit_cutoff(self.now, policy)
            n = rec.count_audit(self.store, school, cutoff)
            if n:
                key = f"audit/school={school or ''}/before={cutoff.date().isoformat()}"
                items.append(PlanItem("audit", key, school, n, "audit", policy.describe("audit"), cutoff))
        items.extend(self._released_evidence())
        return Plan(self.run_id, self.now, items, self._interrupted())

    def _released_evidence(self) -> list[PlanItem]:
        e, h = hold_evidence.c, legal_holds.c
        q = (
            sa.select(e.hold_id, e.school, sa.func.count(), sa.func.sum(e.rows))
            .select_from(hold_evidence.join(legal_holds, h.id == e.hold_id))
            .where(h.released_at.is_not(None), e.deleted_at.is_(None))
            .group_by(e.hold_id, e.school)
            .order_by(e.hold_id)
        )
        if self.school:
            q = q.where(e.school == self.school)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        rule = "released_evidence: deleted at the first run after the hold is released"
        return [
            PlanItem("evidence", f"evidence/school={s}/hold={hid}", s, int(n or 0), "released_evidence", rule, None)
            for hid, s, _files, n in rows
        ]

    def _interrupted(self) -> list[str]:
        if not self.trash.is_dir():
            return []
        return sorted(
            f"{run.name}/{intent.name}"
            for run in self.trash.iterdir()
            if run.is_dir() and not run.name.startswith(".")
            for intent in run.glob("*.json")
        )

    # ---- apply -----------------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        private_dirs(self.trash)
        fd = os.open(self.trash / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise RetentionBusy("another retention run is in progress") from exc
            yield
        finally:
            os.close(fd)

    def apply(self) -> RunResult:
        """Finish interrupted runs, then delete everything expired now, recording each deletion."""
        with self._lock():
            recovered = self.recover()
            hl.adopt_flagged_alerts(self.store, self.actor, self.school)
            plan = self.plan(include_flagged=False)
            with self.store.engine.begin() as conn:
                conn.execute(
                    sa.insert(retention_runs).values(
                        run_id=self.run_id,
                        started_at=t.now(),
                        dry_run=False,
                        trigger=self.trigger,
                        actor=self.actor,
                        summary={},
                    )
                )
            result = RunResult(plan, [], [], recovered, [], 0)
            actions = {
                "partition": self._delete_partition,
                "alert": self._delete_alert,
                "audit": self._purge_audit,
                "evidence": self._delete_evidence,
            }
            for item in plan.items:
                if actions[item.kind](item, result):
                    result.deleted.append(item)
                else:
                    result.skipped.append(item.key)
            result.manifests_removed = self._clean_manifests()
            run_dir = self.trash / self.run_id
            if run_dir.is_dir() and not any(run_dir.glob("*.json")):
                shutil.rmtree(run_dir)  # only the empty skeleton of moved partitions is left
            summary = {**plan.totals(), "skipped": result.skipped, "recovered": recovered}
            with self.store.engine.begin() as conn:
                conn.execute(
                    sa.update(retention_runs)
                    .where(retention_runs.c.run_id == self.run_id)
                    .values(finished_at=t.now(), summary=summary)
                )
            return result

    def _delete_partition(self, item: PlanItem, result: RunResult) -> bool:
        part = self.root / item.key
        if not part.is_dir():
            return False
        files = partition_files(part)
        copied: list[dict[str, Any]] = []
        if item.data_class == "events" and item.school:
            day = date.fromisoformat(item.key.rsplit("=", 1)[1])
            for hold in hl.active_holds(self.store, item.school):
                rows = ev.select_held(files, hold)
                if rows.num_rows:
                    copied.append(self._store_evidence(hold, day, rows))
        rows_now = count_rows(files)
        run_dir = self.trash / self.run_id
        private_dirs(run_dir)
        intent = run_dir / f"{_flat(item.key)}.json"
        _write_json_durable(
            {
                "run_id": self.run_id,
                "key": item.key,
                "school": item.school,
                "data_class": item.data_class,
                "rows": rows_now,
                "files": len(files),
                "rule": item.rule,
                "cutoff": item.cutoff.isoformat() if item.cutoff else None,
                "evidence": copied,
            },
            intent,
        )
        dest = run_dir / item.key
        private_dirs(dest.parent)
        os.rename(part, dest)
        fsync_dir(part.parent)
        fsync_dir(dest.parent)
        item.rows = rows_now
        self._finish_partition(intent, self.run_id)
        result.evidence.extend(copied)
        return True

    def _store_evidence(self, hold: hl.ActiveHold, day: date, rows: Any) -> dict[str, Any]:
        f = ev.write_evidence(self.data_dir, hold, day, rows)
        e = hold_evidence.c
        values = {"path": f.path, "sha256": f.sha256, "rows": f.rows, "bytes": f.bytes, "run_id": self.run_id}
        with self.store.engine.begin() as conn:
            where = (e.hold_id == hold.id, e.source_table == "events", e.partition_date == day.isoformat())
            if conn.execute(sa.select(e.id).where(*where)).first() is None:
                conn.execute(
                    sa.insert(hold_evidence).values(
                        hold_id=hold.id,
                        school=hold.school,
                        source_table="events",
                        partition_date=day.isoformat(),
                        created_at=t.now(),
                        **values,
                    )
                )
            else:  # a re-run after a crash rewrote the file: keep the checksum of what is on disk
                conn.execute(sa.update(hold_evidence).where(*where).values(**values))
        return {"hold_id": hold.id, **values}

    def _finish_partition(self, intent: Path, recovered_by: str | None) -> None:
        """Record the deletion described by an intent (once), then remove its trash copy and the intent."""
        info = json.loads(intent.read_text())
        dest = intent.parent / info["key"]
        with self.store.engine.begin() as conn:
            recorded = rec.already_recorded(conn, info["run_id"], "partition", info["key"])
            if not dest.exists() and not recorded:
                intent.unlink()  # killed before the rename: the partition is still live, nothing was deleted
                return
            detail: dict[str, Any] = {"files": info["files"], "held_rows_copied": info["evidence"]}
            if recovered_by and recovered_by != info["run_id"]:
                detail["finished_by_run"] = recovered_by
            rec.record_deletion(
                conn,
                run_id=info["run_id"],
                kind="partition",
                obj=info["key"],
                school=info["school"],
                rows=int(info["rows"]),
                rule=info["rule"],
                cutoff=datetime.fromisoformat(info["cutoff"]) if info["cutoff"] else None,
                detail=detail,
            )
        if dest.exists():
            shutil.rmtree(dest)
        intent.unlink()
        fsync_dir(intent.parent)

    def recover(self) -> list[str]:
        """Finish deletions interrupted by a crash and empty the trash of earlier runs; returns their keys."""
        done: list[str] = []
        if not self.trash.is_dir():
            return done
        for run in sorted(p for p in self.trash.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if run.name == self.run_id:
                continue
            for intent in sorted(run.glob("*.json")):
                key = json.loads(intent.read_text())["key"]
                self._finish_partition(intent, self.run_id)
                done.append(key)
            shutil.rmtree(run)  # anything left is an unfinished rmtree of an already recorded partition
        fsync_dir(self.trash)
        return done

    def _delete_alert(self, item: PlanItem, result: RunResult) -> bool:
        with self.store.engine.begin() as conn:
            # Re-check inside the transaction: a hold placed or the alert reopened since planning wins.
            current = rec.closed_alerts(self.store, item.school, alert_id=item.key, conn=conn)
            if not current or not pol.expired_alerts(current, self.now, self.config):
                return False
            removed = rec.delete_alert(conn, item.key, rec.alert_dependents(conn))
            rec.record_deletion(
                conn,
                run_id=self.run_id,
                kind="alert",
                obj=item.key,
                school=item.school,
                rows=1,
                rule=item.rule,
                cutoff=item.cutoff,
                detail={"class": item.data_class, "removed": removed, "closed_at": current[0].closed_at},
            )
        return True

    def _purge_audit(self, item: PlanItem, result: RunResult) -> bool:
        assert item.cutoff is not None
        with self.store.engine.begin() as conn:
            n = rec.purge_audit(conn, self.run_id, item.school, item.cutoff)
            item.rows = n
            rec.record_deletion(
                conn,
                run_id=self.run_id,
                kind="audit",
                obj=item.key,
                school=item.school,
                rows=n,
                rule=item.rule,
                cutoff=item.cutoff,
            )
        return n > 0

    def _delete_evidence(self, item: PlanItem, result: RunResult) -> bool:
        hold_id = int(item.key.rsplit("=", 1)[1])
        assert item.school is not None
        files = ev.delete_hold_evidence(self.data_dir, item.school, hold_id)
        with self.store.engine.begin() as conn:
            e = hold_evidence.c
            conn.execute(
                sa.update(hold_evidence).where(e.hold_id == hold_id, e.deleted_at.is_(None)).values(deleted_at=t.now())
            )
            rec.record_deletion(
                conn,
                run_id=self.run_id,
                kind="evidence",
                obj=item.key,
                school=item.school,
                rows=item.rows,
                rule=item.rule,
                cutoff=None,
                detail={"files": files, "hold_id": hold_id},
            )
        return True

    def _clean_manifests(self) -> int:
        """Remove batch manifests whose every file is gone from an expired partition (idempotent)."""
        manifests = self.root / "_batches"
        if not manifests.is_dir():
            return 0
        removed = 0
        for m in manifests.glob("*.json"):
            try:
                files = json.loads(m.read_text())["files"]
            except (OSError, ValueError, KeyError):
                continue  # being replaced by the writer, or not ours to judge
            if files and all(self._gone_and_expired(f) for f in files):
                m.unlink(missing_ok=True)
                removed += 1
        return removed

    def _gone_and_expired(self, rel: str) -> bool:
        path = self.root / rel
        parsed = parse_partition(path.parent)
        if path.exists() or parsed is None:
            return False
        table = Path(rel).parts[0]
        days = self.config.for_school(parsed[0]).table_days(table) if table in ("events", "rejects") else None
        if days is None:
            return False
        if table == "events" and self.events_days is not None:
            days = self.events_days
        return pol.partition_expired(parsed[1], self.now, days)
