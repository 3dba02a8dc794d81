"""IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0, any vendor, with delimiter sniffing.

Layout: `[syslog header ]LEEF:1.0|Vendor|Product|Version|EventID|<attributes>` with TAB-separated
`key=value` attributes; LEEF 2.0 adds a delimiter field after EventID: `LEEF:2.0|V|P|Ver|ID|^|k=v^k=v`
(one character, or hex `0x09`/`x09`; empty means TAB). Many producers write LEEF 1.0 with blanks or `|`
instead of TABs, so without a declared delimiter it is sniffed per line: TAB if present, else `|` or
`^` when they separate `key=` pairs, else blanks (values may then contain blanks, as in CEF).
`\\=`, `\\|`, `\\\\` are escapes in values.
Example: `LEEF:2.0|Acme|WebGate|2.1|URL_BLOCK|^|devTime=Nov 23 2026 17:05:06^src=10.1.2.3^usrName=alice
^url=https://casino.example/^action=blocked^cat=Gambling^dstPort=443`

Keys mapped (LEEF names, then the CEF names LEEF producers often reuse): devTime with devTimeFormat
(Java date pattern; default `MMM dd yyyy HH:mm:ss`, or epoch ms) -> ts; src -> client_ip; srcHostName/
identHostName/shost -> client_host; dst -> dst_ip; dstPort/dpt -> dst_port; usrName/suser/duser -> user;
userGroup/groupName/role/policy -> user_group; url/request (path-only joined to dhost) -> url;
method/requestMethod/reqmethod -> method; userAgent/useragent/requestClientApplication -> user_agent;
referrer/referer -> referrer; action/act -> action; urlcategory/urlCategory/category/cat -> category;
srcBytes -> bytes_out, dstBytes -> bytes_in (bytes from the destination reach the client); status/
httpStatus -> status; reason, else a non-numeric EventID -> reason; devName/dvchost -> observer.
Actions: as for CEF (allow/permit/pass -> allowed, block/deny/drop -> blocked, warn -> warned,
continue/override -> proceeded, error -> error).
Cannot tell us: devTimeFormat zone names other than UTC/GMT (read in the source timezone).
Worked example (the line above): user alice, action blocked, category Gambling, dst_port 443.
"""

import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

import polars as pl

from parsers.base import BaseParser, SourceMeta, detect_by_pattern
from parsers.cef import cef_time, web_url
from parsers.keyvalue import KEY, tab_pairs, tabify_spaced, unescape_where_needed, vendor_action
from parsers.timeutil import local_to_utc
from parsers.users import normalise_user

_HEADER = r"^.*?LEEF: ?(1\.0|2\.0|1|2)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|(.*)$"
_V2_DELIM = r"^(0?[xX][0-9A-Fa-f]{2,4}|[^|=\t ]|\\t)?\|(.*)$"
_DETECT = r"(?:^|[\s:>])LEEF: ?(?:1\.0|2\.0|1|2)\|[^|]*\|[^|]*\|[^|]*\|"
_KEYS = (
    "devTime", "devTimeFormat", "src", "srcHostName", "identHostName", "shost", "dst", "dstPort", "dpt",
    "usrName", "suser", "duser", "userGroup", "groupName", "role", "policy", "url", "request", "dhost",
    "method", "requestMethod", "reqmethod", "userAgent", "useragent", "requestClientApplication", "referrer",
    "referer", "action", "act", "urlcategory", "urlCategory", "category", "cat", "srcBytes", "dstBytes",
    "status", "httpStatus", "reason", "devName", "dvchost",
)
# Java SimpleDateFormat tokens -> chrono strftime, longest first.
_JAVA = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"), ("EEEE", "%A"),
    ("EEE", "%a"), ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), (".SSSSSS", "%.f"), (".SSS", "%.f"),
    ("a", "%p"), ("XXX", "%:z"), ("ZZ", "%z"), ("Z", "%z"), ("X", "%z"), ("'T'", "T"), ("'Z'", "Z"),
]


_HEADER_ONLY = _HEADER.removesuffix(r"(.*)$")
_V2_PREFIX = _V2_DELIM.removesuffix(r"(.*)$")
_HEADER_NAMES = ["ver", "vendor", "product", "pver", "eid"]


