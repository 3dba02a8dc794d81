"""Request and response models of the JSON API (separate In/Out models per entity)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal[
    "false_positive",
    "no_further_action",
    "pastoral_support",
    "parents_contacted",
    "prevent_referral",
    "social_care_referral",
    "police",
    "lado",
]
Status = Literal["new", "triaged", "escalated", "closed", "open"]
"""Alert states; `open` filters for everything not closed."""
Sort = Literal["severity", "newest", "oldest"]


class Token(BaseModel):
    """OAuth2 bearer token answer."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AlertSummary(BaseModel):
    """One row of the alert queue (no evidence)."""

    id: str
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
    count: int
    status: str
    assignee: str | None
    subject_kind: str
    legal_hold: bool
    escalated_to: str | None
    outcome: str | None


class Note(BaseModel):
    """A note on an alert."""

    author: str
    ts: datetime
    body: str


class AlertDetail(AlertSummary):
    """An alert with its evidence, notes, attachments and the subject's other alerts."""

    evidence: dict[str, Any]
    event_keys: list[str]
    close_note: str | None
    why: str
    notes: list[Note]
    attachments: list[dict[str, Any]]
    previous: list[AlertSummary]


class TriageIn(BaseModel):
    """Acknowledge an alert."""

    assignee: str | None = Field(None, max_length=128)
    note: str | None = Field(None, max_length=10_000)


class EscalateIn(BaseModel):
    """Escalate to the head teacher, saying why."""

    note: str = Field(min_length=1, max_length=10_000)


class CloseIn(BaseModel):
    """Close with an outcome and a note."""

    outcome: Outcome
    note: str = Field(min_length=1, max_length=10_000)


class NoteIn(BaseModel):
    """A note to add."""

    body: str = Field(min_length=1, max_length=10_000)


class LegalHoldIn(BaseModel):
    """Place or release a legal hold."""

    hold: bool
    why: str = Field(min_length=1, max_length=2_000)


class UserIn(BaseModel):
    """A new account."""

    name: str = Field(min_length=1, max_length=128)
    role: Literal["dsl", "deputy_dsl", "network_manager", "head_teacher", "admin"]
    schools: list[str] = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=1024)


class UserOut(BaseModel):
    """An account as user admin sees it (never hashes or TOTP secrets)."""

    name: str
    roles: list[dict[str, str]]
    disabled: bool
    totp: bool
    locked_until: datetime | None
    created_at: datetime


class Me(BaseModel):
    """The caller's own account."""

    name: str
    roles: dict[str, list[str]]
    permissions: dict[str, list[str]]
