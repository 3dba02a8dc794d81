"""Per-source ingest state, shared between processes through `<data>/state/sources/`, and silence checks.

Each writer owns one shard file (a Kafka partition, a syslog listener) and rewrites it atomically after
each committed batch, so counts survive restarts and any process (`vigil status`, the API) can read
them. A source is flagged silent when it has gone longer than `[ingest] silent_after_minutes` of school
time (weekday school hours in the school's timezone) without a line: nights and weekends do not count.
A configured sender (`hosts`) that has never sent anything is flagged silent straight away.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingest.streamconfig import HealthConfig, health_config
from vigil.settings import Settings

COUNTERS = ("lines", "events", "rejects", "alerts")


@dataclass
class SourceStatus:
    """Health of one source: where it belongs, when it last sent a line, totals, and whether it is silent."""

    name: str
    school: str
    kind: str
    last_seen: datetime | None
    lines: int = 0
    events: int = 0
    rejects: int = 0
    alerts: int = 0
    silent: bool = False
    silent_minutes: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict (ISO timestamps)."""
        out = asdict(self)
        out["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return out


def state_dir(settings: Settings) -> Path:
    """Where shard files live."""
    return settings.data_dir / "state" / "sources"


class SourceShard:
    """One writer's view of the sources it has seen; `flush()` persists it atomically."""

    def __init__(self, settings: Settings, shard: str) -> None:
        self.path = state_dir(settings) / f"{shard}.json"
        self.sources: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, Any] = {}
        if self.path.exists():
            try:
                stored = json.loads(self.path.read_text())
                self.sources, self.meta = stored.get("sources", {}), stored.get("meta", {})
            except (ValueError, OSError):
                self.sources = {}  # a torn shard only loses counters, never data

    def add(
        self,
        name: str,
        *,
        school: str,
        kind: str,
        lines: int = 0,
        events: int = 0,
        rejects: int = 0,
        alerts: int = 0,
        seen: datetime | None = None,
    ) -> None:
        """Add counts for a source and move its last-seen time forward."""
        row = self.sources.setdefault(
            name, {"school": school, "kind": kind, "last_seen": None, **dict.fromkeys(COUNTERS, 0)}
        )
        row["school"], row["kind"] = school, kind
        for key, value in zip(COUNTERS, (lines, events, rejects, alerts), strict=True):
            row[key] = int(row.get(key, 0)) + value
        if lines and seen is not None:
            stamp = seen.astimezone(UTC).isoformat()
            if row["last_seen"] is None or stamp > row["last_seen"]:
                row["last_seen"] = stamp

    def flush(self) -> None:
        """Write the shard (temp file, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"sources": self.sources, "meta": self.meta, "updated": datetime.now(UTC).isoformat()}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def school_minutes_between(start: datetime, end: datetime, tz: str, cfg: HealthConfig) -> float:
    """Minutes of school time (school days, school hours, local time) between two instants."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(tz)
    open_s, close_s = cfg.school_hours.split("-")
    t_open, t_close = time.fromisoformat(open_s), time.fromisoformat(close_s)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    total = 0.0
    # Cap the walk: past ~4 weeks the source is silent by any measure.
    for _ in range(31):
        if day > local_end.date():
            break
        if day.weekday() in cfg.school_days:
            lo = datetime.combine(day, t_open, zone)
            hi = datetime.combine(day, t_close, zone)
            a, b = max(lo, local_start), min(hi, local_end)
            if b > a:
                total += (b - a).total_seconds() / 60
        day += timedelta(days=1)
    return total


def _merge(shards: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for sources in shards:
        for name, row in sources.items():
            cur = merged.setdefault(
                name,
                {
                    "school": row.get("school", "default"),
                    "kind": row.get("kind", "?"),
                    "last_seen": None,
                    **dict.fromkeys(COUNTERS, 0),
                },
            )
            for key in COUNTERS:
                cur[key] += int(row.get(key, 0))
            seen = row.get("last_seen")
            if seen and (cur["last_seen"] is None or seen > cur["last_seen"]):
                cur["last_seen"] = seen
                cur["school"], cur["kind"] = row.get("school", cur["school"]), row.get("kind", cur["kind"])
    return merged


def _read_shards(directory: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            out.append(json.loads(path.read_text()).get("sources", {}))
        except (ValueError, OSError):
            continue  # being replaced right now, or torn: the next read sees it
    return out


def source_status(settings: Settings, *, now: datetime | None = None) -> list[SourceStatus]:
    """Every source seen by any ingest process, plus configured sources never seen, with silence flags."""
    cfg = health_config(settings)
    now = now or datetime.now(UTC)
    merged = _merge(_read_shards(state_dir(settings)))
    # Configured senders (`hosts`) are expected to send: list them even before their first line. File
    # sources are not listed until something records them (file ingest keeps its own checkpoints).
    for src in (s for s in settings.sources if s.hosts):
        merged.setdefault(
            src.name,
            {
                "school": src.school,
                "kind": "syslog",
                "last_seen": None,
                **dict.fromkeys(COUNTERS, 0),
            },
        )
    out: list[SourceStatus] = []
    for name, row in sorted(merged.items()):
        last = datetime.fromisoformat(row["last_seen"]) if row["last_seen"] else None
        school = str(row["school"])
        tz = settings.school_tz(school)
        # A configured source that has never sent a line is flagged at once: the feed is missing.
        quiet = school_minutes_between(last, now, tz, cfg) if last else 0.0
        silent = quiet > cfg.silent_after_minutes if last else True
        out.append(
            SourceStatus(
                name=name,
                school=school,
                kind=str(row["kind"]),
                last_seen=last,
                lines=row["lines"],
                events=row["events"],
                rejects=row["rejects"],
                alerts=row["alerts"],
                silent=silent,
                silent_minutes=round(quiet, 1),
            )
        )
    return out


def kafka_lag(settings: Settings) -> list[dict[str, Any]]:
    """Last recorded lag per Kafka partition (written by the worker that owns it, at each commit)."""
    out = []
    directory = state_dir(settings)
    for path in sorted(directory.glob("kafka-*.json")) if directory.is_dir() else []:
        try:
            stored = json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        lag = stored.get("meta", {}).get("lag")
        if lag:
            out.append({**lag, "updated": stored.get("updated")})
    return out
