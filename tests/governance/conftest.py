"""Governance test fixtures (helpers in govkit.py, made importable here: importlib mode)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from govkit import GovWorld, build_world  # noqa: E402

from cases.store import CaseStore  # noqa: E402


@pytest.fixture(scope="module")
def gov_world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """A world shared by one test module."""
    return build_world(tmp_path_factory.mktemp("gov") / "var")


@pytest.fixture(scope="module")
def gov_client(gov_world: GovWorld) -> Iterator[TestClient]:
    """A client over HTTPS."""
    with TestClient(gov_world.app, base_url="https://testserver") as c:
        yield c


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def gov_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    """A migrated, empty case store on each dialect (a throw-away PostgreSQL database; skips loudly if down)."""
    if request.param == "sqlite":
        s = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
        s.migrate()
        yield s
        s.dispose()
        return
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable: governance store NOT tested there ({exc})")
    name = f"vigil_gov_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    s = CaseStore.from_url(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        s.migrate()
        yield s
    finally:
        s.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
