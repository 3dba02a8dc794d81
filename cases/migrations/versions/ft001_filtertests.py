"""Filter-tests branch: runs of filter-effectiveness checks and their per-probe results.

Revision ID: ft001_filtertests
Depends on: 0001
"""

import sqlalchemy as sa
from alembic import op

from cases.schema import UTCDateTime

revision = "ft001_filtertests"
down_revision = None
branch_labels = ("filtertests",)
depends_on = "0001"


def upgrade() -> None:
    """Create filtertest_runs and filtertest_results."""
    op.create_table(
        "filtertest_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("plan_name", sa.String(200), nullable=False),
        sa.Column("plan_sha256", sa.String(64), nullable=False),
        sa.Column("proxy", sa.String(255), nullable=True),
        sa.Column("probes", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index("ix_filtertest_runs_school", "filtertest_runs", ["school", "started_at"])
    op.create_table(
        "filtertest_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("filtertest_runs.id"), nullable=False),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("check_name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.Column("site", sa.String(128), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("expected", sa.String(32), nullable=False),
        sa.Column("observed", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("monitored", sa.Boolean, nullable=False),
        sa.Column("seen_in_logs", sa.Boolean, nullable=True),
        sa.Column("log_action", sa.String(16), nullable=True),
        sa.Column("log_category", sa.String(255), nullable=True),
        sa.Column("log_source", sa.String(128), nullable=True),
        sa.Column("monitoring_detail", sa.Text, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=True),
        sa.Column("action_note", sa.Text, nullable=True),
        sa.Column("action_by", sa.String(128), nullable=True),
        sa.Column("action_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_filtertest_results_run_id", "filtertest_results", ["run_id"])


def downgrade() -> None:
    """Drop the filter-test tables."""
    op.drop_table("filtertest_results")
    op.drop_table("filtertest_runs")
