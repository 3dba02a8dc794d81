"""Shared fixtures: an isolated Vigil data directory and settings per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from vigil.settings import Settings, activate

# CI replays fixed examples so a red build is reproducible; local runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a fresh data directory, active for the test."""
    s = Settings(data_dir=tmp_path / "var")
    activate(s)
    yield s
    activate(Settings())
