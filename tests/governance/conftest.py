"""Governance test fixtures: a two-school world with one account per role (staff and governor included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

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


@pytest.fixture(scope="module")
def gov_world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """A world shared by one test module."""
    return build_world(tmp_path_factory.mktemp("gov") / "var")


@pytest.fixture(scope="module")
def gov_client(gov_world: GovWorld) -> Iterator[TestClient]:
    """A client over HTTPS."""
    with TestClient(gov_world.app, base_url="https://testserver") as c:
        yield c
