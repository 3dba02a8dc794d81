"""Strip syslog envelopes (RFC 5424, RFC 3164, rsyslog file format, Sophos UTM, bare `<PRI>`) before parsing.

The same vendor body reaches Vigil in several envelopes; parsers see only the body, plus the header's
timestamp, host and app name, which formats without their own (pfSense filterlog) fall back on.
"""

from datetime import datetime

import polars as pl

from parsers.timeutil import iso_to_utc, local_to_utc, with_inferred_year

FRAME_COLUMNS = ("body", "syslog_ts", "syslog_host", "syslog_app")

_RFC5424 = (
    r"^(?:<(?P<pri>\d{1,3})>)?1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<msg>(?s:.*))$"
)
_RFC3164 = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d) "
    r"(?:(?P<host>[^\s\[:]+) )?(?:(?P<app>[^:\[\s]+)(?:\[\d+\])?: )?(?P<msg>(?s:.*))$"
)
_SOPHOS_UTM = r"^(?P<ts>\d{4}:\d\d:\d\d-\d\d:\d\d:\d\d) (?P<host>\S+) (?P<app>[^:\[\s]+)(?:\[\d+\])?: (?P<msg>(?s:.*))$"
_RSYSLOG_FILE = (
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?P<host>\S+) "
    r"(?P<app>[^:\[\s]+)(?:\[\d+\])?: (?P<msg>(?s:.*))$"
)
_BARE_PRI = r"^<(?P<pri>\d{1,3})>(?P<msg>(?s:.*))$"


def _nil(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "-").then(None).otherwise(expr)


_KINDS: tuple[tuple[str, str], ...] = (
    ("rfc5424", r"^(?:<\d{1,3}>)?1 (?:\d{4}-\d\d-\d\dT|- )"),
    ("rfc3164", r"^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "),
    ("rsyslog", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"),
    ("sophos_utm", r"^\d{4}:\d\d:\d\d-\d\d:\d\d:\d\d "),
    ("bare", r"^<\d{1,3}>"),
)
_ANY_KIND = "|".join(f"(?:{prefix})" for _, prefix in _KINDS)
_EMPTY_FRAME: dict[str, pl.DataType] = {
    "body": pl.String(),
    "syslog_ts": pl.Datetime("us", "UTC"),
    "syslog_host": pl.String(),
    "syslog_app": pl.String(),
}


_MSG = "(?P<msg>(?s:.*))$"
_HEADERS = {
    kind: pattern.removesuffix(_MSG)
    for kind, pattern in {
        "rfc5424": _RFC5424,
        "rfc3164": _RFC3164,
        "rsyslog": _RSYSLOG_FILE,
        "sophos_utm": _SOPHOS_UTM,
        "bare": _BARE_PRI,
    }.items()
}
"""Each envelope's pattern up to its message: the message group always matches the rest of the line."""


def _frame_kind(rows: pl.DataFrame, kind: str, *, tz: str, now: datetime) -> pl.DataFrame:
    """Frame columns for rows of one envelope kind (rows that do not fully match pass through unframed).

    Only the header is matched (a capturing regex over whole lines is slow); groups and timestamps are
    then read once per distinct header (headers repeat: one per second and sender), and the message is
    the line without its header.
    """
    header = _HEADERS[kind]
    g = rows.select(pl.col("_i"), pl.col("raw"), pl.col("raw").str.extract(header, 0).alias("_h"))
    heads = g.select(pl.col("_h").unique()).drop_nulls()
    parts = heads.with_columns(pl.col("_h").str.extract_groups(header).alias("g")).unnest("g")
    cols = parts.columns
    ts: pl.Expr
    if kind == "rfc5424":
        ts = iso_to_utc(_nil(pl.col("ts")), tz)
    elif kind == "rfc3164":
        ts = with_inferred_year(pl.col("ts"), "%b %e %H:%M:%S", tz, now)
    elif kind == "rsyslog":
        ts = iso_to_utc(pl.col("ts"), tz)
    elif kind == "sophos_utm":
        ts = local_to_utc(pl.col("ts").str.to_datetime("%Y:%m:%d-%H:%M:%S", strict=False), tz)
    else:
        ts = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    host = _nil(pl.col("host")) if "host" in cols else pl.lit(None, dtype=pl.String)
    app = _nil(pl.col("app")) if "app" in cols else pl.lit(None, dtype=pl.String)
    per_head = parts.select(pl.col("_h"), ts.alias("syslog_ts"), host.alias("syslog_host"), app.alias("syslog_app"))
    g = g.join(per_head, on="_h", how="left", maintain_order="left")  # unmatched rows (null _h) get nulls
    msg = pl.col("raw").str.strip_prefix(pl.col("_h"))
    if kind == "rfc5424":
        msg = msg.str.strip_prefix("\ufeff")
    return g.select(
        pl.col("_i"),
        pl.when(pl.col("_h").is_not_null())
        .then(msg)
        .otherwise(pl.col("raw").str.replace(r"^<\d{1,3}>", ""))
        .alias("body"),
        pl.col("syslog_ts").cast(pl.Datetime("us", "UTC")),
        pl.col("syslog_host").cast(pl.String),
        pl.col("syslog_app").cast(pl.String),
    )


def _unframed(batch: pl.DataFrame) -> pl.DataFrame:
    return batch.with_columns(
        pl.col("raw").alias("body"),
        *[pl.lit(None, dtype=t).alias(c) for c, t in _EMPTY_FRAME.items() if c != "body"],
    )


def frame(batch: pl.DataFrame, *, tz: str, now: datetime) -> pl.DataFrame:
    """Add FRAME_COLUMNS to a batch that has a `raw` column; unframed lines pass through as their body.

    Each envelope regex runs only over the rows whose cheap prefix test says they may carry it, so a
    plain Squid file pays one prefix scan and a syslog feed pays one extraction.
    """
    if not batch["raw"].str.contains(_ANY_KIND).any():  # one scan for the common unframed file
        return _unframed(batch)
    kind = pl.lit(None, dtype=pl.String)
    for name, prefix in reversed(_KINDS):
        kind = pl.when(pl.col("raw").str.contains(prefix)).then(pl.lit(name)).otherwise(kind)
    tagged = batch.select(pl.col("raw")).with_row_index("_i").with_columns(kind.alias("_kind"))
    present = [k for k in tagged["_kind"].unique().to_list() if k is not None]
    if not present:
        return _unframed(batch)
    parts = [_frame_kind(tagged.filter(pl.col("_kind") == k), k, tz=tz, now=now) for k in present]
    plain = tagged.filter(pl.col("_kind").is_null()).select(
        pl.col("_i"),
        pl.col("raw").alias("body"),
        *[pl.lit(None, dtype=t).alias(c) for c, t in _EMPTY_FRAME.items() if c != "body"],
    )
    framed = pl.concat([*parts, plain], how="vertical").sort("_i").drop("_i")
    return pl.concat([batch, framed], how="horizontal")


def strip_framing_text(lines: list[str], *, tz: str = "Europe/London", now: datetime | None = None) -> list[str]:
    """Bodies of a few raw lines (for format detection on a sample)."""
    from datetime import UTC

    df = frame(pl.DataFrame({"raw": lines}, schema={"raw": pl.String}), tz=tz, now=now or datetime.now(UTC))
    return [b if b is not None else "" for b in df["body"].to_list()]
