"""Jinja2 filters and globals for the web UI (dates in the school's timezone, plain-word labels)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.templating import Jinja2Templates

from api.present import category_words
from cases.workflow import OUTCOMES
from detectors.base import CATEGORIES, SEVERITY_WORDS

SEVERITY_LABEL = {1: "Info", 2: "Low", 3: "Medium", 4: "High", 5: "Imminent"}


def _as_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def local_time(value: Any, fmt: str = "%a %d %b %Y, %H:%M", tz: str = "Europe/London") -> str:
    """A timestamp in the school's local time."""
    dt = _as_dt(value)
    return dt.astimezone(ZoneInfo(tz)).strftime(fmt) if dt else "—"


def age(value: Any) -> str:
    """How long ago, in words a busy person reads at a glance."""
    dt = _as_dt(value)
    if dt is None:
        return "—"
    seconds = int((datetime.now(UTC) - dt).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def install_filters(templates: Jinja2Templates) -> None:
    """Register filters and globals on the template environment."""
    env = templates.env
    env.filters["local"] = local_time
    env.filters["age"] = age
    env.filters["category_words"] = category_words
    env.filters["severity_label"] = lambda s: SEVERITY_LABEL.get(int(s), str(s))
    env.filters["severity_words"] = lambda s: SEVERITY_WORDS.get(int(s), str(s))
    env.filters["outcome_words"] = lambda o: OUTCOMES.get(o or "", o or "")
    env.globals["CATEGORIES"] = CATEGORIES
    env.globals["OUTCOMES"] = OUTCOMES
    env.globals["SEVERITY_LABEL"] = SEVERITY_LABEL
