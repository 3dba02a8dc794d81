"""`vigil filtertest`: Run and schedule filter-effectiveness tests."""

import typer

from vigil.commands._pending import pending


def register(app: typer.Typer) -> None:
    """Add `vigil filtertest` to the app."""
    pending(app, "filtertest", "Run and schedule filter-effectiveness tests.", "the filter-tests issue")
