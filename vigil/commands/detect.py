"""`vigil detect`: run every detector over log files without storing anything; JSON alerts on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import pyarrow as pa
import typer

from detectors.base import Alert, DetectContext
from detectors.registry import run_detectors
from ingest.oneshot import iter_parsed
from vigil.settings import Settings, get_settings


def alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as a JSON-ready dict (ISO timestamps, count included)."""
    out = asdict(alert)
    out["ts"] = alert.ts.isoformat()
    out["last_ts"] = alert.last_ts.isoformat()
    out["count"] = alert.count
    out["event_keys"] = list(alert.event_keys)
    return out


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def _staff(settings: Settings, events: pa.Table) -> frozenset[str]:
    """Staff: logins named in `[staff]`, plus users these logs place in a `[staff]` filter group."""
    from ingest.context import staff_config, staff_in

    cfg = staff_config(settings)
    return frozenset({u.lower() for u in cfg.users} | staff_in(events, cfg.groups))


def register(app: typer.Typer) -> None:
    """Add `vigil detect` to the app."""

    @app.command("detect")
    def detect(
        files: Annotated[list[str], typer.Argument(help="Log files (`-` for stdin; .gz read transparently).")],
        fmt: Annotated[str, typer.Option("--format", help="Parser name, or `auto` to detect per file.")] = "auto",
        school: Annotated[str, typer.Option("--school", help="School id stamped on every event.")] = "default",
        tz: Annotated[str | None, typer.Option("--tz", help="Timezone of sources without one.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per alert (the default).")] = True,
    ) -> None:
        """Run every detector over the given logs (stateless): one JSON object per alert on stdout."""
        del as_json  # JSON lines is the only output format; the flag is the documented contract
        settings = get_settings()
        tables = [r.events for r in iter_parsed(files, fmt=fmt, school=school, tz=tz) if r.events.num_rows]
        if not tables:
            return
        # One run over everything read, so episodes fold across batches and files of the same pupil.
        events = pa.concat_tables(tables)
        ctx = DetectContext(options={"detection": settings.section("detection")}, staff_users=_staff(settings, events))
        out = sys.stdout
        for alert in run_detectors(events, ctx):
            out.write(json.dumps(alert_json(alert), ensure_ascii=False, default=_default) + "\n")
        out.flush()
