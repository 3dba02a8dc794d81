"""Pure merging of an incoming alert into a stored one (the ingest upsert's rules, kept testable alone)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

MAX_EVIDENCE_EVENTS = 50
"""Evidence keeps at most this many events per alert (the warehouse keeps the rest, by event_keys)."""

MAX_LIST_ITEMS = 50


def jsonable(value: Any) -> Any:
    """A JSON-safe copy (datetimes and other objects become strings), the same on every dialect."""
    return json.loads(json.dumps(value, default=str))


def union_keys(old: list[str], new: list[str]) -> list[str]:
    """Union of event keys, keeping first-seen order so the stored list is stable across replays."""
    seen = set(old)
    out = list(old)
    for key in new:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _event_key(event: Mapping[str, Any]) -> str:
    origin = event.get("origin")
    if origin:
        return str(origin)
    return json.dumps(event, sort_keys=True, default=str)


def merge_events(old: list[Any], new: list[Any]) -> list[Any]:
    """Evidence events from both, deduplicated by origin, in time order, bounded to the first N."""
    by_key: dict[str, Any] = {}
    for event in [*old, *new]:
        if isinstance(event, Mapping):
            by_key.setdefault(_event_key(event), event)
    merged = sorted(by_key.values(), key=lambda e: str(e.get("ts") or ""))
    return merged[:MAX_EVIDENCE_EVENTS]


def merge_evidence(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Combine two evidence documents: events merged, list values unioned, other keys keep the first value."""
    out: dict[str, Any] = dict(old)
    for key, value in new.items():
        if key == "events":
            out["events"] = merge_events(list(old.get("events") or []), list(value or []))
        elif key not in out or out[key] in (None, "", [], {}):
            out[key] = value
        elif isinstance(out[key], list) and isinstance(value, list):
            merged = list(out[key])
            for item in value:
                if item not in merged:
                    merged.append(item)
            out[key] = merged[:MAX_LIST_ITEMS]
    return out


def merge_row(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The changed columns when `incoming` folds into `stored`; triage state is never touched."""
    keys = union_keys(list(stored["event_keys"]), list(incoming["event_keys"]))
    severity = max(int(stored["severity"]), int(incoming["severity"]))
    ts: datetime = min(stored["ts"], incoming["ts"])
    last_ts: datetime = max(stored["last_ts"], incoming["last_ts"])
    evidence = merge_evidence(stored["evidence"], incoming["evidence"])
    values: dict[str, Any] = {
        "event_keys": keys,
        "count": len(keys),
        "severity": severity,
        "ts": ts,
        "last_ts": last_ts,
        "evidence": evidence,
    }
    if int(incoming["severity"]) > int(stored["severity"]):
        values["title"] = incoming["title"]
    if stored.get("client_ip") is None and incoming.get("client_ip"):
        values["client_ip"] = incoming["client_ip"]
    changed = {k: v for k, v in values.items() if stored.get(k) != v}
    return changed