def leef_header(body: pl.Series) -> pl.DataFrame:
    """Columns ver, vendor, product, pver, eid, rest, and `_v2d`/`_v2x` (LEEF 2.0 delimiter spec and the rest).

    Exactly the two full-line regexes, but only their heads are matched (capturing `(.*)$` over whole lines
    is slow): header groups once per distinct header, the rest by stripping the matched head. A batch with
    a line break inside a line keeps the full-line regexes, whose `.` stops at line breaks.
    """
    frame = body.to_frame("b")
    if body.str.contains("\n", literal=True).any():
        h = frame.select(pl.col("b").str.extract_groups(_HEADER).alias("h")).unnest("h")
        h = h.rename(dict(zip(h.columns, [*_HEADER_NAMES, "rest"], strict=True)))
        v2 = h.select(pl.col("rest").str.extract_groups(_V2_DELIM).alias("d")).unnest("d")
        return pl.concat([h, v2.rename(dict(zip(v2.columns, ["_v2d", "_v2x"], strict=True)))], how="horizontal")
    rows = frame.select(pl.col("b"), pl.col("b").str.extract(_HEADER_ONLY, 0).alias("_h"))
    heads = rows.select(pl.col("_h").unique()).drop_nulls()
    groups = heads.with_columns(pl.col("_h").str.extract_groups(_HEADER_ONLY).alias("g")).unnest("g")
    groups = groups.rename(dict(zip(groups.columns[1:], _HEADER_NAMES, strict=True)))
    rows = rows.join(groups, on="_h", how="left", maintain_order="left")
    rows = rows.with_columns(pl.col("b").str.strip_prefix(pl.col("_h")).alias("rest"))
    rows = rows.with_columns(pl.col("rest").str.extract(_V2_PREFIX, 0).alias("_p"))
    spec = pl.when(pl.col("_p") == "|").then(None).otherwise(pl.col("_p").str.strip_suffix("|"))
    return rows.select(
        *_HEADER_NAMES,
        "rest",
        spec.alias("_v2d"),
        pl.col("rest").str.strip_prefix(pl.col("_p")).alias("_v2x"),
    )


def java_to_strftime(pattern: str) -> tuple[str, bool]:
    """A Java date pattern as chrono strftime, and whether it ends in a zone name (`z`) to strip."""
    p = pattern.strip()
    named_zone = bool(re.search(r"\s+z+$", p))
    p = re.sub(r"\s+z+$", "", p)
    out, i = "", 0
    while i < len(p):
        for java, chrono in _JAVA:
            if p.startswith(java, i):
                out += chrono
                i += len(java)
                break
        else:
            out += p[i]
            i += 1
    return out, named_zone


def _delimiter_char(spec: str | None) -> str:
    if not spec or spec == "\\t":
        return "\t"
    if spec.lower().lstrip("0").startswith("x"):
        try:
            return chr(int(spec.lower().lstrip("0")[1:], 16))
        except ValueError:
            return "\t"
    return spec


def _usable(chrono: str) -> bool:
    """Whether polars accepts this format (a device's devTimeFormat is data, not trusted configuration)."""
    try:
        pl.Series(["x"], dtype=pl.String).str.to_datetime(chrono, strict=False, time_unit="us")
    except Exception:  # noqa: BLE001 - polars raises several types for a bad format string
        return False
    return True


