"""`vigil syslog`: Listen for syslog (UDP/TCP) and ingest or forward to Kafka."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil syslog` to the app."""
    pending(app, "syslog", "Listen for syslog (UDP/TCP) and ingest or forward to Kafka.", "the streaming ingest issue")
