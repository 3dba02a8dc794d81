"""The notify branch's tables (created by the Alembic revision n001_notify).

- `notifications`: one row per (ref, event, recipient): the alert (or digest) it is about, the rendered
  message (which by construction holds no pupil identity or search text), delivery state, attempts, backoff,
  the last error. The unique key makes queueing idempotent: one notification per alert per recipient per event.
- `escalations`: each escalation stage an alert has reached (`deputy_dsl`, `head_teacher`), automatic or by a
  DSL, so the minute-by-minute sweep acts exactly once per stage.
"""

from __future__ import annotations

import sqlalchemy as sa

from cases.schema import UTCDateTime

metadata = sa.MetaData()

STATES = ("pending", "sending", "sent", "failed")

notifications = sa.Table(
    "notifications",
    metadata,
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
    sa.Index("ix_notifications_due", "status", "next_attempt_at"),
    sa.Index("ix_notifications_alert", "alert_id"),
)

escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("stage", sa.String(32), primary_key=True),
    sa.Column("school", sa.String(64), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
)
