"""Helpers for the workspace tests (API, UI, bench): a seeded SYNTHETIC school pair, users per role, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.main import create_app
from cases import sessions, users, workflow
from cases.store import CaseStore
from cases.synthetic import synthetic_alert, synthetic_events
from parsers.schema import REJECT_SCHEMA
from vigil.settings import Settings
from warehouse.writer import WarehouseWriter

ROLES = ("dsl", "deputy_dsl", "network_manager", "head_teacher", "admin")
SCHOOLS = ("north", "south")
PASSWORD = "correct horse battery"


@dataclass
class World:
    """A seeded data directory: app, store, alerts by school and kind, user ids by name."""

    settings: Settings
    app: Any
    store: CaseStore
    alerts: dict[str, dict[str, str]] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def token(self, name: str) -> str:
        """A fresh bearer token for a user (no password hashing: fast)."""
        raw, _ = sessions.create(self.store, self.user_ids[name], "api")
        return raw

    def headers(self, name: str) -> dict[str, str]:
        """Authorization header for a user."""
        return {"Authorization": f"Bearer {self.token(name)}"}


def fast_hashing() -> None:
    """Cheap Argon2id parameters for tests (production keeps the library default)."""
    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)


def seed(data_dir: Path, *, cookie_secure: bool = True, url: str | None = None) -> World:
    """Two schools; in each a new pupil alert (severity 5), an escalated pupil alert and a staff alert; one user
    per role per school (`<role>-<school>`); a ±60-minute synthetic timeline for every pupil alert."""
    fast_hashing()
    settings = Settings(data_dir=data_dir, database_url=url, api={"cookie_secure": cookie_secure})
    app = create_app(settings)
    store: CaseStore = app.state.store
    world = World(settings=settings, app=app, store=store)
    writer = WarehouseWriter(settings.warehouse_dir)
    now = datetime.now(UTC).replace(microsecond=0)
    for school in SCHOOLS:
        for role in ROLES:
            name = f"{role.replace('_', '-')}-{school}"
            world.user_ids[name] = users.create_user(store, name, role, [school], PASSWORD)
        top = synthetic_alert(
            school, "pupil.one", "suicide_self_harm", now - timedelta(hours=3), severity=5, hits=4, seq=1
        )
        esc = synthetic_alert(school, "pupil.two", "bullying", now - timedelta(hours=30), severity=3, seq=2)
        staff = synthetic_alert(
            school,
            "teacher.x",
            "pornography",
            now - timedelta(hours=5),
            severity=4,
            subject_kind="staff",
            detector="categories",
            seq=3,
        )
        low = synthetic_alert(school, "pupil.one", "circumvention", now - timedelta(days=3), severity=2, seq=4)
        store.upsert_alerts([top, esc, staff, low])
        workflow.escalate(store, esc.id, f"dsl-{school}", note="Seen twice this week; head teacher to decide.")
        world.alerts[school] = {"top": top.id, "escalated": esc.id, "staff": staff.id, "low": low.id}
        for i, alert in enumerate((top, esc, low)):
            writer.write_batch(f"seed-{school}-{i}", synthetic_events(alert), REJECT_SCHEMA.empty_table())
    return world
