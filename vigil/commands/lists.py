"""`vigil lists`: Import blocklists (UT1/squidGuard layout)."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil lists` to the app."""
    pending(app, "lists", "Import blocklists (UT1/squidGuard layout).", "the circumvention issue")
