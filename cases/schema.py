"""The case store's tables (SQLAlchemy Core). Migrations in cases/migrations create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite drops the offset, so store naive UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to naive UTC for storage."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


schools = sa.Table(
    "schools",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("totp_secret", sa.String(64), nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UTCDateTime, nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

user_roles = sa.Table(
    "user_roles",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(32), primary_key=True),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("last_ts", UTCDateTime, nullable=False),
    sa.Column("user", sa.String(255), nullable=True),
    sa.Column("client_ip", sa.String(64), nullable=True),
    sa.Column("detector", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(255), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("severity", sa.Integer, nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("event_keys", sa.JSON, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    sa.Column("assignee", sa.String(128), nullable=True),
    sa.Column("subject_kind", sa.String(16), nullable=False, server_default="pupil"),
    sa.Column("legal_hold", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("escalated_to", sa.String(32), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("close_note", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(
        "ix_alerts_queue_order",
        "school",
        "status",
        sa.text("severity DESC"),
        "ts",
        "id",
        "subject_kind",
        "escalated_to",
    ),
    sa.Index("ix_alerts_subject", "school", "user", "ts"),
)

alert_notes = sa.Table(
    "alert_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), nullable=False, index=True),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

alert_attachments = sa.Table(
    "alert_attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), nullable=False, index=True),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object_type", sa.String(32), nullable=False),
    sa.Column("object_id", sa.String(255), nullable=True),
    sa.Column("school", sa.String(64), nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("why", sa.Text, nullable=True),
    sa.Index("ix_audit_school_ts", "school", "ts"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("pending_totp", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict."""
    return dict(row._mapping)


now = _now
