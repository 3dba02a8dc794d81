"""`vigil report digest|governors`: the weekly DSL digest and the termly governors' report as HTML, PDF or JSON."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.errors import ConfigError, InputError
from vigil.settings import get_settings

FORMATS = ("json", "html", "pdf")


def _format(out: Path | None, fmt: str | None) -> str:
    chosen = fmt or (out.suffix.lstrip(".").lower() if out is not None and out.suffix else "json")
    if chosen not in FORMATS:
        raise ConfigError(f"--format: one of {', '.join(FORMATS)} (or an --out file ending .json/.html/.pdf)")
    return chosen


def _write(data: dict[str, Any], fmt: str, out: Path | None, html: Any, pdf: Any) -> None:
    body: bytes
    if fmt == "pdf":
        body = pdf(data)
    elif fmt == "html":
        body = html(data).encode()
    else:
        body = (json.dumps(data, indent=1, default=str) + "\n").encode()
    if out is None:
        if fmt == "pdf" and sys.stdout.isatty():
            raise ConfigError("a PDF goes to a file: give --out FILE.pdf")
        sys.stdout.buffer.write(body)
        return
    try:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    typer.echo(f"wrote {out} ({len(body)} bytes)", err=True)


def register(app: typer.Typer) -> None:
    """Add `vigil report` to the app."""
    report_app = typer.Typer(help="Reports: weekly DSL digest, termly governors' report.", no_args_is_help=True)
    app.add_typer(report_app, name="report")

    def _store() -> Any:
        from cases.store import CaseStore

        store = CaseStore.from_url(get_settings().case_db_url)
        store.migrate()
        return store

    @report_app.command("digest", help="The weekly DSL digest (the last 7 days) for one school.")
    def digest_cmd(
        school: Annotated[str, typer.Option("--school", help="School id.")],
        out: Annotated[Path | None, typer.Option("--out", help="Write here (.html, .pdf or .json).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", help="json, html or pdf (default from --out).")] = None,
        items: Annotated[
            bool, typer.Option("--items/--no-items", help="List the low-severity alerts as links (DSL copies only).")
        ] = False,
    ) -> None:
        """Counts only unless --items; never names or searches."""
        from cases.channels.config import notify_config
        from cases.reports import digest
        from cases.reports_html import render_digest
        from cases.reports_pdf import digest_pdf
        from cases.schema import now

        settings = get_settings()
        kind = _format(out, fmt)
        base = notify_config(settings).base_url
        data = digest(_store(), settings, school, now(), with_items=items, base_url=base)
        _write(data, kind, out, render_digest, digest_pdf)

    @report_app.command("governors", help="The governors' report for a term (aggregates only, with charts).")
    def governors_cmd(
        school: Annotated[str, typer.Option("--school", help="School id.")],
        term: Annotated[
            str | None, typer.Option("--term", help="autumn-YYYY, spring-YYYY or summer-YYYY (default: this term).")
        ] = None,
        since: Annotated[str | None, typer.Option("--since", help="First day (YYYY-MM-DD) instead of a term.")] = None,
        until: Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD), with --since.")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Write here (.html, .pdf or .json).")] = None,
        fmt: Annotated[str | None, typer.Option("--format", help="json, html or pdf (default from --out).")] = None,
    ) -> None:
        """Alerts by category, severity, outcome and week; filter checks; ingest coverage."""
        from cases.reports import explicit_period, governors, term_period
        from cases.reports_html import render_governors
        from cases.reports_pdf import governors_pdf
        from cases.schema import now

        settings = get_settings()
        kind = _format(out, fmt)
        tz = settings.school_tz(school)
        if since or until:
            if not (since and until):
                raise ConfigError("give both --since and --until, or --term")
            try:
                period = explicit_period(date.fromisoformat(since), date.fromisoformat(until), tz)
            except ValueError as exc:
                raise ConfigError(f"--since/--until: {exc}") from exc
        else:
            period = term_period(term, now(), tz)
        warehouse: Any = None
        if settings.warehouse_dir.is_dir():
            from warehouse.query import Warehouse

            warehouse = Warehouse(settings.warehouse_dir)
        data = governors(_store(), settings, warehouse, school, period, now())
        _write(data, kind, out, render_governors, governors_pdf)
