"""Unbound resolver logs (pfSense/OPNsense DNS Resolver): queries, replies and local-zone actions.

Layout after the syslog tag: `[<pid>:<thread>] <level>: <message>`; Unbound's own log file starts the
line with `[<epoch>] unbound[<pid>:<thread>] `. Messages read:
- `log-queries: yes`: `info: <client-ip> <qname>. <type> <class>`;
- `log-replies: yes`: `reply: <client-ip> <qname>. <type> <class> <rcode> <seconds> <cached> <size>`;
- `log-local-actions: yes`: `info: <zone>. <zone-type> <client-ip>@<port> <qname>. <type> <class>`.
Example: `Nov 23 17:05:06 fw unbound[4321]: [4321:1] info: 10.1.2.3 www.example.com. A IN`.

Output: ts (epoch prefix, else the syslog header), client_ip, method `DNS`, host (query name without
the trailing dot), action, reason (local-zone lines: `local-zone <zone> <type>`; replies other than
NOERROR: the rcode), duration_ms (replies).
Actions: queries and replies -> allowed; local-zone types always_nxdomain, always_refuse, always_null,
deny, refuse, redirect, static, inform_deny, inform_redirect (how pfBlockerNG/DNSBL sinkholes) ->
blocked; transparent, typetransparent, inform, always_transparent, nodefault -> allowed.
With both log-queries and log-replies on, one lookup gives a query row and a reply row; with
log-local-actions as well, a local-zone row too (enable one of them where you can).
Cannot tell us: users, categories; whether a NXDOMAIN reply was a block (only local-zone lines say).
Worked example (the line above): client_ip 10.1.2.3, host www.example.com, action allowed.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.timeutil import epoch_to_utc

_LINE = (
    r"^(?:\[(?P<epoch>\d{9,11})\] )?(?:unbound)?(?:\[\d+:\w+\] )?(?:(?P<lvl>info|reply|query|debug|notice): )?"
    r"(?:(?P<ip>[0-9A-Fa-f.:]+) (?P<qname>\S*\.) (?P<qtype>[A-Z][A-Z0-9]*) (?P<qclass>IN|CH|HS|ANY|CLASS\d+)"
    r"(?: (?P<rcode>[A-Z]+) (?P<secs>\d+\.\d+) (?P<cached>\d) (?P<size>\d+))?"
    r"|(?P<zone>\S*\.) (?P<ztype>[a-z_]+) (?P<lip>[0-9A-Fa-f.:]+)@\d+ (?P<lname>\S*\.) [A-Z][A-Z0-9]* \S+)\s*$"
)
_DETECT = (
    r"^(?:\[\d{9,11}\] )?(?:unbound)?(?:\[\d+:\w+\] )?(?:info|reply|query): (?:[0-9A-Fa-f.:]+ \S*\. [A-Z][A-Z0-9]* "
    r"(?:IN|CH|HS|ANY|CLASS\d+)|\S*\. [a-z_]+ [0-9A-Fa-f.:]+@\d+ )"
)
_LOCAL_ACTIONS = {
    **dict.fromkeys(
        ["always_nxdomain", "always_refuse", "always_null", "deny", "refuse", "redirect", "static", "inform_deny",
         "inform_redirect", "always_deny"],
        "blocked",
    ),
    **dict.fromkeys(["transparent", "typetransparent", "inform", "always_transparent", "nodefault"], "allowed"),
}


class UnboundParser(BaseParser):
    """Unbound query, reply and local-zone action lines."""

    name: ClassVar[str] = "unbound"
    description: ClassVar[str] = "Unbound resolver query/reply/local-zone logs (pfSense/OPNsense resolver)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_unbound_query": "an Unbound line that is not a query, reply or local-zone action (start-up etc.)",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines that are Unbound query/reply/local-zone lines with the `[pid:thread]` tag."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """One regex per line, materialised; local-zone and query/reply rows are told apart by group."""
        del meta
        g = batch.select(pl.col("body").str.extract_groups(_LINE).alias("g")).unnest("g")
        c = pl.col
        local = c("ztype").is_not_null()
        query = c("qname").is_not_null()
        rcode = c("rcode")
        return g.select(
            epoch_to_utc(c("epoch")).alias("ts"),
            pl.coalesce(c("ip"), c("lip")).alias("client_ip"),
            pl.lit("DNS").alias("method"),
            pl.coalesce(c("qname"), c("lname")).str.strip_suffix(".").alias("host"),
            pl.when(local)
            .then(c("ztype").replace_strict(_LOCAL_ACTIONS, default=None, return_dtype=pl.String))
            .when(query)
            .then(pl.lit("allowed"))
            .alias("action"),
            pl.when(local)
            .then(pl.concat_str([pl.lit("local-zone"), c("zone"), c("ztype")], separator=" "))
            .when(rcode.is_not_null() & (rcode != "NOERROR"))
            .then(rcode)
            .alias("reason"),
            (c("secs").cast(pl.Float64, strict=False) * 1000).round(0).cast(pl.Int32, strict=False)
            .alias("duration_ms"),
            pl.when(local | query).then(None).otherwise(pl.lit("not_unbound_query")).alias("_reject"),
        )
