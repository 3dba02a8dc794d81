"""Loading the generated week into Vigil: ingest through the file ingester, demo accounts, and the summary.

This module is the demo's only contact with other capabilities (ingest, cases, the warehouse layout); each is
imported lazily so a missing one degrades to a clear message instead of an import error at start-up.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.demo.errors import DemoError
from vigil.demo.generator import SCHOOL, DemoResult
from vigil.settings import Settings

log = logging.getLogger("vigil.demo")

# Demo accounts: login -> role (roles from cases.users.ROLES).
DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("dsl", "dsl"),
    ("deputy", "deputy_dsl"),
    ("head", "head_teacher"),
    ("netmgr", "network_manager"),
    ("admin", "admin"),
)


def demo_password(seed: int) -> str:
    """The printed demo password: derived from the seed so a re-run keeps the accounts' password valid."""
    return "demo-" + hashlib.sha256(f"vigil-demo:{seed}".encode()).hexdigest()[:10]


@dataclass
class LoadReport:
    """What loading did: per-format ingest counts, accounts, warnings, alerts by category and severity."""

    ingest: dict[str, dict[str, int]] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (login, role, "created"|"exists")
    warnings: list[str] = field(default_factory=list)
    alerts: dict[tuple[str, int], int] = field(default_factory=dict)
    staff_alerts: int = 0


def ingest_files(result: DemoResult, settings: Settings, report: LoadReport, *, progress: bool = True) -> None:
    """Ingest each generated file with its own parser (checkpointed: a re-run adds nothing new)."""
    try:
        from ingest.files import ingest_paths
    except ImportError as exc:  # the ingest capability is missing from this install
        report.warnings.append(f"ingest is not available ({exc}); the logs are in {result.out_dir}")
        return
    from ingest.worker import open_alert_sink
    from parsers.errors import UnknownFormatError

    sink = open_alert_sink(settings)  # as `vigil ingest` does: alerts go to the case store with their batch
    for fmt, path in result.files.items():
        try:
            summary = ingest_paths(
                [str(path)], settings=settings, fmt=fmt, school=SCHOOL, progress=progress, alert_sink=sink
            )
        except UnknownFormatError as exc:
            report.warnings.append(f"{path.name}: not ingested: {exc}")
            continue
        report.ingest_seconds += summary.seconds
        for name, row in summary.by_format().items():
            into = report.ingest.setdefault(name, {"files": 0, "lines": 0, "events": 0, "rejects": 0, "alerts": 0})
            for key, value in row.items():
                into[key] += value
        report.warnings.extend(f"{Path(f.path).name}: {f.error}" for f in summary.files if f.error)


def _store(settings: Settings) -> Any:
    from cases.store import CaseStore

    store = CaseStore.from_url(settings.case_db_url)
    store.migrate()
    return store


def create_accounts(settings: Settings, password: str, report: LoadReport) -> None:
    """Create the five demo accounts for the demo school; existing ones are left as they are."""
    try:
        from cases.users import create_user, list_users
    except ImportError as exc:
        report.warnings.append(f"accounts not created: the case store is not available ({exc})")
        return
    from vigil.errors import VigilError

    try:
        store = _store(settings)
        existing = {u["name"] for u in list_users(store)}
        for login, role in DEMO_ACCOUNTS:
            if login in existing:
                report.accounts.append((login, role, "exists"))
                continue
            create_user(store, login, role, [SCHOOL], password, actor="vigil demo")
            report.accounts.append((login, role, "created"))
        store.dispose()
    except VigilError as exc:
        raise DemoError(f"demo accounts: {exc}") from exc


def count_alerts(settings: Settings, report: LoadReport) -> None:
    """Alerts for the demo school by (category, severity), read from the case store."""
    try:
        import sqlalchemy as sa

        from cases import schema as t
    except ImportError:
        return
    from vigil.errors import VigilError

    try:
        store = _store(settings)
        a = t.alerts.c
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(a.category, a.severity, a.subject_kind, sa.func.count())
                .where(a.school == SCHOOL)
                .group_by(a.category, a.severity, a.subject_kind)
            ).all()
        store.dispose()
    except (VigilError, sa.exc.SQLAlchemyError) as exc:
        report.warnings.append(f"alert counts unavailable: {exc}")
        return
    for category, severity, kind, n in rows:
        key = (str(category), int(severity))
        report.alerts[key] = report.alerts.get(key, 0) + int(n)
        if kind == "staff":
            report.staff_alerts += int(n)


def warehouse_counts(settings: Settings) -> dict[str, int]:
    """Events and rejects stored for the demo school, counted straight from its Parquet partitions."""
    import duckdb

    out: dict[str, int] = {}
    for table in ("events", "rejects"):
        root = settings.warehouse_dir / table / f"school={SCHOOL}"
        if not any(root.glob("date=*/*.parquet")):
            out[table] = 0
            continue
        pattern = (root / "date=*" / "*.parquet").as_posix().replace("'", "''")
        with duckdb.connect() as con:
            row = con.execute(f"SELECT count(*) FROM read_parquet('{pattern}', hive_partitioning = false)").fetchone()
        out[table] = int(row[0]) if row else 0
    return out
