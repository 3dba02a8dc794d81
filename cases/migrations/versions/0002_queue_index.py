"""Queue index in the queue's own order, covering the visibility columns (index-only counts).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace ix_alerts_queue by one ordered severity DESC, ts, id that also carries subject_kind/escalated_to."""
    op.drop_index("ix_alerts_queue", table_name="alerts")
    op.create_index(
        "ix_alerts_queue_order",
        "alerts",
        ["school", "status", sa.text("severity DESC"), "ts", "id", "subject_kind", "escalated_to"],
    )


def downgrade() -> None:
    """Back to the 0001 index."""
    op.drop_index("ix_alerts_queue_order", table_name="alerts")
    op.create_index("ix_alerts_queue", "alerts", ["school", "status", "severity", "ts"])
