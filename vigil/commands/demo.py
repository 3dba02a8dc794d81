"""`vigil demo`: generate the simulated school's week, ingest it, create demo accounts, and (--serve) serve it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.demo.errors import DemoError
from vigil.settings import Settings, activate, get_settings

STATE_FILE = "demo.json"


def _parse_start(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise DemoError(f"--start {value!r} is not a date (YYYY-MM-DD)") from exc


def _resolve_week(demo_dir: Path, seed: int, scale: float, start: date | None) -> date | None:
    """Reuse the week of an earlier run in this data directory, so a re-run writes the same files.

    A different seed or scale would mix two simulated schools in one warehouse: refuse and say why.
    """
    state_path = demo_dir / STATE_FILE
    if not state_path.is_file():
        return start
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError) as exc:
        raise DemoError(f"cannot read {state_path}: {exc}") from exc
    previous = (state.get("seed"), state.get("scale"), state.get("start"))
    wanted_start = start.isoformat() if start else previous[2]
    if (seed, scale, wanted_start) != previous:
        raise DemoError(
            f"{demo_dir.parent} already holds a demo made with seed {previous[0]}, scale {previous[1]}, "
            f"week of {previous[2]}; use a fresh --data directory for different options"
        )
    return date.fromisoformat(str(previous[2]))


def run_demo(
    settings: Settings,
    *,
    seed: int,
    scale: float,
    start: date | None,
    ingest: bool,
    password: str | None,
    console: Console,
) -> None:
    """Generate, ingest, create accounts and print the summary (the body of `vigil demo`)."""
    from vigil.demo import generate
    from vigil.demo.generator import STEPS
    from vigil.demo.loader import LoadReport, count_alerts, create_accounts, demo_password, ingest_files
    from vigil.demo.timetable import school_week

    demo_dir = settings.data_dir / "demo"
    start = _resolve_week(demo_dir, seed, scale, start)
    if not 0 < scale <= 20:
        raise DemoError(f"--scale {scale} is outside (0, 20]")
    school_week(start, date.today())  # a bad --start fails here, before any output
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]generating[/] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=STEPS)

        def step(message: str) -> None:
            bar.update(task, description=message, advance=1)

        result = generate(demo_dir / "logs", seed=seed, scale=scale, start=start, progress=step)
    state = {"seed": seed, "scale": scale, "start": result.days[0].isoformat()}
    (demo_dir / STATE_FILE).write_text(json.dumps(state) + "\n")
    console.print(
        f"Generated a synthetic week ({result.days[0]} to {result.days[-1]}) for [bold]demo-academy[/]: "
        f"{result.population.pupils.height:,} pupils, {result.population.staff.height} staff, "
        f"{result.total_lines:,} log lines in {result.out_dir}"
    )
    report = LoadReport()
    if ingest:
        ingest_files(result, settings, report)
        pw = password or demo_password(seed)
        create_accounts(settings, pw, report)
        count_alerts(settings, report)
    _print_summary(console, settings, result, report, password or demo_password(seed), ingest)


def _print_summary(
    console: Console, settings: Settings, result: object, report: object, password: str, ingested: bool
) -> None:
    from vigil.demo.generator import DemoResult
    from vigil.demo.loader import LoadReport, warehouse_counts

    assert isinstance(result, DemoResult) and isinstance(report, LoadReport)
    files = Table(title="Log files", title_justify="left")
    # "raised" counts alerts per batch before the case store folds repeats into episodes (the table below).
    for col in ("format", "file", "lines", "events", "rejects", "raised"):
        files.add_column(col, justify="left" if col in ("format", "file") else "right")
    for fmt, path in result.files.items():
        got = report.ingest.get(fmt, {})
        files.add_row(
            fmt,
            path.name,
            f"{result.lines[fmt]:,}",
            *(f"{got[k]:,}" if k in got else "-" for k in ("events", "rejects", "alerts")),
        )
    console.print(files)
    if ingested and report.ingest:
        stored = warehouse_counts(settings)
        console.print(
            f"Ingested in {report.ingest_seconds:.1f} s; the warehouse holds {stored['events']:,} events and "
            f"{stored['rejects']:,} rejects for demo-academy (a re-run adds nothing: files are checkpointed)."
        )
    if report.alerts:
        alerts = Table(title="Alerts (episodes) by category and severity", title_justify="left")
        alerts.add_column("category")
        for sev in range(1, 6):
            alerts.add_column(f"sev {sev}", justify="right")
        for cat in sorted({c for c, _ in report.alerts}):
            alerts.add_row(cat, *(str(report.alerts.get((cat, s), "")) for s in range(1, 6)))
        console.print(alerts)
        if report.staff_alerts:
            console.print(f"{report.staff_alerts} alert(s) about staff go to the head teacher, not the DSL queue.")
    planted = [e for e in result.ledger if not e.benign]
    console.print(
        f"Planted: {len(planted)} concerning episodes ({', '.join(sorted({e.category for e in planted}))}) and "
        f"{len(result.ledger) - len(planted)} benign look-alike lessons; see {result.out_dir / 'ledger.json'}"
    )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if report.accounts:
        names = ", ".join(
            f"{login} ({role}{'' if how == 'created' else ', existing'})" for login, role, how in report.accounts
        )
        console.print(f"Demo accounts for demo-academy: {names}")
        console.print(f"Demo password: [bold]{password}[/] (demo only; change or delete these accounts in earnest use)")


def _serve(settings: Settings, host: str, port: int, console: Console) -> None:
    """Serve the loaded demo with the API's app factory, or say why not."""
    try:
        import uvicorn

        from api.main import create_app
    except ImportError as exc:
        console.print(f"[yellow]not serving:[/] the web app is not available yet ({exc})")
        return
    console.print(f"Serving on http://{host}:{port}/ (Ctrl-C to stop); sign in as dsl with the password above.")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add `vigil demo` to the app."""

    @app.command("demo")
    def demo(
        data: Annotated[
            Path | None, typer.Option("--data", help="Data directory (default: the global --data).")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 7,
        scale: Annotated[float, typer.Option("--scale", help="Traffic volume factor (1.0 is about 270k lines).")] = 1.0,
        start: Annotated[
            str | None, typer.Option("--start", help="Monday of the week to simulate (default: last full week).")
        ] = None,
        serve: Annotated[bool, typer.Option("--serve", help="Start the web app on the loaded demo.")] = False,
        host: Annotated[str | None, typer.Option("--host", help="Address to serve on (default from settings).")] = None,
        port: Annotated[int | None, typer.Option("--port", help="Port to serve on (default from settings).")] = None,
        generate_only: Annotated[
            bool, typer.Option("--generate-only", help="Write the log files only: no ingest, no accounts.")
        ] = False,
        password: Annotated[
            str | None, typer.Option("--password", help="Password for the demo accounts (default: derived from seed).")
        ] = None,
    ) -> None:
        """Generate a simulated school (synthetic), ingest it and (with --serve) serve it."""
        settings = get_settings()
        if data is not None:
            settings = settings.model_copy(update={"data_dir": data})
            activate(settings)
        console = Console()
        run_demo(
            settings,
            seed=seed,
            scale=scale,
            start=_parse_start(start),
            ingest=not generate_only,
            password=password,
            console=console,
        )
        if serve and not generate_only:
            _serve(settings, host or settings.host, port or settings.port, console)
