"""Helpers for the circumvention tests: build EVENT_SCHEMA tables from a few dicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from parsers.schema import EVENT_SCHEMA

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def event(i: int = 0, **kw: Any) -> dict[str, Any]:
    """One event row with sensible defaults (school s1, user pupil1, allowed GET)."""
    row: dict[str, Any] = dict.fromkeys(EVENT_SCHEMA.names)
    row.update(ts=T0 + timedelta(seconds=i), school="s1", source="squid", user="pupil1", client_ip="10.0.0.5",
               action="allowed", method="GET", origin=f"file:test.log:{i + 1}")
    if "url" in kw and "host" not in kw:
        from urllib.parse import urlsplit

        p = urlsplit(kw["url"])
        row.update(host=p.hostname, path=p.path or "/", query=p.query or None)
    row.update(kw)
    return row


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """EVENT_SCHEMA table from rows."""
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)
