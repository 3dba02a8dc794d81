"""`vigil ingest`: files and directories (once or --follow) into the warehouse, detectors included."""

from __future__ import annotations

from typing import Annotated

import typer

from ingest.files import IngestSummary, ingest_paths
from ingest.worker import open_alert_sink
from vigil.errors import InputError
from vigil.settings import get_settings


def print_summary(summary: IngestSummary) -> None:
    """The end-of-run summary: per format, totals and speed."""
    lines = summary.total("lines")
    rate = lines / summary.seconds if summary.seconds else 0.0
    for name, row in sorted(summary.by_format().items()):
        typer.echo(
            f"{name:16} files {row['files']:>4}  lines {row['lines']:>10,}  events {row['events']:>10,}  "
            f"rejects {row['rejects']:>8,}  alerts {row['alerts']:>5,}"
        )
    for f in summary.files:
        if f.error:
            typer.echo(f"skipped {f.path}: {f.error}", err=True)
    typer.echo(
        f"total: lines {lines:,}  events {summary.total('events'):,}  rejects {summary.total('rejects'):,}  "
        f"alerts {summary.total('alerts'):,}  seconds {summary.seconds:.2f}  ({rate:,.0f} lines/s)"
    )


def register(app: typer.Typer) -> None:
    """Add `vigil ingest` to the app."""

    @app.command("ingest")
    def ingest(
        paths: Annotated[list[str] | None, typer.Argument(help="Files, directories or globs (`-` for stdin).")] = None,
        fmt: Annotated[str, typer.Option("--format", help="Parser name, or `auto` to detect per file.")] = "auto",
        school: Annotated[str | None, typer.Option("--school", help="School id (else from [[sources]]).")] = None,
        follow: Annotated[bool, typer.Option("--follow", help="Keep watching for new lines until SIGTERM.")] = False,
        reingest: Annotated[
            bool,
            typer.Option("--reingest", help="Read files again from the start (rows are replaced, not doubled)."),
        ] = False,
        no_detect: Annotated[bool, typer.Option("--no-detect", help="Store events without running detectors.")] = False,
        kafka: Annotated[str | None, typer.Option("--kafka", help="Consume this Kafka topic instead of files.")] = None,
        group: Annotated[
            str | None, typer.Option("--group", help="Kafka consumer group (default [kafka] group).")
        ] = None,
        bootstrap: Annotated[str | None, typer.Option("--bootstrap", help="Kafka bootstrap HOST:PORT.")] = None,
        metrics_port: Annotated[
            int | None, typer.Option("--metrics-port", help="Serve Prometheus /metrics on this port (Kafka).")
        ] = None,
    ) -> None:
        """Ingest logs into the warehouse and run detectors; print a summary."""
        settings = get_settings()
        if kafka:
            from ingest.kafka_cli import run_kafka_ingest

            run_kafka_ingest(
                settings,
                topic=kafka,
                group=group,
                bootstrap=bootstrap,
                fmt=fmt,
                school=school,
                metrics_port=metrics_port,
                detect=not no_detect,
            )
            return
        if not paths:
            raise InputError("give at least one FILE or DIR (or --kafka TOPIC)")
        sink = None if no_detect else open_alert_sink(settings)
        summary = ingest_paths(
            paths,
            settings=settings,
            fmt=fmt,
            school=school,
            follow=follow,
            progress=True,
            alert_sink=sink,
            detect=not no_detect,
            reingest=reingest,
        )
        print_summary(summary)
