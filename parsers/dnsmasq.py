"""dnsmasq and Pi-hole (FTL) query logs (`log-queries`, `/var/log/pihole/pihole.log`).

Layout after the syslog tag: `[<serial> <client>/<port> ]<verb> <name> <from|to|is> <value>`, where the
optional serial/client part is `log-queries=extra`. Verbs: `query[TYPE]` (the question, `from` the
client), `forwarded` (`to` the upstream), `reply`/`cached`/`config`/`/etc/hosts` (`is` the answer) and the
Pi-hole block verbs `gravity blocked`, `regex blacklisted`, `exactly blacklisted`, `regex blocked`,
`exactly blocked`, `/etc/pihole/gravity.list` (older). OpenWrt's logread prefix
`Mon Nov 23 17:05:06 2026 daemon.info dnsmasq[1]: ` is read here too.
Example: `Nov 23 17:05:06 dnsmasq[512]: query[A] casino.example from 10.1.2.3` followed by
`Nov 23 17:05:06 dnsmasq[512]: gravity blocked casino.example is 0.0.0.0`.

Events: one per `query[...]` line (client_ip, host, method `DNS`), action allowed unless a sinkhole line
for the same name (and the same serial, in extra mode) follows within 6 lines in the batch: then
blocked, with that line as reason. A sinkhole line: a block verb, `config <name> is 0.0.0.0|::|NXDOMAIN|
NODATA`, or a reply/cached answer of `0.0.0.0`/`::` (an upstream filtering resolver). A sinkhole line
with no query before it in the batch becomes its own blocked event; every other answer line
(forwarded, reply, cached, config) is rejected as `answer_line`: it repeats its query's name and adds
only the resolved address, so storing it as an event would count each lookup three times.
Cannot tell us: users or categories; the client of a sinkhole line without `log-queries=extra` unless
its query line is in the same batch.
Worked example (the two lines above): one event, client_ip 10.1.2.3, host casino.example, action blocked,
reason `gravity blocked casino.example is 0.0.0.0`; the second line is an answer_line reject.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.timeutil import local_to_utc

_PREFIX = (
    r"^(?:(?P<ctime>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}) \S+ )?"
    r"(?:(?:dnsmasq|pihole-FTL)(?:\[\d+\])?: )?"
    r"(?:(?P<serial>\d+) (?P<eclient>[0-9A-Fa-f.:]+)/\d+ )?"
    r"(?P<verb>\S.*?) (?P<name>\S+) (?P<prep>from|to|is) (?P<val>\S.*?)\s*$"
)
_DETECT = (
    r"^(?:.*dnsmasq(?:\[\d+\])?: )?(?:\d+ [0-9A-Fa-f.:]+/\d+ )?(?:query\[[A-Za-z0-9]+\] \S+ from |"
    r"(?:forwarded \S+ to |(?:reply|cached|config|gravity blocked|\w+ blacklisted|\w+ blocked) \S+ is ))"
)
_BLOCK_VERB = r"(?i)blocked|blacklisted|denied|^/etc/pihole/"
_SINK_VALUES = ["0.0.0.0", "::"]
_FOLD_WINDOW = 6


class DnsmasqParser(BaseParser):
    """dnsmasq / Pi-hole query log: one event per query, sinkholes folded onto their query."""

    name: ClassVar[str] = "dnsmasq"
    description: ClassVar[str] = "dnsmasq and Pi-hole query logs (query/forwarded/reply/blocked lines)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_dnsmasq_query": "a dnsmasq line that is not a query, answer or block line (start-up, config...)",
        "answer_line": "a forwarded/reply/cached/config line (or a block folded onto its query): not an event",
    }
    row_independent: ClassVar[bool] = False  # folds nearby lines: a batch must not be cut for threads

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines that are dnsmasq query/forward/answer/block lines."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """One regex for the line, then shifted comparisons fold sinkhole lines onto their queries."""
        g = batch.select(pl.col("body").str.extract_groups(_PREFIX).alias("g")).unnest("g")
        c = pl.col
        verb = c("verb")
        is_query = verb.str.starts_with("query[") & (c("prep") == "from")
        sink = (c("prep") == "is") & (
            verb.str.contains(_BLOCK_VERB)
            | ((verb == "config") & c("val").is_in([*_SINK_VALUES, "NXDOMAIN", "NODATA"]))
            | (verb.is_in(["reply", "cached", "cached-stale"]) & c("val").is_in(_SINK_VALUES))
        )
        g = g.with_columns(
            is_query.fill_null(False).alias("_q"),
            sink.fill_null(False).alias("_s"),
            c("name").str.to_lowercase().str.strip_suffix(".").alias("_n"),
            pl.concat_str([verb, c("name"), pl.lit("is"), c("val")], separator=" ").alias("_why"),
        )
        ahead = range(1, _FOLD_WINDOW + 1)

        def same(k: int) -> pl.Expr:
            serial_ok = c("serial").is_null() | c("serial").shift(k).is_null() | (c("serial") == c("serial").shift(k))
            return (c("_n").shift(k) == c("_n")) & serial_ok

        block_after = pl.coalesce([pl.when(c("_s").shift(-k) & same(-k)).then(c("_why").shift(-k)) for k in ahead])
        query_before = pl.any_horizontal([(c("_q").shift(k) & same(k)).fill_null(False) for k in ahead])
        lone_sink = c("_s") & ~query_before
        event = c("_q") | lone_sink
        ctime = c("ctime").str.replace_all(r"\s+", " ").str.to_datetime("%a %b %e %H:%M:%S %Y", strict=False)
        ts = local_to_utc(ctime, meta.tz)
        return g.select(
            ts.alias("ts"),
            pl.when(c("_q")).then(pl.coalesce(c("eclient"), c("val"))).otherwise(c("eclient")).alias("client_ip"),
            pl.lit("DNS").alias("method"),
            c("_n").alias("host"),
            pl.when(lone_sink | block_after.is_not_null()).then(pl.lit("blocked")).otherwise(pl.lit("allowed"))
            .alias("action"),
            pl.when(lone_sink).then(c("_why")).otherwise(block_after).alias("reason"),
            pl.when(verb.is_null())
            .then(pl.lit("not_dnsmasq_query"))
            .when(~event)
            .then(pl.lit("answer_line"))
            .otherwise(None)
            .alias("_reject"),
        )
