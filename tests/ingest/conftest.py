"""Streaming-ingest fixtures; helpers live in ingest_testkit.py (made importable here: importlib mode)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ingest_testkit import broker  # noqa: E402,F401 - re-exported as a session fixture


def pytest_configure(config: object) -> None:
    """kafka-python 3.0 loads its protocol schemas with deprecated importlib.resources calls."""
    config.addinivalue_line("filterwarnings", "ignore:.*is deprecated. Use files:DeprecationWarning")  # type: ignore[attr-defined]
