"""`vigil users`: Manage user accounts and roles."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil users` to the app."""
    pending(app, "users", "Manage user accounts and roles.", "the DSL workspace issue")
