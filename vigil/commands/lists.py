"""`vigil lists`: import blocklists in the UT1/squidGuard layout (and IP lists such as Tor relays), show them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _lists_root() -> Path:
    from detectors.circumvention_config import load_config
    from vigil.settings import get_settings

    settings = get_settings()
    cfg = load_config(settings.section("circumvention"))
    return cfg.lists_dir or settings.data_dir / "lists"


def register(app: typer.Typer) -> None:
    """Add `vigil lists` (import, import-ips, show) to the app."""
    lists_app = typer.Typer(help="Import blocklists (UT1/squidGuard layout) and show what is imported.",
                            no_args_is_help=True)

    @lists_app.command("import")
    def import_cmd(
        directory: Annotated[Path, typer.Argument(help="Directory with <category>/domains and <category>/urls.")],
        name: Annotated[str | None, typer.Option("--name", help="List set name (default: the directory name).")] = None,
    ) -> None:
        """Compile a UT1/squidGuard-layout directory into <data>/lists/<name>/ (replacing that set)."""
        from detectors.lists import import_lists, map_category

        summary = import_lists(directory, _lists_root(), name)
        for cat in sorted(set(summary.domains) | set(summary.urls) | set(summary.ips)):
            mapped = map_category(cat)
            typer.echo(f"{summary.name}:{cat:<22} domains {summary.domains.get(cat, 0):>8}  urls "
                       f"{summary.urls.get(cat, 0):>6}  ips {summary.ips.get(cat, 0):>6}  -> "
                       f"{mapped.vigil or '-'}{' (alerts)' if mapped.alert else ''}")
        for alias, canon in sorted(summary.aliases.items()):
            typer.echo(f"{summary.name}:{alias} is identical to {canon}: stored once")
        typer.echo(f"imported {summary.name} into {summary.path}")

    @lists_app.command("import-ips")
    def import_ips_cmd(
        file: Annotated[Path, typer.Argument(help="Text file, one IP address per line (e.g. Tor relays).")],
        name: Annotated[str, typer.Option("--name", help="List set name.")] = "tor",
        category: Annotated[str, typer.Option("--category", help="Category of these addresses.")] = "tor",
    ) -> None:
        """Import a plain IP list (Tor relay addresses from Onionoo, VPN endpoints) as its own list set."""
        from detectors.lists import import_ip_list

        summary = import_ip_list(file, _lists_root(), name, category)
        typer.echo(f"imported {summary.ips.get(category, 0)} addresses as {name}:{category} into {summary.path}")

    @lists_app.command("show")
    def show_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print the sets as JSON.")] = False,
    ) -> None:
        """List the imported sets with their categories and counts."""
        from detectors.lists import describe, map_category

        sets = describe(_lists_root())
        if as_json:
            typer.echo(json.dumps(sets, indent=2, sort_keys=True))
            return
        if not sets:
            typer.echo("no lists imported (vigil lists import DIR)")
            return
        for meta in sets:
            typer.echo(f"{meta['name']}  imported {meta['imported_at']}  from {meta['source']}")
            cats = sorted(set(meta["domains"]) | set(meta["urls"]) | set(meta["ips"]))
            for cat in cats:
                mapped = map_category(cat)
                typer.echo(f"  {cat:<22} domains {meta['domains'].get(cat, 0):>8}  urls {meta['urls'].get(cat, 0):>6}"
                           f"  ips {meta['ips'].get(cat, 0):>6}  -> {mapped.vigil or '-'}"
                           f"{' (alerts)' if mapped.alert else ''}")

    app.add_typer(lists_app, name="lists")
