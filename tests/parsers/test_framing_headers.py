"""Framing reads only the header and the message is the rest: same columns as one full-line regex per kind."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import framing
from parsers.timeutil import iso_to_utc, local_to_utc, with_inferred_year

NOW = datetime(2026, 1, 2, 12, tzinfo=UTC)
FULL = {
    "rfc5424": framing._RFC5424,
    "rfc3164": framing._RFC3164,
    "rsyslog": framing._RSYSLOG_FILE,
    "sophos_utm": framing._SOPHOS_UTM,
    "bare": framing._BARE_PRI,
}


def reference(raw: list[str], tz: str) -> pl.DataFrame:
    """The definition: per line, the first kind whose prefix test passes, then its full-line regex."""
    df = pl.DataFrame({"raw": raw}, schema={"raw": pl.String})
    kind = pl.lit(None, dtype=pl.String)
    for name, prefix in reversed(framing._KINDS):
        kind = pl.when(pl.col("raw").str.contains(prefix)).then(pl.lit(name)).otherwise(kind)
    rows = []
    for line, k in zip(raw, df.select(kind).to_series().to_list(), strict=True):
        one = pl.DataFrame({"raw": [line]})
        if k is None:
            rows.append({"body": line, "syslog_ts": None, "syslog_host": None, "syslog_app": None})
            continue
        g = one.select(pl.col("raw"), pl.col("raw").str.extract_groups(FULL[k]).alias("g")).unnest("g")
        ts = {
            "rfc5424": iso_to_utc(framing._nil(pl.col("ts")), tz),
            "rfc3164": with_inferred_year(pl.col("ts"), "%b %e %H:%M:%S", tz, NOW),
            "rsyslog": iso_to_utc(pl.col("ts"), tz),
            "sophos_utm": local_to_utc(pl.col("ts").str.to_datetime("%Y:%m:%d-%H:%M:%S", strict=False), tz),
            "bare": pl.lit(None, dtype=pl.Datetime("us", "UTC")),
        }[k]
        msg = pl.col("msg").str.strip_prefix("\ufeff") if k == "rfc5424" else pl.col("msg")
        ok = pl.col("msg").is_not_null()
        host = framing._nil(pl.col("host")) if "host" in g.columns else pl.lit(None, pl.String)
        app = framing._nil(pl.col("app")) if "app" in g.columns else pl.lit(None, pl.String)
        rows.append(
            g.select(
                pl.when(ok).then(msg).otherwise(pl.col("raw").str.replace(r"^<\d{1,3}>", "")).alias("body"),
                pl.when(ok).then(ts).otherwise(None).alias("syslog_ts"),
                pl.when(ok).then(host).otherwise(None).alias("syslog_host"),
                pl.when(ok).then(app).otherwise(None).alias("syslog_app"),
            ).row(0, named=True)
        )
    return pl.DataFrame(rows, schema=framing._EMPTY_FRAME)


PRI = st.sampled_from(["", "<13>", "<189>", "<1000>", "<>"])
HEAD = st.sampled_from(
    [
        "Nov 23 17:05:06 ", "Jan  2 00:00:01 ", "Dec 31 23:59:59 ", "Foo 12 10:00:00 ", "Mar 29 01:30:00 ",
        "1 2026-11-23T17:05:06.123+01:00 ", "1 - ", "2026-11-23T17:05:06Z ", "2026-11-23T17:05:06.5+0100 ",
        "2026:11:23-17:05:06 ", "", "1 2026-11-23T17:05:06Z fw01 app 42 ID47 - ", "1 - - - - - [ex@1 a=\"b\"] ",
        "1 2026-11-23T17:05:06.5Z h a - - [a@1][b@2 c=\"\\]\"]", "Nov 23 17:05:06 fw01 filterlog[4321]: ",
        "2026-11-23T17:05:06+00:00 fw01 app[7]: ", "2026:11:23-17:05:06 utm httpproxy[1]: ",
    ]
)  # fmt: skip
REST = st.lists(
    st.sampled_from(
        ["fw01 ", "fw01:", "h[1] ", "app: ", "app[42]: ", "CEF:0|a|b", "- ", "id ", "[x@1 a=\"]\"] ", "\ufeff",
         "msg", "é", " ", "\n", "-", "[", ":"]
    ),
    max_size=8,
).map("".join)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(PRI, HEAD, REST).map("".join), min_size=1, max_size=12),
    st.sampled_from(["UTC", "Europe/London"]),
)
def test_header_framing_matches_full_line_regexes(lines: list[str], tz: str) -> None:
    got = framing.frame(pl.DataFrame({"raw": lines * 2}), tz=tz, now=NOW).select(list(framing._EMPTY_FRAME))
    assert got.equals(reference(lines * 2, tz))
