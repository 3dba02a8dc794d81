"""API test fixtures; helpers in workspace_testkit.py (made importable here: importlib mode)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from workspace_testkit import World, seed  # noqa: E402


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A seeded two-school world shared by one test module."""
    return seed(tmp_path_factory.mktemp("workspace") / "var")


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    """A client over HTTPS (the session cookie is Secure)."""
    with TestClient(world.app, base_url="https://testserver") as c:
        yield c
