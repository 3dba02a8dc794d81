"""Vectorised timestamp helpers: local wall-clock to UTC, year inference, epoch strings."""

from datetime import UTC, datetime, timedelta

import polars as pl

DEFAULT_TZ = "Europe/London"

# A log line dated more than this far in the future of "now" was written last year (RFC 3164 has no year).
_FUTURE_SLACK = timedelta(days=2)


def local_to_utc(naive: pl.Expr, tz: str) -> pl.Expr:
    """Read a naive wall-clock datetime as local time in `tz`; return it in UTC.

    In the autumn overlap hour the earlier instant wins; times that do not exist (spring gap) become null
    so the row is rejected rather than silently shifted.
    """
    return (
        naive.dt.cast_time_unit("us")
        .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )


def with_inferred_year(no_year: pl.Expr, fmt: str, tz: str, now: datetime) -> pl.Expr:
    """Parse strings that lack a year (e.g. `Nov 23 17:05:06` with fmt `%b %e %H:%M:%S`) into UTC.

    The year is now's year unless that puts the line more than two days in the future, in which case it is
    last year's (a December line read in January).
    """
    now_utc = now.astimezone(UTC)
    this_year = local_to_utc(
        (pl.lit(f"{now_utc.year} ") + no_year).str.to_datetime(f"%Y {fmt}", strict=False), tz
    )
    last_year = local_to_utc(
        (pl.lit(f"{now_utc.year - 1} ") + no_year).str.to_datetime(f"%Y {fmt}", strict=False), tz
    )
    limit = pl.lit(now_utc + _FUTURE_SLACK).dt.cast_time_unit("us")
    return pl.when(this_year > limit).then(last_year).otherwise(this_year)


def epoch_to_utc(epoch_text: pl.Expr) -> pl.Expr:
    """Epoch seconds as text with an optional fraction (`1795453506.351`) to a UTC timestamp."""
    seconds = epoch_text.str.strip_chars().cast(pl.Float64, strict=False)
    # non-strict: `inf`, `nan` or an absurd exponent is a bad line (null ts -> reject), not an exception
    micros = (seconds * 1_000_000).round(0).cast(pl.Int64, strict=False)
    return micros.cast(pl.Datetime("us", "UTC"))


def iso_to_utc(text: pl.Expr, tz: str) -> pl.Expr:
    """ISO 8601 text to UTC: an explicit offset or Z is honoured; a bare local time is read in `tz`."""
    with_zone = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us")
    spaced_zone = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", strict=False, time_unit="us")
    naive_t = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    naive_s = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    return pl.coalesce(with_zone, spaced_zone, local_to_utc(naive_t, tz), local_to_utc(naive_s, tz))
