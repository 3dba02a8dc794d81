"""`vigil governance`: follow-up filter tests, register exports, delegations, the annual review, AI-tool use."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.settings import get_settings

school_opt = typer.Option("--school", help="School id.")
json_opt = typer.Option("--json", help="JSON instead of lines.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _store() -> Any:
    from cases.store import CaseStore

    store = CaseStore.from_url(get_settings().case_db_url)
    store.migrate()
    return store


def _warehouse() -> Any:
    from warehouse.query import Warehouse

    return Warehouse(get_settings().warehouse_dir, threads=2, memory_limit="1GB")


def _echo(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, sort_keys=True))


def register(app: typer.Typer) -> None:
    """Add `vigil governance` to the app."""
    gov = typer.Typer(help="Block/allow register, follow-up filter tests, annual review, AI-tool use.")
    app.add_typer(gov, name="governance", no_args_is_help=True)

    @gov.command("followups", help="Run follow-up filter tests that are due (or one request's, now).")
    def followups(
        school: Annotated[str | None, school_opt] = None,
        request: Annotated[str | None, typer.Option("--request", help="Run this request's follow-up now.")] = None,
        as_json: Annotated[bool, json_opt] = False,
    ) -> None:
        """Probe approved changes through the filter and record the verdicts."""
        from governance import followup
        from governance.config import load_config

        cfg, store = load_config(get_settings()), _store()
        done = (
            [followup.run_followup(store, request, cfg, actor=_actor())]
            if request
            else followup.run_due(store, cfg, school=school)
        )
        for row in done:
            if as_json:
                _echo({k: row[k] for k in ("id", "school", "kind", "host", "followup_status", "followup_detail")})
            else:
                typer.echo(
                    f"{row['id']} {row['kind']} {row['host']} [{row['group_name']}]: {row['followup_status']}"
                    f" - {row['followup_detail']}"
                )
        if not done and not as_json:
            typer.echo("no follow-up due")

    @gov.command("register", help="Export the block/allow register (CSV to stdout, or --pdf FILE).")
    def register_cmd(
        school: Annotated[str, school_opt],
        pdf: Annotated[Path | None, typer.Option("--pdf", help="Write a PDF here instead of CSV.")] = None,
        no_names: Annotated[bool, typer.Option("--no-names", help="Roles instead of names (for governors).")] = False,
    ) -> None:
        """Every request, decision, filter change and follow-up of a school."""
        from governance import pdf as pdfs
        from governance import requests
        from governance.exports import register_csv

        rows = requests.export_rows(requests.list_requests(_store(), [school]), identities=not no_names)
        if pdf is None:
            typer.echo(register_csv(rows), nl=False)
            return
        pdf.write_bytes(pdfs.register_pdf(rows, school=school))
        typer.echo(f"wrote {pdf} ({len(rows)} requests)")

    @gov.command("delegate", help="Set the request categories the network manager may decide (none: clear).")
    def delegate(
        school: Annotated[str, school_opt], categories: Annotated[list[str] | None, typer.Argument()] = None
    ) -> None:
        """Replace a school's delegated categories."""
        from governance import requests

        cats = requests.set_delegations(_store(), school, categories or [], actor=_actor())
        typer.echo(f"{school}: {', '.join(sorted(cats)) or 'nothing delegated'}")

    @gov.command("review", help="Open (pre-fill) a school's annual review; print its figures or write its PDF.")
    def review_cmd(
        school: Annotated[str, school_opt],
        year: Annotated[str | None, typer.Option("--year", help="Academic year, e.g. 2025-26 (default: now).")] = None,
        refresh: Annotated[bool, typer.Option("--refresh", help="Recompute the figures (until signed).")] = False,
        pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the review as PDF here.")] = None,
    ) -> None:
        """The review record for one school and academic year."""
        from governance import pdf as pdfs
        from governance import prefill, review
        from governance.config import load_config

        cfg, store, wh = load_config(get_settings()), _store(), _warehouse()
        chosen = year or prefill.current_year()
        try:
            found = review.open_review(store, wh, school, chosen, actor=_actor(), config=cfg)
            if refresh:
                found = review.refresh(store, wh, school, chosen, actor=_actor(), config=cfg)
        finally:
            wh.close()
        if pdf is not None:
            pdf.write_bytes(pdfs.review_pdf(found))
            typer.echo(f"wrote {pdf} ({found['status']})")
            return
        _echo({"school": school, "academic_year": chosen, "status": found["status"], "figures": found["prefill"]})

    @gov.command("ai-use", help="Use of generative-AI services by group and week against the AI policy.")
    def ai_use(
        school: Annotated[str, school_opt],
        days: Annotated[int, typer.Option("--days", min=1, max=400, help="Look back this many days.")] = 30,
        as_json: Annotated[bool, json_opt] = False,
    ) -> None:
        """Aggregates only: no user names."""
        from governance import ai_tools
        from governance.config import load_config

        until = datetime.now(UTC) + timedelta(minutes=1)
        wh = _warehouse()
        try:
            usage = ai_tools.usage(
                wh, school, until - timedelta(days=days), until, load_config(get_settings()).policy_for(school)
            )
        finally:
            wh.close()
        if as_json:
            _echo(usage)
            return
        typer.echo(f"{school}: {usage['events']} requests to AI services, {usage['unapproved_events']} not approved")
        for r in usage["by_group"]:
            flag = "approved" if r["approved"] else "NOT APPROVED"
            typer.echo(
                f"  {r['user_group']:<14} {r['name']:<28} {r['events']:>7} requests {r['users']:>5} users  {flag}"
            )

    @gov.command("ai-services", help="The generative-AI services Vigil recognises.")
    def ai_services() -> None:
        """One line per service: id, category, vendor, domains."""
        from governance import ai_tools

        for s in ai_tools.services():
            typer.echo(f"{s.id:<24} {s.category:<16} {s.vendor:<22} {' '.join(s.domains)}")
