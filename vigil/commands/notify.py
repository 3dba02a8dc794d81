"""`vigil notify`: the escalation and delivery sweep for cron/systemd, a delivery log, and a test message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from cases.store import CaseStore
from vigil.errors import ConfigError
from vigil.settings import get_settings


def _store() -> CaseStore:
    store = CaseStore.from_url(get_settings().case_db_url)
    store.migrate()
    return store


def _when(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"--now: not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    """Add `vigil notify` to the app."""
    notify_app = typer.Typer(
        help="Notifications: escalation sweep, delivery retries, delivery log.", no_args_is_help=True
    )
    app.add_typer(notify_app, name="notify")

    @notify_app.command("run-due", help="Escalate unacknowledged alerts, send due notifications and digests (cron).")
    def run_due_cmd(
        now: Annotated[str | None, typer.Option("--now", help="Pretend it is this ISO time (testing).")] = None,
    ) -> None:
        """One sweep; prints counts as JSON."""
        from cases.escalation import run_due

        report = run_due(_store(), get_settings(), _when(now))
        typer.echo(json.dumps(report.summary()))

    @notify_app.command("log", help="Recent notifications (JSON lines: event, channel, role, status; no content).")
    def log_cmd(
        school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    ) -> None:
        """Newest first."""
        import sqlalchemy as sa

        from cases.channels.records import notifications as n

        store = _store()
        q = (
            sa.select(
                n.c.id,
                n.c.created_at,
                n.c.school,
                n.c.ref,
                n.c.event,
                n.c.channel,
                n.c.role,
                n.c.severity,
                n.c.status,
                n.c.attempts,
                n.c.sent_at,
                n.c.last_error,
            )
            .order_by(n.c.id.desc())
            .limit(limit)
        )
        if school:
            q = q.where(n.c.school == school)
        with store.engine.connect() as conn:
            for row in conn.execute(q):
                typer.echo(json.dumps(dict(row._mapping), default=str))

    @notify_app.command("test", help="Send a test message to every contact and webhook of a school.")
    def test_cmd(school: Annotated[str, typer.Option("--school", help="School id.")]) -> None:
        """Deliver a content-free test message now (not recorded as an alert notification)."""
        from cases.channels import DeliveryError, Message
        from cases.channels.config import notify_config
        from cases.notify import Recipient, send

        cfg = notify_config(get_settings())
        conf = cfg.school(school)
        msg = Message(
            subject=f"[Vigil] Test message for {school}",
            text="This is a test of Vigil's notifications. No action is needed.",
            link=cfg.link("/"),
            school=school,
            event="test",
        )
        targets = [Recipient("email", c.name, c.role, address=c.email) for c in (*conf.contacts, *conf.out_of_hours)]
        targets += [Recipient("webhook", w.name, w.role, fmt=w.format) for w in conf.webhooks]
        if not targets:
            raise ConfigError(f"notify: no contacts or webhooks configured for school {school}")
        failures = 0
        for rcpt in targets:
            try:
                send(cfg, rcpt, msg)
                typer.echo(f"ok      {rcpt.channel} {rcpt.name}")
            except DeliveryError as exc:
                failures += 1
                typer.echo(f"failed  {rcpt.channel} {rcpt.name}: {exc}")
        if failures:
            raise typer.Exit(1)
