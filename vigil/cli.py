"""The `vigil` command: global options here, each subcommand in its own module under vigil/commands/."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from vigil import __version__
from vigil.commands import COMMAND_MODULES
from vigil.errors import VigilError
from vigil.logging import configure_logging
from vigil.settings import activate, load_settings

app = typer.Typer(
    name="vigil",
    help="Safeguarding analytics for schools: filter, firewall, proxy and DNS logs in; alerts for the DSL out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"vigil {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    data: Annotated[
        Path | None, typer.Option("--data", help="Data directory (default ./var, or VIGIL_DATA_DIR).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML config file (default VIGIL_CONFIG, or ./vigil.toml if present)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Global options, read before any subcommand runs."""
    del version
    settings = load_settings(config, data)
    activate(settings)
    configure_logging(settings.log_level, settings.log_format)


for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    """Entry point: run the app; a VigilError becomes one clear line on stderr and exit code 2."""
    # Everything Vigil creates (warehouse, case store, evidence, spool, exports) holds children's data:
    # owner-only, whatever the caller's umask.
    os.umask(0o077)
    try:
        # Without standalone mode click returns (not raises) the code of a `typer.Exit(n)` in a command.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except VigilError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("vigil: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("vigil: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # click usage errors and anything unexpected: one line, never a traceback
        import click

        if isinstance(exc, click.exceptions.UsageError):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        print(f"vigil: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
