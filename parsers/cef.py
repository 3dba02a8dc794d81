"""ArcSight Common Event Format (CEF), any vendor; Netsweeper CEF exports get their category numbers mapped.

Layout: `[syslog header ]CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|
Severity|Extension`; `\\|` and `\\\\` are escaped in the header; the extension is blank-separated
`key=value` where values may contain blanks (the next key starts at the last blank before an unescaped
`=`) and `\\=`, `\\\\`, `\\n`, `\\r` are escapes.
Example: `CEF:0|Acme|WebGate|2.1|url-block|URL blocked|5|rt=Nov 23 2026 17:05:06 src=10.1.2.3
suser=SCHOOL\\alice dst=198.51.100.66 dpt=443 requestMethod=GET request=https://casino.example/play
act=blocked cs1Label=URL Category cs1=Gambling requestClientApplication=Mozilla/5.0 in=512 out=1200`

Keys mapped: rt (epoch ms or s, `MMM dd yyyy HH:mm:ss[.SSS][ zone]`, `MMM dd HH:mm:ss`, ISO 8601;
else `end`/`start`, else the syslog header) -> ts; src/c6a2 -> client_ip; shost -> client_host;
dst/c6a3 -> dst_ip; dpt -> dst_port; suser, else duser -> user (FortiGate puts the user in duser);
request -> url (a path-only request is joined to dhost, https when dpt is 443); dhost -> host when
there is no URL; requestMethod -> method; requestClientApplication -> user_agent; requestContext ->
referrer when it is a URL; act -> action; a `csN` whose `csNLabel` mentions a category, else `cat`
-> category; a `csN` labelled group/policy/profile/department -> user_group; `in` -> bytes_in and
`out` -> bytes_out (vendor practice: FortiGate and PAN-OS put bytes received by the client in `in`);
`reason`, else the header Name -> reason; dvchost -> observer.
Actions: allow/accept/pass/permit/alert/monitor... -> allowed; block/deny/drop/reject/reset... ->
blocked; warn/caution/block-continue -> warned; continue/override/proceed -> proceeded;
error/failed -> error; other words -> null.
Netsweeper (Device Vendor `Netsweeper`; unverified until a school supplies real lines): a category that
is a comma list of numbers (in `cat` or a category-labelled `csN`) is mapped to names through the
`[netsweeper] categories_file` table of parsers.netsweeper; unknown numbers stay as `category <n>`.
Cannot tell us: anything a vendor keeps in unlabelled custom fields; the HTTP status has no CEF key.
Worked example (the line above, tz Europe/London): ts 2026-11-23T17:05:06Z, user alice@school, action
blocked, category Gambling, bytes_in 512, bytes_out 1200.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.keyvalue import tab_pairs, tabify_spaced, unescape_where_needed, vendor_action
from parsers.timeutil import iso_to_utc, local_to_utc, with_inferred_year
from parsers.users import normalise_user

_HF = r"((?:[^|\\]|\\.)*)"
_HEADER = r"^.*?CEF: ?(\d+)\|" + r"\|".join([_HF] * 6) + r"\|(.*)$"
_DETECT = r"(?:^|[\s:>])CEF: ?\d+\|(?:[^|\\]|\\.)*\|(?:[^|\\]|\\.)*\|(?:[^|\\]|\\.)*\|"
_KEYS = (
    "rt", "end", "start", "src", "c6a2", "shost", "dst", "c6a3", "dpt", "suser", "duser", "request", "dhost",
    "requestMethod", "requestClientApplication", "requestContext", "act", "cat", "in", "out", "reason",
    "dvchost",
    *[f"cs{i}" for i in range(1, 7)],
    *[f"cs{i}Label" for i in range(1, 7)],
)


_HEADER_ONLY = _HEADER.removesuffix(r"(.*)$")
_HEADER_NAMES = ["ver", "vendor", "product", "dver", "sig", "name", "sev"]


def cef_header(body: pl.Series) -> pl.DataFrame:
    """Columns ver, vendor, product, dver, sig, name, sev and ext (the extension) per line; null if not CEF.

    Only the header is matched, once per distinct header (they repeat per event type), and the extension
    is the rest of the line: a capturing regex over whole lines is several times slower. A batch with a
    line break inside a line keeps the full-line regex, whose `.` stops at line breaks.
    """
    if body.str.contains("\n", literal=True).any():
        h = body.to_frame("b").select(pl.col("b").str.extract_groups(_HEADER).alias("h")).unnest("h")
        return h.rename(dict(zip(h.columns, [*_HEADER_NAMES, "ext"], strict=True)))
    rows = body.to_frame("b").select(pl.col("b"), pl.col("b").str.extract(_HEADER_ONLY, 0).alias("_h"))
    heads = rows.select(pl.col("_h").unique()).drop_nulls()
    groups = heads.with_columns(pl.col("_h").str.extract_groups(_HEADER_ONLY).alias("g")).unnest("g")
    groups = groups.rename(dict(zip(groups.columns[1:], _HEADER_NAMES, strict=True)))
    rows = rows.join(groups, on="_h", how="left", maintain_order="left")
    return rows.select(*_HEADER_NAMES, pl.col("b").str.strip_prefix(pl.col("_h")).alias("ext"))


def cef_time(text: pl.Expr, tz: str, now: datetime) -> pl.Expr:
    """CEF `rt`-style time: epoch ms or s, `MMM dd yyyy HH:mm:ss[.SSS][ zone]`, `MMM dd HH:mm:ss`, ISO 8601."""
    t = text.str.strip_chars()
    digits = t.str.contains(r"^\d{9,13}$")
    n = t.cast(pl.Int64, strict=False)
    epoch = pl.when(digits & (n >= 100_000_000_000)).then(n * 1000).when(digits).then(n * 1_000_000)
    parts = t.str.extract_groups(r"^([A-Z][a-z]{2} +\d{1,2} \d{4} \d\d:\d\d:\d\d(?:\.\d{1,6})?)(?: (\S+))?$")
    wall = parts.struct.field("1").str.replace_all(" +", " ").str.to_datetime("%b %d %Y %H:%M:%S%.f", strict=False)
    zone = parts.struct.field("2").fill_null("")
    in_utc = zone.is_in(["UTC", "GMT", "Z", "+0000", "+00:00"])
    with_year = pl.when(in_utc).then(local_to_utc(wall, "UTC")).otherwise(local_to_utc(wall, tz))
    no_year = t.str.extract(r"^([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d)$", 1).str.replace_all(" +", " ")
    return pl.coalesce(
        epoch.cast(pl.Datetime("us", "UTC")),
        with_year,
        with_inferred_year(no_year, "%b %d %H:%M:%S", tz, now),
        iso_to_utc(t, tz),
    )


def labelled(pairs: Sequence[tuple[pl.Expr, pl.Expr]], pattern: str) -> pl.Expr:
    """The first custom value whose label matches `pattern` (csN/csNLabel style pairs)."""
    return pl.coalesce([pl.when(label.str.contains(pattern)).then(value) for value, label in pairs])


def web_url(request: pl.Expr, host: pl.Expr, port: pl.Expr) -> pl.Expr:
    """A URL from a request that may be full, scheme-less (`host/path`) or path-only (joined to host)."""
    scheme = pl.when(port == 443).then(pl.lit("https://")).otherwise(pl.lit("http://"))
    return (
        pl.when(request.str.contains(r"^[A-Za-z][A-Za-z0-9+.-]*://"))
        .then(request)
        .when(request.str.starts_with("/") & host.is_not_null())
        .then(scheme + host + request)
        .when(request.str.starts_with("/"))
        .then(None)
        .otherwise(scheme + request)
    )


def netsweeper_categories(category: pl.Expr, vendor: pl.Expr, any_netsweeper: bool) -> pl.Expr:
    """Netsweeper category numbers -> names via the netsweeper module's table (only when such rows exist)."""
    if not any_netsweeper:
        return category
    from parsers.netsweeper import category_table, load_config, map_categories

    table = category_table(load_config().categories_file)
    numeric = category.str.contains(r"^\s*\d+(?:\s*,\s*\d+)*\s*$").fill_null(False)
    is_ns = vendor.str.to_lowercase() == "netsweeper"
    return pl.when(is_ns & numeric).then(map_categories(category, table)).otherwise(category)


