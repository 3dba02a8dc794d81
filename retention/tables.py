"""Retention's tables in the case store (created by the `retention` Alembic branch, r001_retention).

- `legal_holds`: a hold on a pupil (school + user) or on an alert, with reason, who, when, review, release;
- `hold_evidence`: each evidence file copied out of an expired partition for a hold, with its SHA-256;
- `retention_runs`: every run (scheduled, CLI, dry or real) and its summary, which the daily schedule reads;
- `retention_deletions`: what each run deleted (one row per partition, alert, audit purge, evidence), unique
  per run so a re-run after a crash records a deletion exactly once;
- `retention_audit_purges`: the narrow exemption from the audit table's append-only guard: a delete on
  `audit` is allowed only for rows older than the cut-off of an `open` grant for the same school, and a grant
  is opened and closed inside the purging transaction, so no other transaction ever sees it open.
"""

from __future__ import annotations

import sqlalchemy as sa

from cases.schema import UTCDateTime

metadata = sa.MetaData()

legal_holds = sa.Table(
    "legal_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("user", sa.String(255), nullable=True),
    sa.Column("alert_id", sa.String(64), nullable=True),
    sa.Column("case_ref", sa.String(255), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("placed_by", sa.String(128), nullable=False),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("review_at", UTCDateTime, nullable=True),
    sa.Column("reviewed_by", sa.String(128), nullable=True),
    sa.Column("reviewed_at", UTCDateTime, nullable=True),
    sa.Column("released_by", sa.String(128), nullable=True),
    sa.Column("released_at", UTCDateTime, nullable=True),
    sa.Column("release_reason", sa.Text, nullable=True),
    sa.Index("ix_legal_holds_school", "school", "released_at"),
)

hold_evidence = sa.Table(
    "hold_evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("hold_id", sa.Integer, sa.ForeignKey("legal_holds.id"), nullable=False),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("source_table", sa.String(16), nullable=False),
    sa.Column("partition_date", sa.String(10), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("hold_id", "source_table", "partition_date", name="uq_hold_evidence_part"),
)

retention_runs = sa.Table(
    "retention_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("trigger", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
)

retention_deletions = sa.Table(
    "retention_deletions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("object", sa.String(255), nullable=False),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("cutoff", UTCDateTime, nullable=True),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.UniqueConstraint("run_id", "kind", "object", name="uq_retention_deletion"),
)

retention_audit_purges = sa.Table(
    "retention_audit_purges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("school", sa.String(64), nullable=False),  # '' = audit entries with no school
    sa.Column("cutoff", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ts", UTCDateTime, nullable=False),
)
