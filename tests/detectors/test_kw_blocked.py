"""BlockedAttemptDetector: repeated blocked attempts on a safeguarding category within a short window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from detectors.base import DetectContext
from detectors.blocked import BlockedAttemptDetector, map_category
from parsers.enrich import enrich
from parsers.schema import EVENT_SCHEMA

T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
CTX = DetectContext(options={"detection": {}})


def blocked_events(rows: list[dict[str, Any]]) -> pa.Table:
    base = dict.fromkeys(EVENT_SCHEMA.names)
    recs = [
        {
            **base,
            "school": "s1",
            "source": "test",
            "action": "blocked",
            "user": "pupil2",
            "client_ip": "10.0.0.9",
            "origin": f"file:b.log:{i + 1}",
            "ts": T0 + timedelta(minutes=i),
            **r,
        }
        for i, r in enumerate(rows)
    ]
    return enrich(pa.Table.from_pylist(recs, schema=EVENT_SCHEMA))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Pornography", "pornography"),
        ("Adult Content;Nudity", "pornography"),
        ("Gambling", "gambling"),
        ("Online Betting", "gambling"),
        ("Drugs/Alcohol", "drugs"),
        ("Self Harm", "suicide_self_harm"),
        ("Violent Extremism", "extremism"),
        ("IWF CAIC", "illegal_content"),
        ("Weapons", "weapons_violence"),
        ("Hate Speech", "discrimination"),
        ("Sports", None),
        ("Proxy Anonymizer", None),
    ],
)
def test_filter_category_words(text: str, category: str | None) -> None:
    assert map_category(text) == category


def test_repeated_attempts_alert_once_per_episode() -> None:
    rows = [{"url": f"http://casino{i}.example/", "category": "Gambling"} for i in range(6)]
    (alert,) = BlockedAttemptDetector().detect(blocked_events(rows), CTX)
    assert alert.category == "gambling" and alert.severity == 2 and alert.count == 6
    assert alert.evidence["attempts"] == 6 and "Gambling" in alert.evidence["matched"]
    assert alert.evidence["url"] == "http://casino0.example/" and alert.evidence["host"] == "casino0.example"
    assert "within 10 minutes" in alert.evidence["why"]


def test_spread_out_or_few_attempts_do_not_alert() -> None:
    few = [{"url": "http://x.example/", "category": "Pornography"} for _ in range(4)]
    assert BlockedAttemptDetector().detect(blocked_events(few), CTX) == []
    spread = [
        {"url": "http://x.example/", "category": "Pornography", "ts": T0 + timedelta(minutes=15 * i)} for i in range(6)
    ]
    assert BlockedAttemptDetector().detect(blocked_events(spread), CTX) == []


def test_high_harm_categories_are_severity_three_and_thresholds_configurable() -> None:
    rows = [{"url": "http://bad.example/", "category": "Self Harm"} for _ in range(3)]
    ctx = DetectContext(options={"detection": {"blocked": {"min_attempts": 3, "window_minutes": 5}}})
    (alert,) = BlockedAttemptDetector().detect(blocked_events(rows), ctx)
    assert alert.severity == 3 and alert.category == "suicide_self_harm"


def test_blocks_without_filter_categories_use_the_host() -> None:
    rows = [{"url": "http://www.pornhub.com/", "reason": "denied by proxy access rules"} for _ in range(5)]
    (alert,) = BlockedAttemptDetector().detect(blocked_events(rows), CTX)
    assert alert.category == "pornography"


def test_allowed_traffic_and_replays() -> None:
    allowed = [{"url": "http://casino.example/", "category": "Gambling", "action": "allowed"} for _ in range(8)]
    assert BlockedAttemptDetector().detect(blocked_events(allowed), CTX) == []
    rows = [{"url": "http://casino.example/", "category": "Gambling"} for _ in range(5)]
    a1 = BlockedAttemptDetector().detect(blocked_events(rows), CTX)
    a2 = BlockedAttemptDetector().detect(blocked_events(rows), CTX)
    assert [(a.id, a.event_keys) for a in a1] == [(a.id, a.event_keys) for a in a2]
