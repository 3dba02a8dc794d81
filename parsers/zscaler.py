"""Zscaler Internet Access NSS web log: the key=value feed and the TAB-separated feed.

The NSS feed format is a template the admin writes, so two common shapes are read:
- key=value, TAB- or blank-separated (values such as `time` and `ua` contain blanks), e.g.
  `time=Mon Nov 23 17:05:06 2026<TAB>login=alice@school.example<TAB>proto=HTTPS<TAB>eurl=www.example.com/x
  <TAB>action=Blocked<TAB>urlcat=Gambling<TAB>cip=10.1.2.3<TAB>sip=198.51.100.66<TAB>reqmethod=GET ...`;
- TAB-separated values without keys in the column order of `DEFAULT_TAB_COLUMNS` (the usual web feed
  template); a source may give its own order as `options["zscaler_columns"]` (a list of NSS field names).
Keys read: time or epochtime, login, dept, cip, sip, proto, eurl, reqmethod, respcode, reqsize, respsize,
ua, ereferer, action, urlcat, urlsupercat, ruletype, rulelabel, contenttype, devicehostname, location.

Output: ts (`time` in the feed's timezone, which is the source timezone here; `epochtime` is UTC),
user (login), user_group (dept), client_ip, client_host (device host name), dst_ip, url (`eurl` has no
scheme: https for proto HTTPS/SSL, else http; NSS `%HH` escapes kept), method, status, bytes_in
(respsize), bytes_out (reqsize), user_agent, referrer, category (urlcat, else urlsupercat), reason
(rule type and label), content_type. `None`/`NA` values are null.
Actions: Allowed -> allowed, Blocked -> blocked, Caution -> warned (a caution the user clicked through is
logged as Allowed, which this format cannot tell apart from a plain allow).
Cannot tell us: a JSON (Splunk HEC) feed is not read by this parser; the template decides which fields exist.
Worked example (the kv line above): user alice@school.example, action blocked, category Gambling,
url https://www.example.com/x.
"""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta
from parsers.keyvalue import none_if, tab_pairs, tabify_spaced, vendor_action
from parsers.timeutil import epoch_to_utc, local_to_utc
from parsers.users import normalise_user

DEFAULT_TAB_COLUMNS: tuple[str, ...] = (
    "time", "login", "proto", "eurl", "action", "appname", "appclass", "reqsize", "respsize", "urlclass",
    "urlsupercat", "urlcat", "malwarecat", "threatname", "riskscore", "dlpeng", "dlpdict", "location", "dept",
    "cip", "sip", "reqmethod", "respcode", "ua", "ereferer", "ruletype", "rulelabel", "contenttype",
    "unscannabletype", "deviceowner", "devicehostname",
)
_WANTED = (
    "time", "epochtime", "login", "dept", "cip", "sip", "proto", "eurl", "reqmethod", "respcode", "reqsize",
    "respsize", "ua", "ereferer", "action", "urlcat", "urlsupercat", "ruletype", "rulelabel", "contenttype",
    "devicehostname",
)
_CTIME = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \d{4}"
_KV = r"(?:^|\s)(?:eurl|url)=\S"
_KV_STRONG = r"(?:^|\s)eurl=\S.*(?:^|\s)(?:urlcat|login|cip)=|(?:^|\s)(?:urlcat|login|cip)=.*(?:^|\s)eurl=\S"
_TAB = r"^" + _CTIME + r"\t[^\t]*\t(?:HTTPS?|SSL|FTP|HTTP_PROXY|TUNNEL|DNS)?\t"
_PLACEHOLDERS = ("None", "NA", "N/A")


class ZscalerParser(BaseParser):
    """Zscaler ZIA NSS web log in key=value or TAB-separated feed format."""

    name: ClassVar[str] = "zscaler"
    description: ClassVar[str] = "Zscaler ZIA NSS web log (key=value and TAB-separated feeds)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_nss_web": "neither a key=value NSS record with eurl= nor a TAB feed row starting with a time",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines that are key=value NSS records (eurl plus urlcat/login/cip) or TAB feed rows."""
        lines = [s for s in sample if s and s.strip()]
        if not lines:
            return 0.0
        s = pl.Series(lines, dtype=pl.String)
        hit = s.str.contains(_KV_STRONG) | s.str.contains(_TAB)
        return float(hit.cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Per wanted field: one kv extraction, or a position in the TAB split; rows choose per line."""
        columns = tuple(meta.options.get("zscaler_columns", DEFAULT_TAB_COLUMNS))
        body = pl.col("body")
        df = batch.select(
            body.str.contains(_KV).alias("_kv"),
            body.str.contains(r"^" + _CTIME + r"\t").alias("_tab"),
            tabify_spaced(body).alias("_t"),
            body.str.split("\t").alias("_f"),
        )
        # One split + pivot for every wanted key (exactly tab_value per key, at a fraction of the cost).
        kv = tab_pairs(df["_t"], _WANTED, require_equals=True)
        df = pl.concat([df, kv.rename({k: f"_kv_{k}" for k in _WANTED})], how="horizontal")
        df = df.with_columns(
            none_if(
                pl.when(pl.col("_kv"))
                .then(pl.col(f"_kv_{k}"))
                .when(pl.col("_tab") & pl.lit(k in columns))
                .then(pl.col("_f").list.get(columns.index(k) if k in columns else 0, null_on_oob=True))
                .str.strip_chars(),
                *_PLACEHOLDERS,
            ).alias(k)
            for k in _WANTED
        )
        c = pl.col
        proto = c("proto").fill_null("").str.to_uppercase()
        scheme = pl.when(proto.is_in(["HTTPS", "SSL"])).then(pl.lit("https://")).otherwise(pl.lit("http://"))
        url = pl.when(c("eurl").str.contains("://")).then(c("eurl")).otherwise(scheme + c("eurl"))
        when_text = c("time").str.replace_all(r"\s+", " ").str.to_datetime("%a %b %e %H:%M:%S %Y", strict=False)
        ok = c("_kv") | c("_tab")
        return df.select(
            pl.coalesce(epoch_to_utc(c("epochtime")), local_to_utc(when_text, meta.tz)).alias("ts"),
            normalise_user(c("login")).alias("user"),
            c("dept").alias("user_group"),
            c("cip").alias("client_ip"),
            c("devicehostname").alias("client_host"),
            c("sip").alias("dst_ip"),
            url.alias("url"),
            c("reqmethod").str.to_uppercase().alias("method"),
            c("respcode").cast(pl.Int32, strict=False).alias("status"),
            c("respsize").cast(pl.Int64, strict=False).alias("bytes_in"),
            c("reqsize").cast(pl.Int64, strict=False).alias("bytes_out"),
            c("ua").alias("user_agent"),
            c("ereferer").alias("referrer"),
            vendor_action(c("action")).alias("action"),
            pl.coalesce(c("urlcat"), c("urlsupercat")).alias("category"),
            pl.concat_str([c("ruletype"), c("rulelabel")], separator=": ", ignore_nulls=True).alias("reason"),
            c("contenttype").alias("content_type"),
            pl.when(ok).then(None).otherwise(pl.lit("not_nss_web")).alias("_reject"),
        )
