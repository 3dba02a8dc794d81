"""Turning store rows and warehouse tables into what the API and pages show (plain words, ISO times)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from detectors.base import SEVERITY_WORDS

CATEGORY_WORDS: dict[str, str] = {
    "suicide_self_harm": "suicide or self-harm",
    "extremism": "extremism or radicalisation",
    "sexual_exploitation": "sexual exploitation",
    "abuse": "abuse",
    "bullying": "bullying",
    "discrimination": "discrimination or hate",
    "drugs": "drugs",
    "weapons_violence": "weapons or violence",
    "eating_disorders": "eating disorders",
    "pornography": "pornography",
    "gambling": "gambling",
    "illegal_content": "illegal content",
    "circumvention": "getting round the filter (proxy, VPN, DNS-over-HTTPS)",
}


def category_words(category: str) -> str:
    """A category in plain words."""
    return CATEGORY_WORDS.get(category, category.replace("_", " "))


def why_text(alert: Mapping[str, Any]) -> str:
    """Why the alert fired, in plain words: the detector's own explanation, else one built from the fields."""
    evidence = alert.get("evidence") or {}
    own = evidence.get("why") if isinstance(evidence, Mapping) else None
    if isinstance(own, str) and own.strip():
        return own.strip()
    who = alert.get("user") or alert.get("client_ip") or "an unidentified device"
    hits = int(alert.get("count") or 1)
    span = ""
    if isinstance(alert.get("ts"), datetime) and isinstance(alert.get("last_ts"), datetime):
        span = f" between {alert['ts']:%d %b %H:%M} and {alert['last_ts']:%H:%M} UTC"
    return (
        f"{who} had {hits} {'activity' if hits == 1 else 'activities'} matching {category_words(alert['category'])}"
        f"{span}; the {alert['detector']} detector's rule '{alert['rule']}' flagged it as "
        f"severity {alert['severity']}: {SEVERITY_WORDS.get(int(alert['severity']), '')}."
    )


def events_to_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """Warehouse rows as JSON-friendly dicts (timestamps as ISO 8601 UTC)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    for row in rows:
        ts = row.get("ts")
        if isinstance(ts, datetime):
            row["ts"] = ts.isoformat()
    return rows
