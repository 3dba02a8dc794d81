"""`vigil parse`: parse log files to JSON lines (events on stdout, rejects on stderr); stores nothing."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import polars as pl
import typer

from ingest.oneshot import iter_parsed

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


def events_to_ndjson(events: pl.DataFrame) -> bytes:
    """EVENT_SCHEMA rows as JSON lines with `ts` in ISO 8601 UTC."""
    if events.height == 0:
        return b""
    out = events.with_columns(pl.col("ts").dt.strftime(TS_FORMAT))
    return out.write_ndjson().encode()


def register(app: typer.Typer) -> None:
    """Add `vigil parse` to the app."""

    @app.command("parse")
    def parse(
        files: Annotated[list[str], typer.Argument(help="Log files (`-` for stdin; .gz read transparently).")],
        fmt: Annotated[str, typer.Option("--format", help="Parser name, or `auto` to detect per file.")] = "auto",
        school: Annotated[str, typer.Option("--school", help="School id stamped on every event.")] = "default",
        tz: Annotated[
            str | None, typer.Option("--tz", help="Timezone of sources without one (default from config).")
        ] = None,
    ) -> None:
        """Parse logs to JSON lines: events on stdout, rejects on stderr; exit 0 when the input was read."""
        stdout = sys.stdout.buffer
        for result in iter_parsed(files, fmt=fmt, school=school, tz=tz):
            df = pl.from_arrow(result.events)
            assert isinstance(df, pl.DataFrame)
            stdout.write(events_to_ndjson(df))
            stdout.flush()
            for row in result.rejects.select(["reason", "raw", "origin"]).to_pylist():
                sys.stderr.write(
                    json.dumps({"reject": row["reason"], "raw": row["raw"], "origin": row["origin"]}) + "\n"
                )
