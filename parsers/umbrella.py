"""Cisco Umbrella log export CSV (S3 bucket): DNS logs and proxy (Secure Web Gateway) logs.

Every field is double-quoted and comma-separated; real files sometimes have a blank after the comma.
DNS layout: 0 timestamp (UTC, `YYYY-MM-DD hh:mm:ss`), 1 most granular identity, 2 identities,
3 internal IP, 4 external IP, 5 action (Allowed/Blocked), 6 query type (`1 (A)`), 7 response code,
8 domain (trailing dot), 9 categories (comma list), 10 most granular identity type, 11 identity types,
12 blocked categories, then later schema versions append rule id, countries, organisation id.
Proxy layout: 0 timestamp, 1 identity, 2 internal IP, 3 external IP, 4 destination IP, 5 content type,
6 action, 7 URL, 8 referer, 9 user agent, 10 status, 11 request size, 12 response size, 13 body size,
14 sha256, 15 categories, 16-20 AV/AMP, 21 identity type, 22 blocked categories, 23 identities,
24 identity types, 25 request method, ..., 34 warn status; later versions append more.
Example: `"2026-11-23 17:05:06","Alice Smith (alice@school.example)","Alice Smith (alice@school.example),
School Network","10.1.2.3","203.0.113.5","Blocked","1 (A)","NOERROR","casino.example.","Gambling",
"AD Users","AD Users,Networks","Gambling"`

Output: ts (UTC), user (the e-mail in brackets of a user identity, or the identity itself when its type
is a user type), client_host (computer identities), client_ip (internal IP), action, reason (`blocked
categories: ...`), category (`;`-joined), DNS rows `method = DNS` and host = domain; proxy rows url,
dst_ip, method, status, bytes, user_agent, referrer, content_type.
Actions: Allowed -> allowed, Blocked -> blocked, Warned -> warned; a proxy warn status that says the
user proceeded -> proceeded.
Cannot tell us: the DNS query type has no column (kept in raw); network identities give no user.
Worked example (the line above): user alice@school.example, action blocked, host casino.example,
category Gambling, reason `blocked categories: Gambling`.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.keyvalue import none_if, vendor_action
from parsers.timeutil import local_to_utc
from parsers.users import normalise_user

_LINE = r'^\s*"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"\s*,\s*"'
_HEADER = r'^\s*"?(?i:timestamp)"?\s*,'
_QTYPE = r"^\d+ \([A-Za-z0-9*]+\)$"
_EMAIL_IN_BRACKETS = r"\(([^()\s@]+@[^()\s]+)\)\s*$"
_COMPUTER_TYPES = ["Roaming Computers", "AD Computers", "Anyconnect Roaming Client", "Chromebook Users"]


class UmbrellaParser(BaseParser):
    """Cisco Umbrella DNS and proxy CSV exports (schema versions up to 13, trailing columns tolerated)."""

    name: ClassVar[str] = "umbrella"
    description: ClassVar[str] = "Cisco Umbrella DNS and proxy (SWG) CSV log exports"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "header_line": "the optional column-header row of an export",
        "not_umbrella_csv": "not a quoted Umbrella CSV row starting with a \"YYYY-MM-DD hh:mm:ss\" field",
        "unsupported_log_type": "an Umbrella row that is neither DNS nor proxy (cloud firewall, audit)",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines starting with a quoted timestamp field followed by another quoted field."""
        return detect_by_pattern(sample, _LINE)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Split on the `","` separators once; DNS and proxy rows are told apart by column 6."""
        del meta
        body = pl.col("body").str.strip_chars()
        df = batch.select(
            body.str.contains(_LINE).alias("_ok"),
            body.str.contains(_HEADER).alias("_hdr"),
            body.str.strip_prefix('"')
            .str.strip_suffix('"')
            .str.replace_all(r'"\s*,\s*"', "\x1f")
            .str.split("\x1f")
            .alias("_f"),
        )
        f = pl.col("_f")
        cols = {i: f"_c{i}" for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 21, 22, 25, 34)}
        df = df.with_columns(
            [none_if(f.list.get(i, null_on_oob=True).str.strip_chars(), "").alias(c) for i, c in cols.items()]
        )

        def c(i: int) -> pl.Expr:
            return pl.col(cols[i])

        dns = c(6).str.contains(_QTYPE).fill_null(False)
        proxy = ~dns & c(7).str.contains(r"^[A-Za-z][A-Za-z0-9+.-]*://").fill_null(False)
        identity = c(1)
        id_type = pl.when(dns).then(c(10)).otherwise(c(21)).fill_null("")
        email = identity.str.extract(_EMAIL_IN_BRACKETS, 1)
        user = pl.coalesce(
            email, pl.when(id_type.str.contains("User") & ~id_type.is_in(_COMPUTER_TYPES)).then(identity)
        )
        blocked_cats = pl.when(dns).then(c(12)).otherwise(c(22))
        action_word = pl.when(dns).then(c(5)).otherwise(c(6))
        action = vendor_action(action_word)
        warn = c(34).fill_null("").str.to_lowercase()
        action = pl.when(proxy & warn.str.contains("proceed")).then(pl.lit("proceeded")).otherwise(action)
        ts = local_to_utc(c(0).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False), "UTC")

        def web(expr: pl.Expr) -> pl.Expr:
            return pl.when(proxy).then(expr)

        return df.select(
            ts.alias("ts"),
            normalise_user(user).alias("user"),
            pl.when(id_type.is_in(_COMPUTER_TYPES)).then(identity).alias("client_host"),
            pl.when(dns).then(c(3)).otherwise(c(2)).alias("client_ip"),
            web(c(4)).alias("dst_ip"),
            action.alias("action"),
            pl.when(action == "blocked").then(pl.lit("blocked categories: ") + blocked_cats).alias("reason"),
            pl.when(dns).then(c(9)).otherwise(c(15)).str.replace_all(r"\s*,\s*", ";").alias("category"),
            pl.when(dns).then(pl.lit("DNS")).otherwise(web(c(25).str.to_uppercase())).alias("method"),
            pl.when(dns).then(c(8).str.strip_suffix(".")).alias("host"),
            web(c(7)).alias("url"),
            web(c(10).cast(pl.Int32, strict=False)).alias("status"),
            web(c(12).cast(pl.Int64, strict=False)).alias("bytes_in"),
            web(c(11).cast(pl.Int64, strict=False)).alias("bytes_out"),
            web(c(9)).alias("user_agent"),
            web(c(8)).alias("referrer"),
            web(c(5)).alias("content_type"),
            pl.when(pl.col("_hdr"))
            .then(pl.lit("header_line"))
            .when(~pl.col("_ok"))
            .then(pl.lit("not_umbrella_csv"))
            .when(~dns & ~proxy)
            .then(pl.lit("unsupported_log_type"))
            .otherwise(None)
            .alias("_reject"),
        )
