"""Filter-test tables in the case store (created by the `filtertests` Alembic branch, ft001_filtertests).

- `filtertest_runs`: one row per run: when, who ran it (or `scheduled`), how (cli, api, schedule), which plan
  (name and digest), through which proxy, totals and the per-category summary;
- `filtertest_results`: one row per probe: group, site, URL, expected, observed, detail, whether the
  monitoring saw it and how the log labelled it, pass/fail, the alert it raised, and the resulting action
  recorded later by the network manager or DSL (every action also goes to the audit log).
"""

from __future__ import annotations

import sqlalchemy as sa

from cases.schema import UTCDateTime

metadata = sa.MetaData()

filtertest_runs = sa.Table(
    "filtertest_runs",
    metadata,
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
    sa.Index("ix_filtertest_runs_school", "school", "started_at"),
)

filtertest_results = sa.Table(
    "filtertest_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("filtertest_runs.id"), nullable=False, index=True),
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
