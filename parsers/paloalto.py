"""Palo Alto Networks PAN-OS syslog CSV: TRAFFIC and THREAT (URL filtering is THREAT subtype `url`).

Layout (PAN-OS "Syslog Field Descriptions"; 0-based): 0 future use, 1 receive time, 2 serial, 3 type,
4 subtype, 5 config version, 6 generated time, 7 src, 8 dst, 9/10 NAT src/dst, 11 rule, 12 src user,
13 dst user, 14 application, ..., 24 sport, 25 dport, ..., 29 protocol, 30 action. Then
THREAT: 31 URL/filename (quoted, no scheme), 32 threat id (`(9999)` for URLs), 33 URL category,
34 severity, 41 content type, then by version: PAN-OS 6.1 and later 45 URL index, 46 user agent,
48 X-Forwarded-For, 49 referer, 59 device name, 63 HTTP method; PAN-OS 6.0 and earlier had no URL
index, so user agent 45, X-Forwarded-For 47, referer 48 (told apart by field count: at most 53 fields).
TRAFFIC: 31 bytes, 32 bytes sent, 33 bytes received, 34 packets, 35 start, 36 elapsed seconds,
37 URL category (`any` = none), 52 device name. Later versions append fields; extra trailing fields
are ignored, so PAN-OS 7.x to 11.x lines parse by the same positions. Fields with commas are quoted.
Example: `1,2026/11/23 17:05:06,012801096514,THREAT,url,2561,2026/11/23 17:05:06,10.1.2.3,
142.250.187.228,...,Allow-Web,school\\alice,...,443,...,tcp,block-url,"www.example.com/x",(9999),
adult,...`

Output: ts (generated time, firewall local time read in the source timezone), client_ip, dst_ip,
dst_port, user (`DOMAIN\\user` -> `user@domain`), action, reason (`rule <name>`; threats add subtype and
threat id), category, url (scheme from the port: 443 -> https, else http), method, user_agent,
referrer, content_type, observer (device name), bytes and duration for TRAFFIC.
Actions: `allow`, `alert` -> allowed; `block-url`, `deny`, `drop`, `reset-*`, `block-override`,
`override-lockout`, `sinkhole` -> blocked; `block-continue` (continue page shown) -> warned;
`continue`, `override` (the user went on) -> proceeded. Unknown words -> null (reason keeps the word).
Cannot tell us: the full URL scheme (inferred from the port), search terms beyond the logged URL,
anything for SYSTEM/CONFIG/USERID/GLOBALPROTECT logs (rejected as unsupported_log_type).
Worked example (the line above): action blocked, user alice@school, category adult,
url https://www.example.com/x.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.keyvalue import none_if, vendor_action
from parsers.timeutil import local_to_utc
from parsers.users import normalise_user

_HEAD = r"^\d*,\d{4}/\d\d/\d\d \d\d:\d\d:\d\d,[^,]*,(?P<type>[A-Z]+),"
_DETECT = r"^\d*,\d{4}/\d\d/\d\d \d\d:\d\d:\d\d,[^,]*,(?:TRAFFIC|THREAT|SYSTEM|CONFIG|HIPMATCH|GLOBALPROTECT|USERID|DECRYPTION|AUTH|CORRELATION|TUNNEL|SCTP|IPTAG),"  # noqa: E501
# One CSV field: quoted (with "" for a quote) or bare; the leading comma is stripped afterwards.
_FIELD = r'(?:^|,)("(?:[^"]|"")*"|[^,]*)'
_OLD_THREAT_MAX_FIELDS = 53
_PAN_ACTIONS = {"alert": "allowed", "allow": "allowed", "continue": "proceeded", "override": "proceeded"}


def _time(text: pl.Expr, tz: str) -> pl.Expr:
    return local_to_utc(text.str.to_datetime("%Y/%m/%d %H:%M:%S", strict=False), tz)


class PaloAltoParser(BaseParser):
    """PAN-OS syslog CSV, TRAFFIC and THREAT (url, virus, spyware, vulnerability, file...)."""

    name: ClassVar[str] = "paloalto"
    description: ClassVar[str] = "Palo Alto Networks PAN-OS syslog CSV (TRAFFIC, THREAT/url)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_panos_csv": "the body does not start like a PAN-OS record (n,YYYY/MM/DD hh:mm:ss,serial,TYPE,)",
        "unsupported_log_type": "a PAN-OS log type with no web or traffic event (SYSTEM, CONFIG, USERID...)",
        "too_few_fields": "a TRAFFIC or THREAT record that ends before its action/URL/category fields",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines with the PAN-OS CSV header (receive time, serial, log type)."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """One vectorised CSV field split per line, then positions chosen by log type and version."""
        df = batch.select(
            pl.col("body").str.extract(_HEAD, 1).alias("_type"),
            pl.col("body").str.extract_all(_FIELD).alias("_f"),
        ).with_columns(pl.col("_f").list.len().alias("_n"))
        f = pl.col("_f")
        n = pl.col("_n")

        def at(i: int) -> pl.Expr:
            raw = f.list.get(i, null_on_oob=True).str.strip_prefix(",")
            quoted = raw.str.starts_with('"') & raw.str.ends_with('"') & (raw.str.len_chars() >= 2)
            inner = raw.str.slice(1, raw.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
            return pl.when(quoted).then(inner).otherwise(raw)

        def pick(old: int, new: int) -> pl.Expr:
            return pl.when(n <= _OLD_THREAT_MAX_FIELDS).then(at(old)).otherwise(at(new))

        kind = pl.col("_type")
        threat = kind == "THREAT"
        traffic = kind == "TRAFFIC"
        subtype = at(4)
        is_url = threat & (subtype == "url")
        dport = at(25).cast(pl.Int32, strict=False)
        url_text = at(31)
        scheme = pl.when(dport == 443).then(pl.lit("https://")).otherwise(pl.lit("http://"))
        url = pl.when(url_text.str.contains("://")).then(url_text).otherwise(scheme + url_text)
        rule = pl.lit("rule ") + at(11)
        threat_reason = pl.concat_str([subtype, pl.lit(" "), at(32), pl.lit(" ("), rule, pl.lit(")")])
        action_word = at(30)
        device = pl.when(threat).then(at(59)).when(traffic).then(at(52))
        elapsed = at(36).cast(pl.Int64, strict=False)
        out = df.select(
            pl.coalesce(_time(at(6), meta.tz), _time(at(1), meta.tz)).alias("ts"),
            pl.when((threat & (n > _OLD_THREAT_MAX_FIELDS)) | traffic).then(device).alias("observer"),
            at(7).alias("client_ip"),
            at(8).alias("dst_ip"),
            dport.alias("dst_port"),
            normalise_user(at(12)).alias("user"),
            vendor_action(action_word, _PAN_ACTIONS).alias("action"),
            pl.when(is_url | traffic).then(rule).when(threat).then(threat_reason).alias("reason"),
            pl.when(threat)
            .then(none_if(at(33), "any", "(9999)"))
            .when(traffic)
            .then(none_if(at(37), "any"))
            .alias("category"),
            pl.when(is_url).then(url).alias("url"),
            pl.when(is_url & (n > _OLD_THREAT_MAX_FIELDS)).then(at(63).str.to_uppercase()).alias("method"),
            pl.when(threat).then(pick(45, 46)).alias("user_agent"),
            pl.when(threat).then(pick(48, 49)).alias("referrer"),
            pl.when(threat).then(at(41)).alias("content_type"),
            pl.when(traffic).then(at(33).cast(pl.Int64, strict=False)).alias("bytes_in"),
            pl.when(traffic).then(at(32).cast(pl.Int64, strict=False)).alias("bytes_out"),
            pl.when(traffic & (elapsed < 2_000_000)).then(elapsed * 1000).cast(pl.Int32).alias("duration_ms"),
            pl.when(kind.is_null())
            .then(pl.lit("not_panos_csv"))
            .when(~threat & ~traffic)
            .then(pl.lit("unsupported_log_type"))
            .when((threat & (n < 34)) | (traffic & (n < 38)))
            .then(pl.lit("too_few_fields"))
            .otherwise(None)
            .alias("_reject"),
        )
        return out.with_columns(
            none_if(pl.col("method"), "UNKNOWN").alias("method"),
            none_if(pl.col("user_agent"), "unknown").alias("user_agent"),
        )
