"""Helpers for the governance tests: a two-school world with one account per role (staff and governor included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.main import create_app
from cases import sessions, users
from cases.store import CaseStore
from vigil.settings import Settings

ROLES = ("dsl", "deputy_dsl", "network_manager", "head_teacher", "admin", "staff", "governor")
SCHOOLS = ("north", "south")
PASSWORD = "correct horse battery"


@dataclass
class GovWorld:
    """App, store and one account per role per school (`<role>-<school>`, underscores as dashes)."""

    settings: Settings
    app: Any
    store: CaseStore
    user_ids: dict[str, int] = field(default_factory=dict)

    def headers(self, name: str) -> dict[str, str]:
        """A bearer header for an account (a fresh API session)."""
        raw, _ = sessions.create(self.store, self.user_ids[name], "api")
        return {"Authorization": f"Bearer {raw}"}

    def add(self, name: str, role: str, school: str) -> None:
        """Create one more account."""
        self.user_ids[name] = users.create_user(self.store, name, role, [school], PASSWORD)


def who(role: str, school: str = "north") -> str:
    """The seeded account name of a role in a school."""
    return f"{role.replace('_', '-')}-{school}"


def build_world(data_dir: Path, governance: dict[str, Any] | None = None) -> GovWorld:
    """Create the app over a fresh data directory and one account per role per school."""
    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    extra = {"governance": governance} if governance is not None else {}
    settings = Settings(data_dir=data_dir, api={"cookie_secure": True}, **extra)
    app = create_app(settings)
    world = GovWorld(settings=settings, app=app, store=app.state.store)
    for school in SCHOOLS:
        for role in ROLES:
            world.add(who(role, school), role, school)
    return world


def write_events(settings: Settings, batch_id: str, rows: list[dict[str, Any]]) -> None:
    """Write SYNTHETIC events (missing columns null) into the warehouse of these settings."""
    import pyarrow as pa

    from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
    from warehouse.writer import WarehouseWriter

    full = [{name: row.get(name) for name in EVENT_SCHEMA.names} for row in rows]
    table = pa.Table.from_pylist(full, schema=EVENT_SCHEMA)
    WarehouseWriter(settings.warehouse_dir).write_batch(batch_id, table, REJECT_SCHEMA.empty_table())


def ai_rows(school: str, now: Any) -> list[dict[str, Any]]:
    """SYNTHETIC browsing: pupils and staff using AI services and ordinary sites in the last few days."""
    from datetime import timedelta

    plan = [
        # (user, group, host, count, days ago)
        ("pupil.amy", "students", "chatgpt.com", 5, 1),
        ("pupil.amy", "students", "www.photomath.com", 2, 2),
        ("pupil.ben", "students", "beta.character.ai", 4, 1),
        ("pupil.ben", "students", "copilot.microsoft.com", 3, 3),
        ("teacher.cole", "staff", "chatgpt.com", 6, 1),
        ("pupil.amy", "students", "www.bbc.co.uk", 7, 1),
    ]
    rows: list[dict[str, Any]] = []
    for user, group, host, n, ago in plan:
        for i in range(n):
            rows.append(
                {
                    "ts": now - timedelta(days=ago, minutes=i),
                    "school": school,
                    "source": "squid",
                    "observer": "proxy1",
                    "user": user,
                    "user_group": group,
                    "client_ip": "10.0.0.5",
                    "action": "allowed",
                    "method": "GET",
                    "url": f"https://{host}/x{i}",
                    "host": host,
                    "raw": "synthetic",
                    "origin": f"synthetic:{user}:{host}:{i}",
                }
            )
    return rows
