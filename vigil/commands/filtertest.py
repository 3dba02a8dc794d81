"""`vigil filtertest`: run filter-effectiveness plans, show the record, export it, run the schedule."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.settings import get_settings


def _actor(as_user: str | None) -> str:
    if as_user:
        return as_user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _store() -> Any:
    from cases.store import CaseStore

    store = CaseStore.from_url(get_settings().case_db_url)
    store.migrate()
    return store


def _schools(store: Any, school: str | None) -> list[str]:
    if school:
        return [school]
    return [s["id"] for s in store.schools()]


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def _print_results(results: list[Any]) -> None:
    cols = ("RESULT", "CHECK", "CATEGORY", "GROUP", "SITE", "EXPECTED", "OBSERVED", "LOGGED", "URL")
    rows = [
        (
            "pass" if r.passed else "FAIL",
            r.check,
            r.category,
            r.group,
            r.site,
            r.expected,
            r.observed,
            _yes(r.seen_in_logs) + (f" ({r.log_action})" if r.log_action else ""),
            r.url,
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows, strict=False)]
    for row in (cols, *rows):
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    for r in results:
        if not r.passed:
            typer.echo(f"FAIL {r.check} / {r.group} / {r.url}: {r.reason}")


def register(app: typer.Typer) -> None:
    """Add `vigil filtertest` (run, history, show, action, export, schedule) to the app."""
    ft = typer.Typer(help="Run and schedule filter-effectiveness tests, and keep their record.")
    app.add_typer(ft, name="filtertest", no_args_is_help=True)

    @ft.command(
        "run",
        help="Probe the plan through the filter as each group, check the logs, record the run. "
        "Exit 0 when the run completed and was recorded, even if checks failed (see --fail-on-failure).",
    )
    def run(
        plan: Annotated[str, typer.Option("--plan", help="Plan YAML file, or `default` for the shipped plan.")],
        proxy: Annotated[str | None, typer.Option("--proxy", help="Filter proxy URL http://HOST:PORT.")] = None,
        as_user: Annotated[str | None, typer.Option("--as", help="Who ran the check (recorded).")] = None,
        group: Annotated[list[str] | None, typer.Option("--group", help="Only this group (repeatable).")] = None,
        school: Annotated[
            str | None, typer.Option("--school", help="School id (default: the plan's, else `default`).")
        ] = None,
        ingest_logs: Annotated[
            list[Path] | None,
            typer.Option("--ingest-logs", help="Filter log files to ingest before the monitoring check."),
        ] = None,
        fail_on_failure: Annotated[
            bool, typer.Option("--fail-on-failure", help="Exit 1 when any check failed (for CI).")
        ] = False,
    ) -> None:
        from filtertests.plans import load_plan
        from filtertests.service import run_and_record
        from warehouse.layout import check_school

        loaded = load_plan(plan)
        if group:
            loaded = loaded.only_groups(group)
        if school:
            check_school(school)
        store = _store()
        try:
            report = run_and_record(
                get_settings(),
                loaded,
                store=store,
                school=school,
                proxy=proxy,
                actor=_actor(as_user),
                trigger="cli",
                ingest_logs=[str(p) for p in ingest_logs or []],
            )
        finally:
            store.dispose()
        _print_results(report.results)
        failed = len(report.failures)
        typer.echo(
            f"run {report.run_id} recorded for school {report.school}: {len(report.results)} probes, "
            f"{failed} failed" + (" - record the resulting action: vigil filtertest action" if failed else "")
        )
        if failed and fail_on_failure:
            # sys.exit, not typer.Exit: the CLI runs click with standalone_mode=False, which returns Exit codes
            sys.exit(1)

    @ft.command("history", help="Recorded runs, newest first, with failures awaiting a resulting action.")
    def history(
        school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
        trend: Annotated[bool, typer.Option("--trend", help="Pass/fail per category over the runs.")] = False,
    ) -> None:
        from filtertests import records

        store = _store()
        try:
            schools = _schools(store, school)
            if trend:
                for cat, points in records.trend(store, schools, limit=limit).items():
                    marks = " ".join("ok" if p["failed"] == 0 else f"FAIL({p['failed']})" for p in points)
                    typer.echo(f"{cat:<20} {marks}")
                return
            runs = records.list_runs(store, schools, limit=limit)
        finally:
            store.dispose()
        if not runs:
            typer.echo("no filter tests recorded")
            return
        for r in runs:
            who = "scheduled" if r["trigger"] == "schedule" else r["actor"]
            state = "PASS" if r["passed"] else f"FAIL {r['failures']}/{r['probes']}"
            todo = f", {r['actions_outstanding']} awaiting action" if r["actions_outstanding"] else ""
            typer.echo(
                f"{r['id']}  {r['started_at']:%Y-%m-%d %H:%M}Z  {r['school']}  {r['plan_name']}  {who}  {state}{todo}"
            )

    @ft.command("show", help="One run with every probe.")
    def show(run_id: Annotated[str, typer.Argument(help="Run id (from history).")]) -> None:
        from filtertests import records

        store = _store()
        try:
            run = records.get_run(store, run_id, _schools(store, None))
        finally:
            store.dispose()
        typer.echo(
            f"run {run['id']} school {run['school']} plan {run['plan_name']} by {run['actor']} "
            f"({run['trigger']}) {run['started_at']:%Y-%m-%d %H:%M:%S}Z"
        )
        for r in run["results"]:
            state = "pass" if r["passed"] else "FAIL"
            typer.echo(
                f"[{r['id']}] {state} {r['check_name']} {r['group_name']}/{r['site']} {r['url']}: "
                f"{r['observed']} ({r['detail']}); logs: {r['monitoring_detail']}"
                + (f"; action: {r['action_note']}" if r["action_note"] else "")
            )

    @ft.command("action", help="Record the resulting action for a run's failures (audited).")
    def action(
        run_id: Annotated[str, typer.Argument(help="Run id.")],
        note: Annotated[str, typer.Option("--note", help="What was done (change made, who was told).")],
        result: Annotated[int | None, typer.Option("--result", help="Only this result id.")] = None,
        as_user: Annotated[str | None, typer.Option("--as", help="Who records it.")] = None,
    ) -> None:
        from filtertests import records

        store = _store()
        try:
            n = records.record_action(
                store, run_id, note, actor=_actor(as_user), schools=_schools(store, None), result_id=result
            )
        finally:
            store.dispose()
        typer.echo(f"resulting action recorded on {n} failed result(s) of run {run_id}")

    @ft.command("export", help="Export the record as CSV or PDF (annual review, governors).")
    def export(
        fmt: Annotated[str, typer.Option("--format", help="csv or pdf.")] = "csv",
        output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default stdout for CSV).")] = None,
        school: Annotated[str | None, typer.Option("--school", help="Only this school.")] = None,
        since: Annotated[str | None, typer.Option("--since", help="From this date (YYYY-MM-DD).")] = None,
    ) -> None:
        from filtertests import export as ex
        from filtertests import records
        from filtertests.errors import FilterTestError

        if fmt not in ("csv", "pdf"):
            raise FilterTestError(f"--format must be csv or pdf, not {fmt!r}")
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        except ValueError as exc:
            raise FilterTestError(f"--since: not a date: {since!r}") from exc
        store = _store()
        try:
            rows = records.results_for_export(store, _schools(store, school), since=start)
        finally:
            store.dispose()
        if fmt == "csv":
            text = ex.to_csv(rows)
            if output:
                output.write_text(text, "utf-8")
            else:
                sys.stdout.write(text)
            return
        if output is None:
            raise FilterTestError("--format pdf needs --output FILE")
        title = "Filter and monitoring checks" + (f" - {school}" if school else "")
        output.write_bytes(ex.to_pdf(rows, title=title, generated=datetime.now(UTC)))
        typer.echo(f"wrote {output}")

    @ft.command(
        "schedule",
        help="Show the [filtertests] schedule; --run-due runs the plan if a run is due "
        "(for a systemd timer when `vigil serve` does not run the schedule).",
    )
    def schedule(
        run_due: Annotated[bool, typer.Option("--run-due", help="Run now if a scheduled run is due.")] = False,
    ) -> None:
        from filtertests import schedule as sched

        settings = get_settings()
        cfg = sched.config_of(settings)
        now = datetime.now(UTC)
        typer.echo(
            f"schedule {cfg.schedule!r} ({cfg.timezone or settings.timezone}), plan {cfg.plan}, "
            f"school {cfg.school}, {'enabled' if cfg.enabled else 'disabled'}"
        )
        nxt = sched.next_due(cfg, settings, now)
        typer.echo(f"next run due {nxt:%Y-%m-%d %H:%M}Z" if nxt else "no run due within a year")
        if run_due:
            report = sched.run_due(settings, now)
            if report is None:
                typer.echo("nothing due")
            else:
                typer.echo(f"run {report.run_id}: {len(report.results)} probes, {len(report.failures)} failed")
