"""`vigil dpia`: Print the record of processing / DPIA summary from the live configuration."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil dpia` to the app."""
    pending(app, "dpia", "Print the record of processing / DPIA summary from the live configuration.", "the retention issue")
