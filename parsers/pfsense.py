"""pfSense / OPNsense packet-filter log (`filterlog`), the CSV body after any syslog envelope.

Layout (Netgate "Raw Filter Log Format"): `rule,subrule,anchor,tracker,interface,reason,action,direction,
ipversion,` then IPv4 `tos,ecn,ttl,id,offset,flags,protoid,prototext` or IPv6 `class,flowlabel,hoplimit,
prototext,protoid` (text before id: the reverse of IPv4), then `length,src,dst`, then for tcp/udp
`srcport,dstport,datalen` (tcp adds flags, seq, ack, window, urg, options), for icmp type-specific fields.
Example (RFC 3164 envelope, which is stripped before this parser):
`Nov 23 17:05:06 fw filterlog[4321]: 5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,10.1.2.3,
198.51.100.7,51515,443,0,S,123,,64240,,mss`

Output: ts and observer from the syslog header (the CSV has neither; finish() falls back on them),
client_ip (src), dst_ip, dst_port (tcp/udp only), action, reason (`rule <tracker> <action> <dir> on <if>
(<proto>)`), bytes_out (the IP packet length: one packet, not a session).
Actions: `pass` -> allowed; `block`, `reject` -> blocked.
Cannot tell us: user, URL, host name or category; byte counts are per packet.
Worked example (the line above, tz Europe/London, now 2026-11-24): ts 2026-11-23T17:05:06Z, client_ip
10.1.2.3, dst_ip 198.51.100.7, dst_port 443, action blocked, reason `rule 1000000103 block in on igb1 (tcp)`.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.timeutil import iso_to_utc

_HEAD = r"^\d*,[^,]*,[^,]*,[^,]*,[^,]+,[^,]*,(?:pass|block|reject),(?:in|out),(?:4|6),"
_DETECT = r"^(?:1 \d{4}-\S+ \S+ \S+ \S+ \S+ (?:-|\[.*?\]) )?" + _HEAD[1:] + r"[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,"
# pfSense/OPNsense RFC 5424 log files omit the PRI (`1 2021-08-04T06:59:07.69+04:00 fw filterlog 1 - - ...`),
# which the shared framing does not take for an envelope; this parser strips that form itself.
_NOPRI_5424 = (
    r"^1 (?P<ts>\d{4}-\d\d-\d\d[Tt]\S+) (?P<host>\S+) \S+ \S+ \S+ "
    r"(?:-|(?:\[(?:[^\]\\]|\\.)*\])+) (?P<msg>.*)$"
)
_ACTIONS = {"pass": "allowed", "block": "blocked", "reject": "blocked"}


class PfsenseParser(BaseParser):
    """pfSense/OPNsense filterlog CSV (IPv4 and IPv6; tcp, udp, icmp and others)."""

    name: ClassVar[str] = "pfsense"
    description: ClassVar[str] = "pfSense / OPNsense filterlog CSV (packet filter pass/block)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_filterlog": "the body is not a filterlog CSV record (rule,...,action,direction,ipversion,...)",
        "truncated_record": "the record ends before the source and destination addresses",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines with the filterlog CSV header fields."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Split the CSV once, then pick fields by IP-version-dependent position."""
        env = batch.select(pl.col("body"), pl.col("body").str.extract_groups(_NOPRI_5424).alias("e"))
        env = env.unnest("e")
        df = env.select(
            pl.coalesce(pl.col("msg"), pl.col("body")).str.contains(_HEAD).fill_null(False).alias("_ok"),
            pl.coalesce(pl.col("msg"), pl.col("body")).str.split(",").alias("_f"),
            iso_to_utc(pl.col("ts"), meta.tz).alias("_ts"),
            pl.col("host").alias("_host"),
        )
        f = pl.col("_f")

        def at(i: int) -> pl.Expr:
            return f.list.get(i, null_on_oob=True)

        v6 = at(8) == "6"
        proto = pl.when(v6).then(at(12)).otherwise(at(16)).str.to_lowercase()
        length = pl.when(v6).then(at(14)).otherwise(at(17))
        src = pl.when(v6).then(at(15)).otherwise(at(18))
        dst = pl.when(v6).then(at(16)).otherwise(at(19))
        dport = pl.when(v6).then(at(18)).otherwise(at(21))
        ported = proto.is_in(["tcp", "udp", "sctp"])
        action = at(6).replace_strict(_ACTIONS, default=None, return_dtype=pl.String)
        reason = pl.concat_str(
            [pl.lit("rule "), pl.coalesce(at(3).replace("", None), at(0)), pl.lit(" "), at(6), pl.lit(" "),
             at(7), pl.lit(" on "), at(4), pl.lit(" ("), pl.coalesce(proto, pl.lit("?")), pl.lit(")")],
        )
        has_addr = src.fill_null("").str.contains(r"^[0-9A-Fa-f.:]+$") & dst.fill_null("").str.contains(
            r"^[0-9A-Fa-f.:]+$"
        )
        ok = pl.col("_ok")
        return df.select(
            pl.col("_ts").alias("ts"),
            pl.col("_host").alias("observer"),
            pl.when(ok).then(src).alias("client_ip"),
            pl.when(ok).then(dst).alias("dst_ip"),
            pl.when(ok & ported).then(dport.cast(pl.Int32, strict=False)).alias("dst_port"),
            pl.when(ok).then(action).alias("action"),
            pl.when(ok).then(reason).alias("reason"),
            pl.when(ok).then(length.cast(pl.Int64, strict=False)).alias("bytes_out"),
            pl.when(~ok)
            .then(pl.lit("not_filterlog"))
            .when(~has_addr)
            .then(pl.lit("truncated_record"))
            .otherwise(None)
            .alias("_reject"),
        )
