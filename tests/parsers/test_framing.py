"""Syslog envelopes seen in schools' logs, each stripped to the vendor body with its header fields."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from parsers.framing import frame

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

CASES = [
    # (case, raw line, body, syslog ts (UTC ISO) or None, host, app)
    (
        "rfc5424_with_sd",
        '<14>1 2026-11-23T17:05:06.1+01:00 fw01 filterlog 123 - [x@1 a="b\\]"] 5,,,100',
        "5,,,100",
        "2026-11-23T16:05:06.100000",
        "fw01",
        "filterlog",
    ),
    (
        "rfc5424_without_pri",
        "1 2021-08-04T10:00:00Z opnsense filterlog 1 - - 5,,,",
        "5,,,",
        "2021-08-04T10:00:00",
        "opnsense",
        "filterlog",
    ),
    ("rfc5424_nil_fields", "<14>1 - - - - - - hello", "hello", None, None, None),
    (
        "rfc3164_with_pri",
        "<134>Nov 23 17:05:06 fw01 filterlog[123]: 5,,,",
        "5,,,",
        "2026-11-23T17:05:06",
        "fw01",
        "filterlog",
    ),
    (
        "rfc3164_no_host",
        "Nov 24 10:00:00 dnsmasq[512]: query[A] x from 10.1.2.3",
        "query[A] x from 10.1.2.3",
        "2026-11-24T10:00:00",
        None,
        "dnsmasq",
    ),
    (
        "rfc3164_no_tag",
        "<189>Nov 23 09:00:00 fgt01 date=2026-11-23 time=09:00:00",
        "date=2026-11-23 time=09:00:00",
        "2026-11-23T09:00:00",
        "fgt01",
        None,
    ),
    (
        "rfc3164_december_read_in_november_is_last_year",
        "Dec 31 23:59:59 h app: x",
        "x",
        "2025-12-31T23:59:59",
        "h",
        "app",
    ),
    ("rfc3164_summer_time", "Jul  1 12:00:00 h app: x", "x", "2026-07-01T11:00:00", "h", "app"),
    (
        "rsyslog_file_format",
        "2026-11-23T17:05:06.123+00:00 proxy squid[9]: 1795 x",
        "1795 x",
        "2026-11-23T17:05:06.123000",
        "proxy",
        "squid",
    ),
    (
        "sophos_utm_prefix",
        '2026:03:08-15:00:00 utm httpproxy[1]: id="0001"',
        'id="0001"',
        "2026-03-08T15:00:00",
        "utm",
        "httpproxy",
    ),
    ("bare_pri", "<188>date=2020-04-23 time=10:00:00", "date=2020-04-23 time=10:00:00", None, None, None),
    (
        "unframed_squid",
        "1795453506.351      0 10.10.0.11 TCP_MISS/200",
        "1795453506.351      0 10.10.0.11 TCP_MISS/200",
        None,
        None,
        None,
    ),
]


@pytest.mark.parametrize(("case", "raw", "body", "ts", "host", "app"), CASES, ids=[c[0] for c in CASES])
def test_envelope(case: str, raw: str, body: str, ts: str | None, host: str | None, app: str | None) -> None:
    out = frame(pl.DataFrame({"raw": [raw]}), tz="Europe/London", now=NOW).row(0, named=True)
    assert out["body"] == body
    got_ts = out["syslog_ts"].replace(tzinfo=None).isoformat(timespec="microseconds") if out["syslog_ts"] else None
    assert got_ts == (datetime.fromisoformat(ts).isoformat(timespec="microseconds") if ts else None)
    assert (out["syslog_host"], out["syslog_app"]) == (host, app)


def test_mixed_batch_keeps_row_order() -> None:
    raws = [c[1] for c in CASES] * 3
    out = frame(pl.DataFrame({"raw": raws}), tz="Europe/London", now=NOW)
    assert out["raw"].to_list() == raws
    assert out["body"].to_list() == [c[2] for c in CASES] * 3
