"""FortiGate (FortiOS) key=value logs: `type=traffic|utm|event`, subtypes `webfilter`, `dns`, `forward`...

Layout: space-separated `key=value` pairs; values are unquoted (no spaces) or double-quoted (spaces allowed,
`\\"` and `\\\\` escaped inside); an unterminated quote runs to the end of the line. Usually behind a bare
`<PRI>` or an RFC 3164/5424 header, which the framing step strips. Example (webfilter):
`date=2026-11-23 time=17:05:06 devname="fw-school" eventtime=1795453506123456789 tz="+0000" type="utm"
subtype="webfilter" eventtype="ftgd_blk" srcip=10.10.0.11 dstip=203.0.113.7 dstport=443 user="alice"
group="students" service="HTTPS" hostname="casino.example" url="/" action="blocked" catdesc="Gambling"
msg="URL belongs to a denied category in policy"`.

Output: ts (`eventtime` in s, ms, µs or ns, decided by magnitude; else `date`+`time` with `tz`, else the
source timezone), observer (`devname`), user, user_group (`group`), client_ip (`srcip`), client_host
(`srcname`), dst_ip, dst_port, url (`service`/port scheme + `hostname` + `url` path; an absolute `url` is
kept), host (`hostname`, or `qname` for DNS), method (`httpmethod`, or `method` when it is an HTTP verb;
`DNS` for DNS queries), category (`catdesc`), reason (`msg`), bytes_in (`rcvdbyte`), bytes_out (`sentbyte`),
duration_ms (`duration` seconds x 1000), user_agent (`agent`), referrer (`referralurl`).
Actions: `blocked`, `block`, `deny`, `dropped`, `reset`, `reject`, or `utmaction=block` -> blocked;
`passthrough`, `pass`, `allowed`, `allow`, `accept`, `permit`, `close`, `timeout`, `client-rst`, `server-rst`,
`ip-conn`, `dns`, `start`, `exempt`, `monitored` -> allowed; `warning`/`warn` -> warned, or proceeded when
`msg` says the user proceeded; `proceed` -> proceeded; `eventtype=ftgd_err` or `action=error` -> error; anything
else (system events) -> null. FortiGate logs no HTTP status.
Worked example (the line above): ts from eventtime (ns), user alice, action blocked, category Gambling,
url https://casino.example/.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.timeutil import local_to_utc
from parsers.users import normalise_user

KEYS = (
    "date", "time", "tz", "eventtime", "devname", "type", "subtype", "eventtype", "srcip", "srcname", "dstip",
    "dstport", "user", "group", "hostname", "url", "service", "catdesc", "action", "utmaction", "msg",
    "sentbyte", "rcvdbyte", "duration", "method", "httpmethod", "agent", "qname", "referralurl",
)  # fmt: skip

_BLOCKED = ("blocked", "block", "deny", "denied", "dropped", "drop", "reset", "reject")
_ALLOWED = (
    "passthrough", "pass", "allowed", "allow", "accept", "permit", "close", "timeout", "client-rst",
    "server-rst", "ip-conn", "dns", "start", "exempt", "monitored",
)  # fmt: skip
_CLOCK = ("date", "time", "tz")
# Keys whose values never hold a backslash escape (numbers, addresses, fixed words): no unescape pass.
_PLAIN = frozenset(
    {"date", "time", "tz", "eventtime", "type", "subtype", "eventtype", "srcip", "dstip", "dstport", "sentbyte",
     "rcvdbyte", "duration", "action", "utmaction", "service", "method", "httpmethod"}
)  # fmt: skip
_HTTP_VERBS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE")
_DETECT = r"(?:^|\s)(?:date=\d{4}-\d\d-\d\d|eventtime=\d+|logid=\"?\d{10})\b.*\btype=\"?(?:traffic|utm|event)\b"


def kv_raw(key: str, line: pl.Expr = pl.col("body")) -> pl.Expr:
    """The raw value text of `key` (quotes still on): one regex pass with a literal `key=` to scan for."""
    return line.str.extract(rf'(?:^|\s){key}=("(?:[^"\\]|\\.)*"?|\S*)', 1)


def unquote(raw: pl.Expr, *, escapes: bool = True) -> pl.Expr:
    """`"a \\"b\\""` -> `a "b"`; unquoted values pass; empty, `N/A` and `-` -> null."""
    # Literal strips and replaces only (no regex, no when/then computing both branches): the cheap way.
    value = raw.str.strip_prefix('"').str.strip_suffix('"')
    if escapes:
        value = value.str.replace_all('\\"', '"', literal=True).str.replace_all("\\\\", "\\", literal=True)
    return pl.when(value.is_in(["", "N/A", "-"])).then(None).otherwise(value)


def epoch_any_to_utc(epoch: pl.Expr) -> pl.Expr:
    """Epoch in seconds, milliseconds, microseconds or nanoseconds (decided by magnitude) to UTC."""
    n = epoch.cast(pl.Int64, strict=False)
    micros = (
        pl.when(n >= 10**17)
        .then(n // 1000)
        .when(n >= 10**14)
        .then(n)
        .when(n >= 10**11)
        .then(n * 1000)
        .otherwise(n * 1_000_000)
    )
    return micros.cast(pl.Datetime("us", "UTC"))


def fortigate_action(action: pl.Expr, utmaction: pl.Expr, eventtype: pl.Expr, msg: pl.Expr) -> pl.Expr:
    """FortiOS action vocabulary -> the normalised actions (null for events that are not decisions)."""
    a = action.str.to_lowercase()
    proceeded = msg.str.to_lowercase().str.contains("proceed")
    return (
        pl.when((eventtype == "ftgd_err") | (a == "error"))
        .then(pl.lit("error"))
        .when(a.is_in(_BLOCKED) | (utmaction.str.to_lowercase() == "block"))
        .then(pl.lit("blocked"))
        .when(a.is_in(["warning", "warn"]) & proceeded.fill_null(False))
        .then(pl.lit("proceeded"))
        .when(a.is_in(["warning", "warn"]))
        .then(pl.lit("warned"))
        .when(a.is_in(["proceed", "proceeded"]))
        .then(pl.lit("proceeded"))
        .when(a.is_in(_ALLOWED))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit(None, pl.String))
    )


class FortiGateParser(BaseParser):
    """FortiOS traffic, UTM (webfilter, dns...) and event logs in key=value form."""

    name: ClassVar[str] = "fortigate"
    description: ClassVar[str] = "FortiGate / FortiOS key=value logs (traffic, webfilter, dns, event)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_fortigate": "the line has no FortiOS `type=traffic|utm|event` with a `date=` or `eventtime=`",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines with a FortiOS header and log type."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """One vectorised extraction per wanted key, then typed columns."""
        # Each step materialised: eager select does not share a sub-expression used several times. The regex
        # passes are the cost, so `date`/`time`/`tz` are read only when some line lacks `eventtime` (FortiOS
        # 6.x and later always write it).
        first = [k for k in KEYS if k not in _CLOCK]
        raw = batch.select(kv_raw(k).alias(k) for k in first)
        clock = bool(raw["eventtime"].null_count())
        if clock:
            raw = raw.hstack(batch.select(kv_raw(k).alias(k) for k in _CLOCK))
        else:
            raw = raw.with_columns(pl.lit(None, pl.String).alias(k) for k in _CLOCK)
        v = raw.select(unquote(pl.col(k), escapes=k not in _PLAIN).alias(k) for k in KEYS)
        c = pl.col
        is_fortigate = c("type").is_in(["traffic", "utm", "event"]) & (
            c("date").is_not_null() | c("eventtime").is_not_null()
        )
        local = (c("date") + pl.lit(" ") + c("time")).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
        offset = c("tz").str.replace(r"^([+-]\d\d):?(\d\d)$", "$1$2")
        with_offset = (c("date") + pl.lit(" ") + c("time") + offset).str.to_datetime(
            "%Y-%m-%d %H:%M:%S%z", strict=False, time_unit="us"
        )
        ts = epoch_any_to_utc(c("eventtime"))
        if clock:
            ts = pl.coalesce(ts, with_offset.dt.convert_time_zone("UTC"), local_to_utc(local, meta.tz))
        is_dns = (c("subtype") == "dns") | c("qname").is_not_null()
        scheme = (
            pl.when(c("service").str.to_lowercase().str.starts_with("https") | (c("dstport") == "443"))
            .then(pl.lit("https://"))
            .otherwise(pl.lit("http://"))
        )
        url = (
            pl.when(is_dns)
            .then(None)
            .when(c("url").str.contains("://"))
            .then(c("url"))
            .when(c("hostname").is_not_null())
            .then(scheme + c("hostname") + pl.coalesce(c("url"), pl.lit("/")))
            .otherwise(None)
        )
        method = (
            pl.when(is_dns)
            .then(pl.lit("DNS"))
            .otherwise(
                pl.coalesce(
                    c("httpmethod").str.to_uppercase(),
                    pl.when(c("method").str.to_uppercase().is_in(_HTTP_VERBS)).then(c("method").str.to_uppercase()),
                )
            )
        )
        out = v.select(
            ts.alias("ts"),
            c("devname").alias("observer"),
            normalise_user(c("user")).alias("user"),
            c("group").alias("user_group"),
            c("srcip").alias("client_ip"),
            c("srcname").alias("client_host"),
            c("dstip").alias("dst_ip"),
            c("dstport").cast(pl.Int32, strict=False).alias("dst_port"),
            fortigate_action(c("action"), c("utmaction"), c("eventtype"), c("msg")).alias("action"),
            c("msg").alias("reason"),
            c("catdesc").alias("category"),
            method.alias("method"),
            url.alias("url"),
            pl.when(is_dns).then(c("qname")).otherwise(c("hostname")).alias("host"),
            c("rcvdbyte").cast(pl.Int64, strict=False).alias("bytes_in"),
            c("sentbyte").cast(pl.Int64, strict=False).alias("bytes_out"),
            (c("duration").cast(pl.Float64, strict=False) * 1000)
            .round(0)
            .cast(pl.Int32, strict=False)
            .alias("duration_ms"),
            c("agent").alias("user_agent"),
            c("referralurl").alias("referrer"),
            pl.when(is_fortigate).then(None).otherwise(pl.lit("not_fortigate")).alias("_reject"),
        )
        return out
