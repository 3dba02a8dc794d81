"""Shared fixtures: an isolated Vigil data directory and settings per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.settings import Settings, activate


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a fresh data directory, active for the test."""
    s = Settings(data_dir=tmp_path / "var")
    activate(s)
    yield s
    activate(Settings())
