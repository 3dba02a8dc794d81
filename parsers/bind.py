"""BIND 9 query log (`category queries`) and response-policy-zone (`category rpz`) lines.

Layout: `[dd-Mon-YYYY hh:mm:ss.mmm ][queries: ][info: ]client [@0x7f...] <ip>#<port> [(<qname>)]:
[view <v>: ]query: <qname> <class> <type> <flags> (<server-ip>)`; the optional parts depend on the
channel's print-time/print-category/print-severity settings, `@0x...` appears in BIND 9.11 and later,
and a syslog channel puts the syslog header first (stripped before this parser).
RPZ: `client [@0x...] <ip>#<port> (<qname>): [view <v>: ]rpz QNAME NXDOMAIN rewrite <qname>/<type>/<class>
via <policy-owner-name>` (trigger QNAME/IP/NSDNAME/NSIP/CLIENT-IP).
Example: `23-Nov-2026 17:05:06.351 queries: info: client @0x7f8b4c0a1b20 10.1.2.3#55575
(www.example.com): query: www.example.com IN AAAA +E(0)K (10.0.0.53)`

Output: ts (the line's own time in the source timezone, else the syslog header's), client_ip, dst_ip
(the server address the query arrived on), method `DNS`, host (query name, no trailing dot), action,
reason (RPZ: `rpz <trigger> <policy> via <owner>`).
Actions: RPZ NXDOMAIN, NODATA, Local-Data and DROP rewrites -> blocked; PASSTHRU and DISABLED ->
allowed; a CNAME rewrite is a redirect the line does not explain (SafeSearch or walled garden): null.
A query line (BIND logs the question, not the answer) -> allowed, unless an RPZ line for the same client
and name lies within 5 lines of it in the batch, whose action and reason it then takes; so a sinkholed
query gives two rows (query and rpz), both blocked.
Cannot tell us: the answer, the user, or a category; the query type has no column (kept in raw).
Worked example (the line above, tz Europe/London): ts 2026-11-23T17:05:06.351Z, client_ip 10.1.2.3,
host www.example.com, dst_ip 10.0.0.53, action allowed.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.timeutil import local_to_utc

_PREFIX = (
    r"^(?:(?P<date>\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d(?:\.\d+)?) )?(?:(?P<cat>[a-z-]+): )?"
    r"(?:(?:info|notice|warning|error|critical|debug(?: \d+)?): )?client (?:@0x[0-9a-fA-F]+ )?"
    r"(?P<client>[0-9A-Fa-f.:]+)#(?P<port>\d+)(?: \((?P<paren>[^)]*)\))?: (?:view (?P<view>[^:\s]+): )?"
    r"(?P<kind>query: |rpz )(?P<rest>.*)$"
)
_QUERY = r"^(?P<qname>\S+) (?P<qclass>[A-Z]+\d*) (?P<qtype>\S+) (?P<flags>\S*) \((?P<server>[^)]*)\)"
_RPZ = (
    r"^(?P<trigger>[A-Z-]+) (?P<policy>[A-Za-z-]+) rewrite (?P<rname>[^/\s]+)(?:/\S+)?"
    r"(?: via (?P<via>\S+))?"
)
_DETECT = r"(?:^|\s)client (?:@0x[0-9a-fA-F]+ )?[0-9A-Fa-f.:]+#\d+(?: \([^)]*\))?: (?:view [^:\s]+: )?(?:query: |rpz )"
_FOLD_WINDOW = 5
_RPZ_ACTIONS = {
    "NXDOMAIN": "blocked", "NODATA": "blocked", "LOCAL-DATA": "blocked", "DROP": "blocked",
    "PASSTHRU": "allowed", "DISABLED": "allowed", "TCP-ONLY": "allowed",
}


class BindParser(BaseParser):
    """BIND 9 query log and RPZ rewrite lines."""

    name: ClassVar[str] = "bind"
    description: ClassVar[str] = "BIND 9 query log (category queries) and RPZ rewrites (category rpz)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_bind_query": "not a BIND `client ...: query:` or `client ...: rpz` line (other categories)",
        "bad_query_fields": "a query line without `<name> <class> <type> <flags> (<server>)`",
    }
    row_independent: ClassVar[bool] = False  # folds nearby lines: a batch must not be cut for threads

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines with BIND's `client <ip>#<port> ...: query:` / `rpz` shape."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Prefix regex once, then the query or RPZ tail regex, all materialised as columns."""
        g = batch.select(pl.col("body").str.extract_groups(_PREFIX).alias("g")).unnest("g")
        g = g.with_columns(
            pl.col("rest").str.extract_groups(_QUERY).alias("q"),
            pl.col("rest").str.extract_groups(_RPZ).alias("r"),
        ).unnest("q", "r")
        c = pl.col
        is_query = c("kind") == "query: "
        is_rpz = c("kind") == "rpz "
        policy = c("policy").str.to_uppercase()
        rpz_reason = pl.concat_str(
            [pl.lit("rpz "), c("trigger"), pl.lit(" "), c("policy"), pl.lit(" via "), c("via")], ignore_nulls=True
        )
        name = pl.when(is_query).then(c("qname")).when(is_rpz).then(pl.coalesce(c("rname"), c("paren")))
        g = g.with_columns(
            name.alias("_name"),
            pl.when(is_rpz).then(policy.replace_strict(_RPZ_ACTIONS, default=None, return_dtype=pl.String))
            .alias("_rpz_action"),
            pl.when(is_rpz).then(rpz_reason).alias("_rpz_reason"),
        )
        key = c("client") + pl.lit("|") + c("_name").str.to_lowercase().str.strip_suffix(".")
        g = g.with_columns(pl.when(is_rpz).then(key).alias("_rpz_key"), key.alias("_key"))
        near = [k for k in range(-_FOLD_WINDOW, _FOLD_WINDOW + 1) if k]
        hit = [c("_rpz_key").shift(k) == c("_key") for k in near]
        pairs = list(zip(hit, near, strict=True))
        folded_action = pl.coalesce([pl.when(h).then(c("_rpz_action").shift(k)) for h, k in pairs])
        folded_reason = pl.coalesce([pl.when(h).then(c("_rpz_reason").shift(k)) for h, k in pairs])
        return g.select(
            local_to_utc(c("date").str.to_datetime("%d-%b-%Y %H:%M:%S%.f", strict=False), meta.tz).alias("ts"),
            c("client").alias("client_ip"),
            pl.when(is_query).then(c("server")).alias("dst_ip"),
            pl.lit("DNS").alias("method"),
            c("_name").alias("host"),
            pl.when(is_query).then(pl.coalesce(folded_action, pl.lit("allowed"))).otherwise(c("_rpz_action"))
            .alias("action"),
            pl.when(is_query).then(folded_reason).otherwise(c("_rpz_reason")).alias("reason"),
            pl.when(c("kind").is_null())
            .then(pl.lit("not_bind_query"))
            .when(is_query & c("qname").is_null())
            .then(pl.lit("bad_query_fields"))
            .when(is_rpz & c("policy").is_null())
            .then(pl.lit("bad_query_fields"))
            .otherwise(None)
            .alias("_reject"),
        )