class LeefParser(BaseParser):
    """Generic LEEF 1.0/2.0 (any vendor), delimiter declared or sniffed per line."""

    name: ClassVar[str] = "leef"
    description: ClassVar[str] = "IBM QRadar LEEF 1.0/2.0, any vendor (delimiter sniffing, escapes)"
    failure_reasons: ClassVar[Mapping[str, str]] = {
        "not_leef": "no `LEEF:1.0|vendor|product|version|eventid|` (or 2.0) header",
    }

    def detect(self, sample: Sequence[str]) -> float:
        """Share of lines carrying a LEEF header."""
        return detect_by_pattern(sample, _DETECT)

    def parse_frame(self, batch: pl.DataFrame, meta: SourceMeta) -> pl.DataFrame:
        """Header and delimiter per line, attributes normalised to TABs, then one extraction per key."""
        h = leef_header(batch["body"])
        is_v2 = pl.col("ver").str.starts_with("2") & pl.col("_v2x").is_not_null()
        h = h.with_columns(
            pl.when(is_v2).then(pl.col("_v2x")).otherwise(pl.col("rest")).alias("ext"),
            pl.when(is_v2).then(pl.col("_v2d").fill_null("")).alias("_spec"),
        )
        specs = [s for s in h["_spec"].unique().to_list() if s is not None]
        declared = pl.col("_spec").replace_strict({s: _delimiter_char(s) for s in specs}, default=None)
        ext = pl.col("ext")
        pair = r"=[^=]*?\{d}" + KEY + "="
        sniffed = (
            pl.when(ext.str.contains("\t"))
            .then(pl.lit("\t"))
            .when(ext.str.contains(pair.format(d="|")))
            .then(pl.lit("|"))
            .when(ext.str.contains(pair.format(d="^")))
            .then(pl.lit("^"))
            .otherwise(pl.lit(" "))
        )
        h = h.with_columns(pl.coalesce(declared, sniffed).alias("_d"))
        delims = [d for d in h["_d"].unique().to_list() if d is not None]
        norm: pl.Expr = pl.col("ext")
        for d in delims:
            if d == " ":
                fixed = tabify_spaced(ext)
            elif d == "\t":
                continue
            else:
                # An escaped delimiter inside a value survives as the literal character.
                fixed = ext.str.replace_all("\\" + d, "\x01", literal=True).str.replace_all(d, "\t", literal=True)
                fixed = fixed.str.replace_all("\x01", d, literal=True)
            norm = pl.when(pl.col("_d") == d).then(fixed).otherwise(norm)
        values = tab_pairs(h.select(norm).to_series(), _KEYS)
        h = pl.concat([h, values.rename({x: f"_k_{x}" for x in _KEYS})], how="horizontal")
        h = h.with_columns([e.str.strip_chars() for e in unescape_where_needed(h, [f"_k_{k}" for k in _KEYS])])

        def k(*keys: str) -> pl.Expr:
            vals = [pl.when(pl.col(f"_k_{x}") == "").then(None).otherwise(pl.col(f"_k_{x}")) for x in keys]
            return pl.coalesce(vals) if len(vals) > 1 else vals[0]

        ts = self._dev_time(h, meta)
        port = k("dstPort", "dpt").cast(pl.Int32, strict=False)
        url = web_url(k("url", "request"), k("dhost"), port)
        eid = pl.col("eid")
        return h.select(
            ts.alias("ts"),
            k("devName", "dvchost").alias("observer"),
            normalise_user(k("usrName", "suser", "duser")).alias("user"),
            k("userGroup", "groupName", "role", "policy").alias("user_group"),
            k("src").alias("client_ip"),
            k("srcHostName", "identHostName", "shost").alias("client_host"),
            k("dst").alias("dst_ip"),
            port.alias("dst_port"),
            vendor_action(k("action", "act")).alias("action"),
            pl.coalesce(k("reason"), pl.when(~eid.str.contains(r"^\d*$")).then(eid)).alias("reason"),
            k("urlcategory", "urlCategory", "category", "cat").alias("category"),
            k("method", "requestMethod", "reqmethod").str.to_uppercase().alias("method"),
            url.alias("url"),
            pl.when(url.is_null()).then(k("dhost")).alias("host"),
            k("status", "httpStatus").cast(pl.Int32, strict=False).alias("status"),
            k("dstBytes").cast(pl.Int64, strict=False).alias("bytes_in"),
            k("srcBytes").cast(pl.Int64, strict=False).alias("bytes_out"),
            k("userAgent", "useragent", "requestClientApplication").alias("user_agent"),
            k("referrer", "referer").alias("referrer"),
            pl.when(pl.col("ver").is_null()).then(pl.lit("not_leef")).otherwise(None).alias("_reject"),
        )

    @staticmethod
    def _dev_time(h: pl.DataFrame, meta: SourceMeta) -> pl.Expr:
        """devTime per devTimeFormat (each distinct format translated once), else CEF-style defaults."""
        dev = pl.col("_k_devTime").str.strip_chars()
        parsed: pl.Expr = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        for fmt in [f for f in h["_k_devTimeFormat"].unique().to_list() if f]:
            chrono, named_zone = java_to_strftime(fmt)
            if not _usable(chrono):
                continue  # a format chrono cannot use: those rows fall back to the default forms
            text = dev
            zone_utc = pl.lit(False)
            if named_zone:
                zone = dev.str.extract(r"\s+([A-Za-z]+)$", 1)
                zone_utc = zone.is_in(["UTC", "GMT", "Z"]).fill_null(False)
                text = dev.str.replace(r"\s+[A-Za-z]+$", "")
            if "%z" in chrono or "%:z" in chrono:
                value = text.str.to_datetime(chrono, strict=False, time_unit="us").dt.convert_time_zone("UTC")
            else:
                wall = text.str.to_datetime(chrono, strict=False, time_unit="us")
                value = pl.when(zone_utc).then(local_to_utc(wall, "UTC")).otherwise(local_to_utc(wall, meta.tz))
            parsed = pl.when(pl.col("_k_devTimeFormat") == fmt).then(value).otherwise(parsed)
        return pl.coalesce(parsed, cef_time(dev, meta.tz, meta.now))
