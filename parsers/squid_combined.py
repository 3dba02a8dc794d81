"""Squid `common` and `combined` access.log formats (Apache CLF plus Squid's trailing `%Ss:%Sh`).

Layout: `%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st ["%{Referer}>h" "%{User-Agent}>h"] %Ss:%Sh`, e.g.
`10.10.0.11 - alice [23/Nov/2026:17:05:06 +0000] "GET http://neutral.test/ HTTP/1.1" 200 444 "-" "rig-test/1.0"
TCP_MISS:FIRSTUP_PARENT`
(the quoted referrer and user agent are present in `combined`, absent in `common`).

Output: ts (CLF time with its offset), client_ip (IPv4 or IPv6), user (URL-decoded, `DOMAIN\\user` ->
`user@domain`; the ident field `%[ui` is used only when `%[un` is `-`), method, url (CONNECT `host:port`
becomes `https://host:port`), status, bytes_in (bytes sent to the client), referrer, user_agent, action,
reason. The format has no category, duration, content type or destination address.
Actions (shared with `squid`): `TCP_DENIED` -> blocked, except status 407, which is a proxy-authentication
challenge (action `error`, reason `proxy authentication required`), not a policy block; status 000 -> error;
everything else -> allowed.
Squid does not escape `"` inside the URL or the user agent, so the line is parsed from both ends: the
request line ends at the last ` HTTP/x.y" <status> <bytes>`, and the user agent runs to the quote before the
trailing `%Ss:%Sh`.
Worked example (the line above): ts 2026-11-23T17:05:06Z, client_ip 10.10.0.11, user alice, action allowed,
status 200, bytes_in 444, user_agent `rig-test/1.0`.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern, null_if_dash
from parsers.squid import connect_url, squid_action
from parsers.users import normalise_user

_LINE = (
    r"^\s*(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r"\"(?P<method>[^\s\"]+) (?P<url>.*) HTTP/(?P<ver>[\d.]+)\" (?P<status>\d{1,3}|-) (?P<bytes>\d+|-)"
    r"(?: \"(?P<referer>.*?)\" \"(?P<ua>.*)\")? (?P<result>[A-Z][A-Z0-9_]*):(?P<hier>[A-Z][A-Z0-9_]*)\s*$"
)
# Squid writes malformed requests without a URL or version, e.g. `"NONE error:... HTTP/0.0"` (covered
# above) or, for a bare connection with no request, `"- - HTTP/0.0"`: also covered, since url is `.*`.
# The same layout without the ambiguous `.*` parts: several times faster, and it matches every line without
# a quote or space inside the URL, referrer or agent; the rest go through _LINE.
_FAST = (
    r"^\s*(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r"\"(?P<method>[^\s\"]+) (?P<url>[^\s\"]*) HTTP/(?P<ver>[\d.]+)\" (?P<status>\d{1,3}|-) (?P<bytes>\d+|-)"
    r"(?: \"(?P<referer>[^\"]*)\" \"(?P<ua>[^\"]*)\")? (?P<result>[A-Z][A-Z0-9_]*):(?P<hier>[A-Z][A-Z0-9_]*)\s*$"
)


def split_two_pass(batch: pl.DataFrame, fast: str, robust: str, probe: str) -> pl.DataFrame:
    """Named groups of `fast` per line, and of `robust` for the lines `fast` missed (`probe` group null)."""
    first = batch.select(pl.col("body").str.extract_groups(fast).alias("g")).unnest("g")
    missed = first.get_column(probe).is_null()
    if fast == robust or not missed.any():
        return first
    idx = missed.arg_true()
    second = batch[idx].select(pl.col("body").str.extract_groups(robust).alias("g")).unnest("g")
    return pl.DataFrame([first.get_column(c).scatter(idx, second.get_column(c)) for c in first.columns])


class SquidCombinedParser(BaseParser):
    """Squid's built-in `common` and `combined` logformats."""

    name: ClassVar[str] = "squid_combined"
    description: ClassVar[str] = "Squid access.log in the common or combined logformat (CLF + %Ss:%Sh)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_squid_combined": "the line is not CLF with Squid's trailing `%Ss:%Sh` result and hierarchy",
        "bad_clf_time": "the `[dd/Mon/yyyy:HH:MM:SS +zzzz]` time could not be read",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines with the CLF layout and Squid's `%Ss:%Sh` tail."""
        return detect_by_pattern(sample, _LINE)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Vectorised regex split, anchored at both ends of the line."""
        del meta
        # Materialised once: eager select does not share a repeated regex sub-expression.
        groups = split_two_pass(batch, _FAST, _LINE, "client")
        f = pl.col
        status = f("status").cast(pl.Int32, strict=False)
        action, reason = squid_action(f("result"), status)
        ts = f("time").str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="us")
        user = pl.coalesce(normalise_user(f("user")), normalise_user(f("ident")))
        return groups.select(
            ts.dt.convert_time_zone("UTC").alias("ts"),
            null_if_dash(f("client")).alias("client_ip"),
            user.alias("user"),
            f("method").alias("method"),
            connect_url(f("method"), null_if_dash(f("url"))).alias("url"),
            status.alias("status"),
            f("bytes").cast(pl.Int64, strict=False).alias("bytes_in"),
            null_if_dash(f("referer")).alias("referrer"),
            null_if_dash(f("ua")).alias("user_agent"),
            action.alias("action"),
            reason.alias("reason"),
            pl.when(f("client").is_null())
            .then(pl.lit("not_squid_combined"))
            .when(ts.is_null())
            .then(pl.lit("bad_clf_time"))
            .otherwise(None)
            .alias("_reject"),
        )
