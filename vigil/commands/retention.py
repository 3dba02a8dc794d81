"""`vigil retention`: Delete expired monitoring data and record what was deleted."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil retention` to the app."""
    pending(app, "retention", "Delete expired monitoring data and record what was deleted.", "the retention issue")
