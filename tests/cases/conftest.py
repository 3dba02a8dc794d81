"""Case-store fixtures: every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases import users
from cases.store import CaseStore

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_server() -> str | None:
    """The PostgreSQL admin URL if the server answers, else None (tests then skip loudly)."""
    try:
        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return PG_ADMIN
    except sa.exc.OperationalError as exc:
        warnings.warn(
            f"PostgreSQL at 127.0.0.1:5432 unreachable, PostgreSQL case-store tests skip: {exc}", stacklevel=1
        )
        return None


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, pg_server: str | None) -> Iterator[CaseStore]:
    """A migrated, empty case store on each dialect (a throw-away database on PostgreSQL)."""
    users.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    if request.param == "sqlite":
        s = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
        s.migrate()
        yield s
        s.dispose()
        return
    if pg_server is None:
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable (see warning): PostgreSQL store NOT tested")
    name = f"vigil_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
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
