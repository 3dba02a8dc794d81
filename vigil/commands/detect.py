"""`vigil detect`: Run every detector over log files without storing anything; JSON alerts on stdout."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil detect` to the app."""
    pending(app, "detect", "Run every detector over log files without storing anything; JSON alerts on stdout.", "the keyword detection issue")
