"""`vigil warehouse`: compaction and a quick look at what is stored."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from vigil.settings import get_settings
from warehouse.compaction import compact
from warehouse.query import Warehouse


def register(app: typer.Typer) -> None:
    """Add `vigil warehouse ...` to the app."""
    wh = typer.Typer(help="Warehouse maintenance: compaction and summaries.", no_args_is_help=True)
    app.add_typer(wh, name="warehouse")

    @wh.command("compact")
    def compact_cmd(
        school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
        day: Annotated[str | None, typer.Option("--date", help="Only this day (YYYY-MM-DD).")] = None,
    ) -> None:
        """Merge each closed day's small batch files into one file per partition."""
        settings = get_settings()
        results = compact(settings.warehouse_dir, school=school, day=date.fromisoformat(day) if day else None)
        for r in results:
            typer.echo(f"{r.partition}: {r.files_in} files -> 1 ({r.rows:,} rows)")
        typer.echo(f"compacted {len(results)} partitions")

    @wh.command("summary")
    def summary_cmd(
        school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
    ) -> None:
        """Rows per school and day (no identities)."""
        settings = get_settings()
        w = Warehouse(settings.warehouse_dir)
        for s in [school] if school else w.schools():
            days = w.days("events", s)
            typer.echo(f"school {s}: {len(days)} days")
            for d in days:
                n = len(w.files("events", s, _dt(d), _dt(d)))
                typer.echo(f"  {d}  files {n}")


def _dt(d: date):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(d.year, d.month, d.day, tzinfo=UTC)
