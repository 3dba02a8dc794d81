"""Delivery channels for notifications: email over SMTP (STARTTLS) and Teams/Slack-compatible webhooks.

A `Message` is built by `cases.notify` from aggregate facts only (school, category, severity, a link):
channels format and send it; they never see an alert row, so they cannot leak what they were never given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vigil.errors import VigilError


class DeliveryError(VigilError):
    """A message could not be delivered this time (retried with backoff)."""


@dataclass(frozen=True)
class Message:
    """What a notification says: a headline, a short body, one link, and the facts behind them."""

    subject: str
    text: str
    link: str
    school: str
    event: str
    severity: int | None = None
    category: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Stored in the notifications table (re-sent unchanged on retry)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """The inverse of to_json."""
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]
