"""`vigil status`: Ingest health: lines, events, rejects, lag per source."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil status` to the app."""
    pending(app, "status", "Ingest health: lines, events, rejects, lag per source.", "the streaming ingest issue")
