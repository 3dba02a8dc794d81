"""A placeholder for subcommands whose capability has not landed yet: `--help` works, running exits 2."""

from typing import Any

import typer


def pending(app: typer.Typer, name: str, help_text: str, issue: str) -> None:
    """Register `name` as a command that says it is not yet available (exit 2)."""

    @app.command(
        name,
        help=f"{help_text} (not yet available: {issue})",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def _not_yet(ctx: typer.Context) -> Any:
        del ctx
        typer.echo(f"vigil {name}: not yet available ({issue})", err=True)
        raise typer.Exit(2)
