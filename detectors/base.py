"""The detector contract and the Alert record every detector produces.

A detector takes an Arrow batch of EVENT_SCHEMA rows (plus read-only context) and returns alerts. It is
pure and deterministic given its inputs and its versioned rule/model files, so a replayed batch yields
the same alerts with the same ids, and the case store's upsert makes ingest idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

import pyarrow as pa

CATEGORIES: tuple[str, ...] = (
    "suicide_self_harm",
    "extremism",
    "sexual_exploitation",
    "abuse",
    "bullying",
    "discrimination",
    "drugs",
    "weapons_violence",
    "eating_disorders",
    "pornography",
    "gambling",
    "illegal_content",
    "circumvention",
)
"""Alert categories (DESIGN.md); `ingest_health` is the network manager's, outside the DSL queue."""

SEVERITY_WORDS: Mapping[int, str] = {
    1: "info (digest only)",
    2: "low",
    3: "medium (DSL queue)",
    4: "high (notify now)",
    5: "imminent risk (notify now, escalate if unacknowledged)",
}

SubjectKind = Literal["pupil", "staff", "unknown"]

EPISODE_WINDOW = timedelta(hours=24)
"""Hits by one user in one category within this window of the episode's first hit fold into one alert."""


@dataclass(frozen=True)
class Alert:
    """One episode: repeated hits by one user for one category within a window, with its evidence.

    `evidence` is JSON-serialisable: at least `events` (a list of event dicts: ts, url, host, action,
    search_terms, origin), `matched` (the text that matched), `search_terms`, `why` (plain words for the
    DSL), and for keyword alerts `rule` details and `model_score`. `event_keys` are the origins of the
    events folded in; the store unions them so a replay never double-counts.
    """

    school: str
    ts: datetime
    last_ts: datetime
    user: str | None
    client_ip: str | None
    detector: str
    rule: str
    category: str
    severity: int
    title: str
    evidence: Mapping[str, Any]
    event_keys: tuple[str, ...]
    subject_kind: SubjectKind = "pupil"
    status: str = "new"
    assignee: str | None = None
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not 1 <= self.severity <= 5:
            raise ValueError(f"severity {self.severity} outside 1..5")
        if not self.id:
            object.__setattr__(
                self,
                "id",
                alert_id(
                    self.school,
                    self.user or self.client_ip,
                    self.detector,
                    self.category,
                    episode_start(self.ts),
                ),
            )

    @property
    def count(self) -> int:
        """How many events this episode folds together."""
        return len(self.event_keys)


def episode_start(ts: datetime) -> datetime:
    """The start of the fixed episode window containing ts (windows are aligned, so replays agree)."""
    seconds = int(EPISODE_WINDOW.total_seconds())
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=ts.tzinfo)


def alert_id(school: str, subject: str | None, detector: str, category: str, window: datetime) -> str:
    """Deterministic id of an episode: the same hits always map to the same alert."""
    key = f"{school}|{subject or '-'}|{detector}|{category}|{window.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class DetectContext:
    """Read-only context a detector may use: configuration and, when ingesting, the warehouse."""

    options: Mapping[str, Any] = field(default_factory=dict)
    warehouse: Any = None  # warehouse.query.Warehouse when available; None for `vigil detect`
    staff_users: frozenset[str] = frozenset()


@runtime_checkable
class Detector(Protocol):
    """Turns a batch of events into alerts."""

    @property
    def name(self) -> str:
        """Short identifier stored on every alert (`keywords`, `circumvention`, ...)."""
        ...

    @property
    def description(self) -> str:
        """One sentence for docs and the UI."""
        ...

    def detect(self, events: pa.Table, ctx: DetectContext) -> Sequence[Alert]:
        """Alerts raised by this batch (already folded into episodes within the batch)."""
        ...
