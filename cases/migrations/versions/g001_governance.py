"""Governance branch: block/allow requests, delegations, staff concerns, annual reviews, actions, sign-offs.

Revision ID: g001_governance
Depends on: 0001
"""

import sqlalchemy as sa
from alembic import op

from cases.schema import UTCDateTime

revision = "g001_governance"
down_revision = None
branch_labels = ("governance",)
depends_on = "0001"


def upgrade() -> None:
    """Create the governance tables (see governance/tables.py)."""
    op.create_table(
        "gov_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_role", sa.String(32), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("filter_change", sa.Text, nullable=True),
        sa.Column("review_by", sa.String(10), nullable=True),
        sa.Column("followup_status", sa.String(16), nullable=False),
        sa.Column("followup_due", UTCDateTime, nullable=True),
        sa.Column("followup_run_id", sa.String(40), nullable=True),
        sa.Column("followup_at", UTCDateTime, nullable=True),
        sa.Column("followup_detail", sa.Text, nullable=True),
    )
    op.create_index("ix_gov_requests_school", "gov_requests", ["school", "requested_at"])
    op.create_table(
        "gov_delegations",
        sa.Column("school", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(64), primary_key=True),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "gov_concerns",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("reported_by", sa.String(128), nullable=False),
        sa.Column("reported_at", UTCDateTime, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
    )
    op.create_index("ix_gov_concerns_reporter", "gov_concerns", ["reported_by", "reported_at"])
    op.create_table(
        "gov_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("signatories", sa.JSON, nullable=False),
        sa.Column("prefill", sa.JSON, nullable=False),
        sa.Column("prefill_at", UTCDateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("school", "academic_year", name="uq_gov_reviews_school_year"),
    )
    op.create_table(
        "gov_review_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("gov_reviews.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("due", sa.String(10), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_gov_review_actions_review_id", "gov_review_actions", ["review_id"])
    op.create_table(
        "gov_signoffs",
        sa.Column("review_id", sa.Integer, sa.ForeignKey("gov_reviews.id"), primary_key=True),
        sa.Column("slot", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("signed_at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop the governance tables."""
    for name in ("gov_signoffs", "gov_review_actions", "gov_reviews", "gov_concerns", "gov_delegations"):
        op.drop_table(name)
    op.drop_table("gov_requests")
