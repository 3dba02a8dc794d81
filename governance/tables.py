"""Governance tables in the case store (created by the `governance` Alembic branch, g001_governance).

- `gov_requests`: block/allow requests from staff, the decision (who, when, why, the filter change made) and
  the follow-up filter test that shows the change took effect;
- `gov_delegations`: request categories the DSL lets the network manager decide, per school;
- `gov_concerns`: staff-reported eSafety concerns (the case itself is an alert, detector `staff_report`);
- `gov_reviews`, `gov_review_actions`, `gov_signoffs`: the annual review of filtering and monitoring
  (DfE standard 2) per school and academic year, its actions with owners, and each sign-off.
"""

from __future__ import annotations

import sqlalchemy as sa

from cases.schema import UTCDateTime

metadata = sa.MetaData()

requests = sa.Table(
    "gov_requests",
    metadata,
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
    sa.Index("ix_gov_requests_school", "school", "requested_at"),
)

delegations = sa.Table(
    "gov_delegations",
    metadata,
    sa.Column("school", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("granted_by", sa.String(128), nullable=False),
    sa.Column("granted_at", UTCDateTime, nullable=False),
)

concerns = sa.Table(
    "gov_concerns",
    metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("reported_by", sa.String(128), nullable=False),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("subject_kind", sa.String(16), nullable=False),
    sa.Index("ix_gov_concerns_reporter", "reported_by", "reported_at"),
)

reviews = sa.Table(
    "gov_reviews",
    metadata,
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

review_actions = sa.Table(
    "gov_review_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("review_id", sa.Integer, sa.ForeignKey("gov_reviews.id"), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("due", sa.String(10), nullable=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime, nullable=True),
)

signoffs = sa.Table(
    "gov_signoffs",
    metadata,
    sa.Column("review_id", sa.Integer, sa.ForeignKey("gov_reviews.id"), primary_key=True),
    sa.Column("slot", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("signed_at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)
