"""Pure policy decisions: whole-day cut-offs, per-school overrides, alert classes, config errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention.errors import RetentionConfigError
from retention.policy import (
    ClosedAlert,
    Partition,
    expired_alerts,
    expired_partitions,
    load_config,
    partition_expired,
    years_before,
)

NOW = datetime(2026, 5, 1, 0, 30, tzinfo=UTC)


def test_a_partition_goes_only_when_its_whole_day_is_past_the_cutoff() -> None:
    # cut-off = 2026-01-31 00:30: the 30th ended before it, the 31st did not.
    assert partition_expired(date(2026, 1, 30), NOW, 90)
    assert not partition_expired(date(2026, 1, 31), NOW, 90)


@given(st.integers(min_value=1, max_value=4000), st.integers(min_value=-5, max_value=5))
def test_today_and_the_future_are_never_expired(days: int, offset: int) -> None:
    assert not partition_expired(NOW.date() + timedelta(days=max(offset, 0)), NOW, days)


def test_school_overrides_and_days_flag() -> None:
    cfg = load_config({"schools": {"s2": {"events_days": 60}}})
    parts = [
        Partition(t, s, NOW.date() - timedelta(days=a), 10, 1)
        for t in ("events", "rejects")
        for s in ("s1", "s2")
        for a in (0, 31, 61, 91)
    ]
    got = {
        (e.data_class, e.school, (NOW.date() - date.fromisoformat(e.key[-10:])).days)
        for e in expired_partitions(parts, NOW, cfg)
    }
    assert got == {("events", "s1", 91), ("events", "s2", 61), ("events", "s2", 91)} | {
        ("rejects", s, a) for s in ("s1", "s2") for a in (31, 61, 91)
    }
    forced = expired_partitions(parts, NOW, cfg, events_days=30)
    assert {e.rule for e in forced if e.data_class == "events"} == {"events: 30 days (--days)"}


def test_alert_classes() -> None:
    cfg = load_config({"actioned_years": 25})
    closed = NOW - timedelta(days=100)
    alerts = [
        ClosedAlert("fp", "s1", "false_positive", closed, held=False),
        ClosedAlert("held", "s1", "false_positive", closed, held=True),
        ClosedAlert("acted", "s1", "police", closed, held=False),
    ]
    assert [(e.key, e.data_class) for e in expired_alerts(alerts, NOW, cfg)] == [("fp", "false_positive_alerts")]
    old = [ClosedAlert("acted", "s1", "police", years_before(NOW, 26), held=False)]
    assert [e.key for e in expired_alerts(old, NOW, cfg)] == ["acted"]


def test_leap_day_and_bad_config() -> None:
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 6) == datetime(2022, 2, 28, tzinfo=UTC)
    with pytest.raises(RetentionConfigError, match="retention.events_days"):
        load_config({"events_days": 0})
    with pytest.raises(RetentionConfigError, match="audit_years"):
        load_config({"schools": {"s1": {"audit_years": 0}}})
    with pytest.raises(RetentionConfigError, match="retention.evnts_days"):
        load_config({"evnts_days": 5})
