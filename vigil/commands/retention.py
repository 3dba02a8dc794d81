"""`vigil retention`: plan and run retention, manage legal holds, export a pupil's data (subject access)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from vigil.settings import get_settings


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    from retention.errors import HoldError

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HoldError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _print_plan(plan: object, *, dry_run: bool, as_json: bool) -> None:
    from retention.job import Plan

    assert isinstance(plan, Plan)
    if as_json:
        typer.echo(json.dumps({**plan.as_dict(), "dry_run": dry_run}, default=str))
        return
    for item in plan.items:
        held = "".join(f"  held: hold {h} {n} rows kept as evidence" for h, n in sorted(item.held.items()))
        typer.echo(f"{item.kind:<9} {item.key}  rows {item.rows}  [{item.rule}]{held}")
    for pending in plan.pending_recovery:
        typer.echo(f"interrupted deletion to finish: {pending}")
    totals = plan.totals()
    parts = [f"{kind} {v['objects']} ({v['rows']} rows)" for kind, v in sorted(totals.items())] or ["nothing expired"]
    prefix = "dry run, nothing changed" if dry_run else f"run {plan.run_id}"
    typer.echo(f"total: {', '.join(parts)}; {prefix}")


days_opt = typer.Option("--days", help="Keep raw events this many days for this run (all schools).")
school_opt = typer.Option("--school", help="Only this school.")
json_opt = typer.Option("--json", help="One JSON object instead of lines.")


def register(app: typer.Typer) -> None:
    """Add `vigil retention` (run, plan, holds, export) to the app."""
    ret = typer.Typer(help="Delete expired monitoring data and record what was deleted; legal holds.")
    app.add_typer(ret, name="retention", no_args_is_help=True)

    def _job(days: int | None, school: str | None) -> object:
        from retention.job import RetentionJob
        from retention.schedule import config_of, open_store
        from warehouse.layout import check_school

        if days is not None and days < 1:
            from retention.errors import RetentionError

            raise RetentionError("--days must be at least 1 (today's partition is never deleted)")
        settings = get_settings()
        return RetentionJob(
            data_dir=settings.data_dir,
            store=open_store(settings),
            config=config_of(settings),
            school=check_school(school) if school else None,
            events_days=days,
            actor=_actor(),
        )

    @ret.command("run", help="Delete expired partitions and records, printing each with its row count.")
    def run(
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; change nothing.")] = False,
        days: Annotated[int | None, days_opt] = None,
        school: Annotated[str | None, school_opt] = None,
        as_json: Annotated[bool, json_opt] = False,
    ) -> None:
        """Plan (dry run) or apply retention."""
        from retention.job import RetentionJob

        job = _job(days, school)
        assert isinstance(job, RetentionJob)
        if dry_run:
            _print_plan(job.plan(), dry_run=True, as_json=as_json)
            return
        result = job.apply()
        for key in result.recovered:
            typer.echo(f"finished interrupted deletion: {key}")
        for key in result.skipped:
            typer.echo(f"skipped (changed since planning): {key}")
        result.plan.items = result.deleted
        _print_plan(result.plan, dry_run=False, as_json=as_json)

    @ret.command("plan", help="What a run would delete now (same as run --dry-run).")
    def plan(
        days: Annotated[int | None, days_opt] = None,
        school: Annotated[str | None, school_opt] = None,
        as_json: Annotated[bool, json_opt] = False,
    ) -> None:
        """Print the plan."""
        from retention.job import RetentionJob

        job = _job(days, school)
        assert isinstance(job, RetentionJob)
        _print_plan(job.plan(), dry_run=True, as_json=as_json)

    holds_app = typer.Typer(help="Legal holds on a pupil or an alert.", no_args_is_help=True)
    ret.add_typer(holds_app, name="holds")

    @holds_app.command("list", help="Holds (JSON lines); active only unless --all.")
    def holds_list(
        school: Annotated[list[str] | None, typer.Option("--school", help="Only these schools.")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Include released holds.")] = False,
    ) -> None:
        """One JSON object per hold."""
        from retention import holds
        from retention.schedule import open_store

        for row in holds.list_holds(open_store(get_settings()), school or None, active_only=not all_):
            typer.echo(json.dumps(row, default=str))

    @holds_app.command("add", help="Place a hold on a pupil (--user) or an alert (--alert).")
    def holds_add(
        school: Annotated[str, typer.Option("--school", help="School id.")],
        reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
        user: Annotated[str | None, typer.Option("--user", help="The pupil's user name.")] = None,
        alert: Annotated[str | None, typer.Option("--alert", help="An alert id.")] = None,
        case_ref: Annotated[str | None, typer.Option("--case-ref", help="External case reference.")] = None,
        review: Annotated[str | None, typer.Option("--review", help="Review date (YYYY-MM-DD).")] = None,
    ) -> None:
        """Place the hold and print it."""
        from retention import holds
        from retention.schedule import open_store
        from warehouse.layout import check_school

        row = holds.place_hold(
            open_store(get_settings()),
            school=check_school(school),
            actor=_actor(),
            reason=reason,
            user=user,
            alert_id=alert,
            case_ref=case_ref,
            review_at=_when(review),
        )
        typer.echo(json.dumps(row, default=str))

    @holds_app.command("review", help="Record that a hold was reviewed and is still needed.")
    def holds_review(
        hold_id: Annotated[int, typer.Argument(help="Hold id.")],
        note: Annotated[str, typer.Option("--note", help="Why it is still needed.")],
        next_review: Annotated[str | None, typer.Option("--next", help="Next review date (YYYY-MM-DD).")] = None,
    ) -> None:
        """Review the hold."""
        from retention import holds
        from retention.schedule import open_store

        row = holds.review_hold(
            open_store(get_settings()), hold_id, actor=_actor(), note=note, next_review_at=_when(next_review)
        )
        typer.echo(json.dumps(row, default=str))

    @holds_app.command("release", help="Release a hold; its evidence is deleted by the next run.")
    def holds_release(
        hold_id: Annotated[int, typer.Argument(help="Hold id.")],
        reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    ) -> None:
        """Release the hold."""
        from retention import holds
        from retention.schedule import open_store

        row = holds.release_hold(open_store(get_settings()), hold_id, actor=_actor(), reason=reason)
        typer.echo(json.dumps(row, default=str))

    @holds_app.command("verify", help="Check a hold's evidence files against their SHA-256 (exit 1 on failure).")
    def holds_verify(hold_id: Annotated[int, typer.Argument(help="Hold id.")]) -> None:
        """Verify and print one line per file."""
        from retention import holds
        from retention.schedule import open_store

        settings = get_settings()
        report = holds.verify_evidence(open_store(settings), settings.data_dir, hold_id)
        for f in report.files:
            typer.echo(f"{f['status']:<9} {f['path']}")
        typer.echo(f"{len(report.files)} files, {'all verified' if report.ok else 'VERIFICATION FAILED'}")
        if not report.ok:
            raise typer.Exit(1)

    @ret.command("export", help="Subject-access export for one pupil: a zip of CSV and JSON (audited).")
    def export(
        school: Annotated[str, typer.Option("--school", help="School id.")],
        user: Annotated[str, typer.Option("--user", help="The pupil's user name.")],
        why: Annotated[str, typer.Option("--why", help="Reason, e.g. the request reference (audited).")],
        output: Annotated[Path, typer.Option("--output", "-o", help="Zip file to write.")],
    ) -> None:
        """Write the export."""
        from retention.sar import export_subject
        from retention.schedule import open_store
        from warehouse.layout import check_school

        settings = get_settings()
        r = export_subject(
            open_store(settings),
            settings.data_dir,
            school=check_school(school),
            user=user,
            actor=_actor(),
            why=why,
            dest=output,
        )
        typer.echo(
            f"wrote {r.path}: events {r.events}, evidence events {r.evidence_events}, alerts {r.alerts}, "
            f"notes {r.notes}, holds {r.holds}"
        )
