"""`vigil demo`: Generate a simulated school, ingest it and (with --serve) serve it."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil demo` to the app."""
    pending(app, "demo", "Generate a simulated school, ingest it and (with --serve) serve it.", "the foundation demo")
