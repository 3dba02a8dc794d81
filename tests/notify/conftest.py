"""Notify test fixtures; helpers and fixtures live in notify_testkit.py (made importable here: importlib mode)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from notify_testkit import smtp_server, webhook_server  # noqa: E402, F401 - fixtures registered here
