"""Retention branch: legal holds, hold evidence, retention runs and deletions, and the audit purge exemption.

The audit table is append-only (0001: triggers refuse UPDATE/DELETE). Retention must remove audit entries
older than the school's audit period (default 6 years), so this revision narrows the DELETE guard: a row may
be deleted only while an `open` grant in `retention_audit_purges` covers it (same school, row older than the
grant's cut-off). The retention job opens the grant, deletes, writes its own audit entry and closes the grant
in one transaction, so no other transaction ever sees an open grant. A grant's cut-off must be at least a
year in the past (checked by trigger), a closed grant cannot be reopened, UPDATE and TRUNCATE stay refused.

Revision ID: r001_retention
Depends on: 0001
"""

import sqlalchemy as sa
from alembic import op

from cases.schema import UTCDateTime

revision = "r001_retention"
down_revision = None
branch_labels = ("retention",)
depends_on = "0001"

_COVERED = (
    "SELECT 1 FROM retention_audit_purges g WHERE g.state = 'open' AND OLD.ts < g.cutoff "
    "AND (OLD.school = g.school OR (OLD.school IS NULL AND g.school = ''))"
)

_PG_GUARD = f"""
CREATE OR REPLACE FUNCTION vigil_audit_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS ({_COVERED}) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION vigil_audit_purge_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'open' OR NEW.cutoff > (now() AT TIME ZONE 'UTC') - interval '365 days' THEN
            RAISE EXCEPTION 'audit purge grant must be open with a cut-off at least a year ago';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.state = 'open' AND NEW.state = 'done' AND NEW.cutoff = OLD.cutoff
       AND NEW.school = OLD.school THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit purge grants are append-only once closed';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER retention_audit_purges_guard BEFORE INSERT OR UPDATE OR DELETE ON retention_audit_purges
    FOR EACH ROW EXECUTE FUNCTION vigil_audit_purge_guard();
"""

_PG_GUARD_DOWN = """
DROP TRIGGER IF EXISTS retention_audit_purges_guard ON retention_audit_purges;
DROP FUNCTION IF EXISTS vigil_audit_purge_guard();
CREATE OR REPLACE FUNCTION vigil_audit_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only';
END;
$$ LANGUAGE plpgsql;
"""

_SQLITE_GUARD = (
    "DROP TRIGGER IF EXISTS audit_no_delete",
    f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN NOT EXISTS ({_COVERED}) "
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER retention_purge_insert BEFORE INSERT ON retention_audit_purges "
    "WHEN NEW.state <> 'open' OR NEW.cutoff > strftime('%Y-%m-%d %H:%M:%f', 'now', '-365 days') "
    "BEGIN SELECT RAISE(ABORT, 'audit purge grant must be open with a cut-off at least a year ago'); END",
    "CREATE TRIGGER retention_purge_update BEFORE UPDATE ON retention_audit_purges "
    "WHEN NOT (OLD.state = 'open' AND NEW.state = 'done' AND NEW.cutoff = OLD.cutoff AND NEW.school = OLD.school) "
    "BEGIN SELECT RAISE(ABORT, 'audit purge grants are append-only once closed'); END",
    "CREATE TRIGGER retention_purge_delete BEFORE DELETE ON retention_audit_purges "
    "BEGIN SELECT RAISE(ABORT, 'audit purge grants are append-only once closed'); END",
)

_SQLITE_GUARD_DOWN = (
    "DROP TRIGGER IF EXISTS retention_purge_insert",
    "DROP TRIGGER IF EXISTS retention_purge_update",
    "DROP TRIGGER IF EXISTS retention_purge_delete",
    "DROP TRIGGER IF EXISTS audit_no_delete",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
)


def upgrade() -> None:
    """Create the retention tables and narrow the audit delete guard to open purge grants."""
    op.create_table(
        "legal_holds",
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
    )
    op.create_index("ix_legal_holds_school", "legal_holds", ["school", "released_at"])
    op.create_table(
        "hold_evidence",
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
    op.create_table(
        "retention_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_table(
        "retention_deletions",
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
    op.create_table(
        "retention_audit_purges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("cutoff", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("ts", UTCDateTime, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_GUARD)
    elif dialect == "sqlite":
        for stmt in _SQLITE_GUARD:
            op.execute(stmt)


def downgrade() -> None:
    """Restore the unconditional audit guard and drop the retention tables."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_GUARD_DOWN)
    elif dialect == "sqlite":
        for stmt in _SQLITE_GUARD_DOWN:
            op.execute(stmt)
    for table in ("retention_audit_purges", "retention_deletions", "retention_runs", "hold_evidence", "legal_holds"):
        op.drop_table(table)
