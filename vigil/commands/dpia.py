"""`vigil dpia`: print the record of processing / DPIA summary from the live configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add `vigil dpia` to the app."""

    @app.command("dpia", help="Print the record of processing / DPIA summary (Markdown) from the live configuration.")
    def dpia(
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead.")] = None,
    ) -> None:
        """Render the summary."""
        from retention.dpia import render_dpia

        text = render_dpia(get_settings())
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text)
            typer.echo(f"wrote {output}")
