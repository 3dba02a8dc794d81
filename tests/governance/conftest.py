"""Governance test fixtures (helpers in govkit.py, made importable here: importlib mode)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from govkit import GovWorld, build_world  # noqa: E402


@pytest.fixture(scope="module")
def gov_world(tmp_path_factory: pytest.TempPathFactory) -> GovWorld:
    """A world shared by one test module."""
    return build_world(tmp_path_factory.mktemp("gov") / "var")


@pytest.fixture(scope="module")
def gov_client(gov_world: GovWorld) -> Iterator[TestClient]:
    """A client over HTTPS."""
    with TestClient(gov_world.app, base_url="https://testserver") as c:
        yield c
