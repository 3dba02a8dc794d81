"""`vigil model`: Train and evaluate detection models."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil model` to the app."""
    pending(app, "model", "Train and evaluate detection models.", "the keyword detection issue")
