"""`vigil serve`: Serve the API and web UI."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil serve` to the app."""
    pending(app, "serve", "Serve the API and web UI.", "the DSL workspace issue")
