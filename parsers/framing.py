"""Strip syslog envelopes (RFC 5424, RFC 3164, rsyslog file format, a bare `<PRI>`) before format parsing.

The same vendor body reaches Vigil in several envelopes; parsers see only the body, plus the header's
timestamp, host and app name, which formats without their own (pfSense filterlog) fall back on.
"""

from datetime import datetime

import polars as pl

from parsers.timeutil import iso_to_utc, with_inferred_year

FRAME_COLUMNS = ("body", "syslog_ts", "syslog_host", "syslog_app")

_RFC5424 = (
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>(?s:.*))$"
)
_RFC3164 = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d) "
    r"(?P<host>\S+) (?:(?P<app>[^:\[\s]+)(?:\[\d+\])?: )?(?P<msg>(?s:.*))$"
)
_RSYSLOG_FILE = (
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?P<host>\S+) "
    r"(?P<app>[^:\[\s]+)(?:\[\d+\])?: (?P<msg>(?s:.*))$"
)
_BARE_PRI = r"^<(?P<pri>\d{1,3})>(?P<msg>(?s:.*))$"


def _nil(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "-").then(None).otherwise(expr)


def strip_framing(lines: pl.Expr, *, tz: str, now: datetime) -> list[pl.Expr]:
    """Expressions for FRAME_COLUMNS computed from a column of raw lines (unframed lines pass through)."""
    f5424 = lines.str.extract_groups(_RFC5424)
    f3164 = lines.str.extract_groups(_RFC3164)
    frs = lines.str.extract_groups(_RSYSLOG_FILE)
    fbare = lines.str.extract_groups(_BARE_PRI)
    is5424 = f5424.struct.field("msg").is_not_null()
    is3164 = f3164.struct.field("msg").is_not_null()
    isrs = frs.struct.field("msg").is_not_null()
    isbare = fbare.struct.field("msg").is_not_null()

    body = (
        pl.when(is5424)
        .then(f5424.struct.field("msg").str.strip_prefix("\ufeff"))
        .when(is3164)
        .then(f3164.struct.field("msg"))
        .when(isrs)
        .then(frs.struct.field("msg"))
        .when(isbare)
        .then(fbare.struct.field("msg"))
        .otherwise(lines)
    )
    ts = (
        pl.when(is5424)
        .then(iso_to_utc(_nil(f5424.struct.field("ts")), tz))
        .when(is3164)
        .then(with_inferred_year(f3164.struct.field("ts"), "%b %e %H:%M:%S", tz, now))
        .when(isrs)
        .then(iso_to_utc(frs.struct.field("ts"), tz))
        .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC")))
    )
    host = (
        pl.when(is5424)
        .then(_nil(f5424.struct.field("host")))
        .when(is3164)
        .then(f3164.struct.field("host"))
        .when(isrs)
        .then(frs.struct.field("host"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    app = (
        pl.when(is5424)
        .then(_nil(f5424.struct.field("app")))
        .when(is3164)
        .then(f3164.struct.field("app"))
        .when(isrs)
        .then(frs.struct.field("app"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return [body.alias("body"), ts.alias("syslog_ts"), host.alias("syslog_host"), app.alias("syslog_app")]


_MAYBE_FRAMED = r"^(?:<\d|[A-Z][a-z]{2} [ \d]\d \d|\d{4}-\d\d-\d\dT)"


def frame(batch: pl.DataFrame, *, tz: str, now: datetime) -> pl.DataFrame:
    """Add FRAME_COLUMNS to a batch that has a `raw` column.

    Batches with no line that could carry an envelope (a plain Squid file) skip the four regexes.
    """
    if batch.height and batch["raw"].str.contains(_MAYBE_FRAMED).any():
        return batch.with_columns(strip_framing(pl.col("raw"), tz=tz, now=now))
    return batch.with_columns(
        pl.col("raw").alias("body"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("syslog_ts"),
        pl.lit(None, dtype=pl.String).alias("syslog_host"),
        pl.lit(None, dtype=pl.String).alias("syslog_app"),
    )


def strip_framing_text(lines: list[str], *, tz: str = "Europe/London", now: datetime | None = None) -> list[str]:
    """Bodies of a few raw lines (for format detection on a sample)."""
    from datetime import UTC

    df = frame(pl.DataFrame({"raw": lines}, schema={"raw": pl.String}), tz=tz, now=now or datetime.now(UTC))
    return [b if b is not None else "" for b in df["body"].to_list()]
