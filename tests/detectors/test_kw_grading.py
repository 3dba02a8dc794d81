"""Grading rules in isolation, and the keyword detector's robustness on arbitrary input (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.base import DetectContext
from detectors.grading import grade
from detectors.keywords import KeywordDetector
from parsers.enrich import enrich
from parsers.schema import EVENT_SCHEMA


@pytest.mark.parametrize(
    ("rule", "kwargs", "expected"),
    [
        (4, {"always": True, "p_concern": 0.0}, 4),  # licensed list: never suppressed
        (5, {"help_seeking": True, "p_concern": 0.1}, 3),  # crisis + help: reaching out
        (3, {"help_seeking": True}, 1),  # help about a general topic: digest only
        (4, {"p_concern": 0.2}, None),  # benign sense suppressed
        (3, {"p_concern": 0.99, "model_severity": 5.0}, 4),  # intent raises by at most one
        (3, {"p_concern": 0.99, "model_severity": 1.0}, 2),  # softening lowers by at most one
        (3, {"p_concern": 0.6}, 2),  # unsure, general phrase: low
        (5, {"p_concern": 0.6, "model_severity": 5.0}, 4),  # unsure, crisis phrase: loses one
        (4, {"p_concern": 0.99, "model_severity": 4.0, "curriculum": "poster"}, 2),  # schoolwork cap
        (5, {"p_concern": 0.99, "model_severity": 5.0, "curriculum": "gcse"}, 5),  # crisis never capped
        (2, {"p_concern": 0.99, "model_severity": 4.0, "from_url": True}, 2),  # page address: never above rule
        (4, {"p_concern": 0.99, "model_severity": 4.0, "playful": "lol"}, 2),  # jest: capped
        (5, {"p_concern": 0.99, "model_severity": 5.0, "playful": "lol"}, 3),  # crisis in jest: still the queue
        (4, {"p_concern": 0.99, "model_severity": 4.0, "playful": "meme", "category": "bullying"}, 4),  # exempt
    ],
)
def test_grade_rules(rule: int, kwargs: dict[str, object], expected: int | None) -> None:
    base: dict[str, object] = {
        "always": False,
        "p_concern": 0.95,
        "model_severity": float(rule),
        "help_seeking": False,
        "from_url": False,
    }
    base.update(kwargs)
    g = grade(rule, **base)  # type: ignore[arg-type]
    assert g.severity == expected and g.reasons


def _batch(terms: list[str], urls: list[str]) -> pa.Table:
    base = dict.fromkeys(EVENT_SCHEMA.names)
    recs = [
        {
            **base,
            "ts": datetime(2026, 11, 23, 10, i % 60, tzinfo=UTC),
            "school": "s",
            "source": "t",
            "action": "allowed",
            "user": f"u{i % 3}",
            "origin": f"t:{i}",
            "url": u,
            "search_terms": t,
        }
        for i, (t, u) in enumerate(zip(terms, urls, strict=True))
    ]
    return enrich(pa.Table.from_pylist(recs, schema=EVENT_SCHEMA))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=60)), min_size=1, max_size=8))
def test_detector_never_raises_on_arbitrary_text(pairs: list[tuple[str, str]]) -> None:
    terms = [t for t, _ in pairs]
    urls = ["https://www.google.com/search?q=" + u for _, u in pairs]
    alerts = KeywordDetector().detect(_batch(terms, urls), DetectContext(options={"detection": {}}))
    for a in alerts:
        assert 1 <= a.severity <= 5 and a.event_keys
