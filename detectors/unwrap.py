"""Unwrap proxied URLs so the real target is analysed: Google Translate proxies, web-proxy URL parameters,
Ultraviolet-style XOR-encoded paths, Google cache. Also reusable by circumvention detection (which records
*that* a wrapper was used; `wrapper_kind` names it).

Vectorised entry point `unwrap_expr` runs one cheap regex over the URL column and decodes only the rows
that look wrapped (once per distinct URL).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import polars as pl

__all__ = [
    "HINT_LITERALS",
    "WRAPPED_HINT",
    "translate_goog_host",
    "unwrap_expr",
    "unwrap_url",
    "uv_decode",
    "uv_encode",
    "wrapper_kind",
]

# Cheap pre-filter for the vectorised path: a row is decoded only when this matches.
WRAPPED_HINT = (
    r"(?i)\.translate\.goog|translate\.google\.[a-z.]+/translate\?|webcache\.googleusercontent\.com"
    r"|[?&](?:u|url|q|target|link|dest|goto|to)=(?:https?(?::|%3a)|www\.)|/hvtr[s]?8|/hvtrs8"
)
_PROXY_PARAMS = ("url", "u", "target", "link", "dest", "goto", "to", "q")
_UV_SEGMENT = re.compile(r"/(hvtrs?8[^/?#]*(?:[/?#].*)?)$")
_TR_PARAMS = re.compile(r"^_x_tr_")


def uv_decode(encoded: str) -> str:
    """Ultraviolet's XOR codec reversed: URL-decode, then XOR every odd character with 2."""
    text = unquote(encoded)
    return "".join(chr(ord(c) ^ 2) if i % 2 else c for i, c in enumerate(text))


def uv_encode(url: str) -> str:
    """Ultraviolet's XOR codec (for tests and fixtures): XOR odd characters with 2, then URL-encode."""
    from urllib.parse import quote

    return quote("".join(chr(ord(c) ^ 2) if i % 2 else c for i, c in enumerate(url)), safe="")


def translate_goog_host(label: str) -> str:
    """`www-example-com` -> `www.example.com` per Google's documented hostname encoding (`--` is `-`)."""
    if label.startswith(("0-", "1-")):  # IDN and other escaped forms: the rest is punycode-ish, keep it
        label = label[2:]
    return label.replace("--", "\x00").replace("-", ".").replace("\x00", "-")


def _translate_goog(parts: tuple[str, str, str, str, str]) -> str:
    scheme, netloc, path, query, frag = parts
    host = netloc.split(":")[0].lower()
    inner_host = translate_goog_host(host[: -len(".translate.goog")])
    kept = "&".join(p for p in query.split("&") if p and not _TR_PARAMS.match(p))
    return urlunsplit((scheme or "https", inner_host, path, kept, frag))


def wrapper_kind(url: str) -> str | None:
    """Which kind of wrapper a URL is (`translate_goog`, `google_translate`, `google_cache`, `webproxy_uv`,
    `webproxy_param`), or None."""
    return _unwrap_once(url)[1]


def _is_search_host(host: str) -> bool:
    from detectors.searchterms import rules_for_host

    return bool(rules_for_host(host))


def _looks_like_url(value: str) -> bool:
    return bool(re.match(r"(?i)^(https?://|www\.)[^\s/]+\.[^\s]", value))


def _unwrap_once(url: str) -> tuple[str | None, str | None]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, None
    host = (parts.hostname or "").lower()
    if host.endswith(".translate.goog"):
        return _translate_goog((parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment)), "translate_goog"
    uv = _UV_SEGMENT.search(parts.path + (f"?{parts.query}" if parts.query else ""))
    if uv:
        decoded = uv_decode(uv.group(1))
        if _looks_like_url(decoded):
            return decoded, "webproxy_uv"
    if host == "webcache.googleusercontent.com":
        m = re.search(r"(?:^|&)q=cache:[A-Za-z0-9_-]+:([^+&]+)", parts.query)
        if m:
            inner = unquote(m.group(1))
            return (inner if "://" in inner else f"https://{inner}"), "google_cache"
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    is_translate = re.match(r"^translate\.google\.", host) is not None
    names: tuple[str, ...] = ("u", *_PROXY_PARAMS) if is_translate else _PROXY_PARAMS
    if _is_search_host(host):  # a search *for* a URL is a search, not a wrapper
        names = tuple(n for n in names if n != "q")
    for name in names:
        value = params.get(name)
        if value and _looks_like_url(value):
            inner = value if "://" in value else f"https://{value}"
            return inner, "google_translate" if is_translate else "webproxy_param"
    return None, None


def unwrap_url(url: str, max_depth: int = 4) -> str | None:
    """The innermost target of a wrapped URL (wrappers nest: translate.goog around a proxy), else None."""
    inner: str | None = None
    current = url
    for _ in range(max_depth):
        nxt, _kind = _unwrap_once(current)
        if nxt is None or nxt == current:
            break
        inner = current = nxt
    return inner


def _unwrap_series(urls: pl.Series) -> pl.Series:
    urls = pl.select(pl.when(urls.str.contains(WRAPPED_HINT)).then(urls)).to_series()
    mapping = {u: unwrap_url(u) for u in urls.drop_nulls().unique().to_list()}
    return urls.replace_strict(mapping, default=None, return_dtype=pl.String)


# Literal hints for a one-pass case-insensitive Aho-Corasick pre-filter; WRAPPED_HINT confirms.
HINT_LITERALS = [
    ".translate.goog",
    "translate.google.",
    "webcache.googleusercontent.com",
    "/hvtrs8",
    "/hvtr8",
    *(f"{p}={v}" for p in _PROXY_PARAMS for v in ("http:", "https:", "http%3a", "https%3a", "www.")),
]


def unwrap_expr(url: pl.Expr) -> pl.Expr:
    """The unwrapped target URL for wrapped rows, null elsewhere (vectorised pre-filter)."""
    hint = url.str.contains_any(HINT_LITERALS, ascii_case_insensitive=True)
    hinted = pl.when(hint).then(url).otherwise(None)
    return hinted.map_batches(_unwrap_series, return_dtype=pl.String)
