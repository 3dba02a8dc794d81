"""`vigil status`: ingest health per source (last line, counts, silent flag) and Kafka lag per partition."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from vigil.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add `vigil status` to the app."""

    @app.command("status")
    def status(
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per source, then per partition.")
        ] = False,
        silent_exit: Annotated[
            bool, typer.Option("--fail-if-silent", help="Exit 1 when any source is silent (for monitoring).")
        ] = False,
    ) -> None:
        """Ingest health: lines, events, rejects, alerts, last seen and silence per source; Kafka lag."""
        from ingest.health import kafka_lag, source_status

        settings = get_settings()
        sources = source_status(settings)
        lags = kafka_lag(settings)
        if as_json:
            for s in sources:
                typer.echo(json.dumps(s.as_json()))
            for lag in lags:
                typer.echo(json.dumps({"kafka_lag": lag}))
        else:
            if not sources:
                typer.echo("no sources seen yet (nothing ingested from syslog or Kafka, none configured)")
            else:
                typer.echo(
                    f"{'source':24} {'school':14} {'kind':7} {'last seen (UTC)':20} {'lines':>12} "
                    f"{'events':>12} {'rejects':>9} {'alerts':>7}  state"
                )
            for s in sources:
                seen = s.last_seen.strftime("%Y-%m-%d %H:%M:%S") if s.last_seen else "never"
                state = f"SILENT {s.silent_minutes:.0f} school-min" if s.silent else "ok"
                typer.echo(
                    f"{s.name[:24]:24} {s.school[:14]:14} {s.kind:7} {seen:20} {s.lines:>12,} "
                    f"{s.events:>12,} {s.rejects:>9,} {s.alerts:>7,}  {state}"
                )
            for lag in lags:
                typer.echo(f"kafka {lag['topic']}[{lag['partition']}] lag {lag['lag']} (at {lag['updated']})")
        if silent_exit and any(s.silent for s in sources):
            # sys.exit, not typer.Exit: the app runs with standalone_mode=False, which swallows Exit codes.
            sys.exit(1)