class CefParser(BaseParser):
    """Generic CEF (any vendor), with Netsweeper category-number mapping."""

    name: ClassVar[str] = "cef"
    description: ClassVar[str] = "ArcSight Common Event Format (CEF), any vendor; Netsweeper CEF exports"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_cef": "no `CEF:<version>|vendor|product|version|id|name|severity|extension` header",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines carrying a CEF header."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Header regex once; the extension is TAB-normalised, then one extraction per wanted key."""
        h = cef_header(batch["body"])
        values = tab_pairs(h.select(tabify_spaced(pl.col("ext"))).to_series(), _KEYS)
        h = pl.concat([h, values.rename({x: f"_k_{x}" for x in _KEYS})], how="horizontal")
        keys = [f"_k_{k}" for k in _KEYS]
        h = h.with_columns(
            [e.str.strip_chars() for e in unescape_where_needed(h, keys)]
            + [pl.col(x).str.replace_all(r"\\([|\\])", "$1") for x in ("vendor", "name")]
        )

        def k(key: str) -> pl.Expr:
            return pl.when(pl.col(f"_k_{key}") == "").then(None).otherwise(pl.col(f"_k_{key}"))

        pairs = [(k(f"cs{i}"), k(f"cs{i}Label").fill_null("")) for i in range(1, 7)]
        vendor = pl.col("vendor")
        any_ns = bool(h["vendor"].str.to_lowercase().eq("netsweeper").any())
        category = netsweeper_categories(pl.coalesce(labelled(pairs, r"(?i)categor"), k("cat")), vendor, any_ns)
        port = k("dpt").cast(pl.Int32, strict=False)
        url = web_url(k("request"), k("dhost"), port)
        referrer = pl.when(k("requestContext").str.contains("://")).then(k("requestContext"))
        return h.select(
            # One parse of whichever time key is present (a bad rt does not fall back to end/start).
            cef_time(pl.coalesce(k("rt"), k("end"), k("start")), meta.tz, meta.now).alias("ts"),
            k("dvchost").alias("observer"),
            normalise_user(pl.coalesce(k("suser"), k("duser"))).alias("user"),
            labelled(pairs, r"(?i)group|policy|profile|department").alias("user_group"),
            pl.coalesce(k("src"), k("c6a2")).alias("client_ip"),
            k("shost").alias("client_host"),
            pl.coalesce(k("dst"), k("c6a3")).alias("dst_ip"),
            port.alias("dst_port"),
            vendor_action(k("act")).alias("action"),
            pl.coalesce(k("reason"), pl.col("name")).alias("reason"),
            category.alias("category"),
            k("requestMethod").str.to_uppercase().alias("method"),
            url.alias("url"),
            pl.when(url.is_null()).then(k("dhost")).alias("host"),
            k("in").cast(pl.Int64, strict=False).alias("bytes_in"),
            k("out").cast(pl.Int64, strict=False).alias("bytes_out"),
            k("requestClientApplication").alias("user_agent"),
            referrer.alias("referrer"),
            pl.when(pl.col("ver").is_null()).then(pl.lit("not_cef")).otherwise(None).alias("_reject"),
        )
