"""Case stores for the retention tests: SQLite always, PostgreSQL on 127.0.0.1:5432 in a throw-away database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases.store import CaseStore

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_store() -> Iterator[CaseStore]:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL NOT TESTED: cannot reach 127.0.0.1:5432 as postgres ({exc})")
    name = f"vigil_retention_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = CaseStore.from_url(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    store.migrate()
    try:
        yield store
    finally:
        store.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    """A migrated case store on each dialect."""
    if request.param == "sqlite":
        s = CaseStore.from_url(f"sqlite:///{tmp_path / 'var' / 'cases.db'}")
        s.migrate()
        yield s
        s.dispose()
    else:
        yield from _pg_store()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[CaseStore]:
    """A migrated SQLite case store under tmp_path/var."""
    s = CaseStore.from_url(f"sqlite:///{tmp_path / 'var' / 'cases.db'}")
    s.migrate()
    yield s
    s.dispose()
