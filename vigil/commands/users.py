"""`vigil users`: add, list and disable accounts (roles per school)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cases.errors import InvalidInput
from cases.store import CaseStore
from cases.users import ROLES
from vigil.settings import get_settings


def _store() -> CaseStore:

    store = CaseStore.from_url(get_settings().case_db_url)
    store.migrate()
    return store


def register(app: typer.Typer) -> None:
    """Add `vigil users` to the app."""
    users_app = typer.Typer(help="Manage user accounts and roles.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("add", help="Create an account with a role in one or more schools.")
    def add(
        name: Annotated[str, typer.Argument(help="User name (lower case; letters, digits, . _ @ -).")],
        role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
        school: Annotated[list[str], typer.Option("--school", help="School id (repeat for several).")],
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
        ] = False,
        totp: Annotated[bool, typer.Option("--totp", help="Enable a TOTP second factor and print its secret.")] = False,
    ) -> None:
        """Create the account; the password comes from stdin (never a command-line argument)."""
        from cases.users import create_user, enable_totp

        if not password_stdin:
            raise InvalidInput("give the password on stdin with --password-stdin (never on the command line)")
        password = sys.stdin.readline().rstrip("\r\n")
        create_user(_store(), name, role, school, password, actor="cli")
        typer.echo(f"created {name.strip().lower()} ({role} in {', '.join(sorted(set(school)))})")
        if totp:
            secret = enable_totp(_store(), name, actor="cli")
            typer.echo(f"TOTP secret (add it to an authenticator app now; it is not shown again): {secret}")

    @users_app.command("list", help="List accounts and their roles (JSON lines).")
    def list_(school: Annotated[list[str] | None, typer.Option("--school", help="Only these schools.")] = None) -> None:
        """One JSON object per account; no hashes or secrets."""
        from cases.users import list_users

        for row in list_users(_store(), school or None):
            typer.echo(json.dumps(row, default=str))

    @users_app.command("disable", help="Disable an account and end its sessions.")
    def disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
        """Disable the account."""
        from cases.users import set_disabled

        set_disabled(_store(), name, True, actor="cli")
        typer.echo(f"disabled {name.strip().lower()}")
