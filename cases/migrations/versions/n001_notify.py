"""Notify branch: the notifications delivery log and the escalation stages (see cases/channels/records.py).

Revision ID: n001_notify
Depends on: 0001
"""

import sqlalchemy as sa
from alembic import op

from cases.schema import UTCDateTime

revision = "n001_notify"
down_revision = None
branch_labels = ("notify",)
depends_on = "0001"


def upgrade() -> None:
    """Create `notifications` and `escalations`."""
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(400), nullable=False),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer, nullable=True),
        sa.Column("message", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("ref", "event", "recipient", name="uq_notifications_once"),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_alert", "notifications", ["alert_id"])
    op.create_table(
        "escalations",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("school", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ts", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop both tables (the delivery history goes with them)."""
    op.drop_table("escalations")
    op.drop_index("ix_notifications_alert", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
