"""`vigil parse`: parse log files to JSON lines (events on stdout, rejects on stderr); stores nothing."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import polars as pl
import typer

from ingest.reader import read_batches, sample_lines
from ingest.sources.files import expand_paths
from parsers.base import SourceMeta
from parsers.pipeline import parse_batch
from parsers.registry import autodetect, get_parser
from vigil.errors import InputError
from vigil.settings import get_settings

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
        settings = get_settings()
        zone = tz or settings.school_tz(school)
        stdout = sys.stdout.buffer
        fixed = None if fmt == "auto" else get_parser(fmt)
        paths = expand_paths(files)
        if not paths:
            raise InputError("no input files")
        for path in paths:
            if fixed is None:
                if str(path) == "-":
                    raise InputError("--format is required when reading stdin (-)")
                parser = autodetect(sample_lines(path), what=str(path))
            else:
                parser = fixed
            meta = SourceMeta(school=school, tz=zone, origin_prefix=f"file:{path}", now=datetime.now(UTC))
            for batch in read_batches(path):
                result = parse_batch(batch.frame, parser, meta)
                df = pl.from_arrow(result.events)
                assert isinstance(df, pl.DataFrame)
                stdout.write(events_to_ndjson(df))
                stdout.flush()
                for row in result.rejects.select(["reason", "raw", "origin"]).to_pylist():
                    sys.stderr.write(
                        json.dumps({"reject": row["reason"], "raw": row["raw"], "origin": row["origin"]}) + "\n"
                    )
