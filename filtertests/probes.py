"""Single probes through the school's filter: HTTP via the proxy, HTTPS via CONNECT, DNS via the resolver.

Each probe returns an `Observation` (what the client saw: blocked, allowed, safe search enforced or not,
unreachable, error) with a plain-words detail; nothing here raises for network trouble. A refused or
redirected CONNECT is a block; so is a block page (status code, configurable signatures in body, headers or
a redirect's Location) and, by default, a connection the filter resets.
"""

from __future__ import annotations

import base64
import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from filtertests.dnsprobe import DnsError, resolve, system_resolver
from filtertests.plans import Group, Options

BODY_LIMIT = 256 * 1024  # a deny page is small; never pull a whole site through the filter
GATEWAY_ERRORS = {502, 503, 504}
SQUID_UNREACHABLE = ("ERR_DNS_FAIL", "ERR_CONNECT_FAIL", "ERR_READ_TIMEOUT", "ERR_CANNOT_FORWARD")


@dataclass(frozen=True)
class Observation:
    """What one probe saw."""

    observed: str  # blocked | allowed | safe_search_enforced | safe_search_not_enforced | unreachable | error
    detail: str
    status: int | None = None


@dataclass(frozen=True)
class Proxy:
    """An explicit proxy (host, port); None in a probe means a direct (transparently filtered) connection."""

    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """`http://host:port` (port defaults to 3128)."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"proxy {url!r}: use http://HOST:PORT")
        return cls(parts.hostname, parts.port or 3128)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _auth_headers(group: Group, opts: Options) -> dict[str, str]:
    headers = {"User-Agent": opts.user_agent}
    if group.user:
        token = base64.b64encode(f"{group.user}:{group.secret()}".encode()).decode()
        headers["Proxy-Authorization"] = f"Basic {token}"
    return headers


def _first(patterns: list[str], text: str, *, regex: bool = False) -> str | None:
    for pat in patterns:
        if re.search(pat, text, re.IGNORECASE) if regex else pat.lower() in text.lower():
            return pat
    return None


def _title(body: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
    return " ".join(m.group(1).split())[:120] if m else ""


def classify_response(
    status: int, headers: http.client.HTTPMessage, body: str, opts: Options, *, safe_search: list[str] | None
) -> Observation:
    """Turn a response into an observation (block page, proxy error, content, safe search)."""
    squid_error = headers.get("X-Squid-Error", "")
    header_text = "\n".join(f"{k}: {v}" for k, v in headers.items())
    if status == 407:
        return Observation("error", "the proxy refused the group's credentials (407)", status)
    if squid_error.startswith(SQUID_UNREACHABLE):
        return Observation("unreachable", f"the proxy could not reach the site ({squid_error})", status)
    sig = _first(opts.block_signatures, body) or _first(opts.block_signatures, squid_error)
    if sig:
        return Observation("blocked", f"block page ({status}) matching {sig!r}", status)
    if status in opts.block_statuses:
        return Observation("blocked", f"refused with status {status}", status)
    location = headers.get("Location", "")
    if 300 <= status < 400 and location and _first(opts.block_redirects, location):
        return Observation("blocked", f"redirected to a block page ({status} -> {location[:200]})", status)
    if status in GATEWAY_ERRORS:
        return Observation("unreachable", f"the proxy answered {status}: the site could not be reached", status)
    if safe_search is not None:
        found = _first(safe_search, header_text + "\n" + body, regex=True)
        if found:
            return Observation("safe_search_enforced", f"safe search signature {found!r} ({status})", status)
        return Observation("safe_search_not_enforced", f"no safe search signature in the answer ({status})", status)
    title = _title(body)
    extra = f" -> {location[:200]}" if location else (f", title {title!r}" if title else "")
    return Observation("allowed", f"answered {status}{extra}", status)


def _read(resp: http.client.HTTPResponse) -> str:
    return resp.read(BODY_LIMIT).decode("utf-8", "replace")


def _connect(target: tuple[str, int], group: Group, timeout: float, what: str) -> socket.socket | Observation:
    try:
        src = (group.source_address, 0) if group.source_address else None
        return socket.create_connection(target, timeout=timeout, source_address=src)
    except TimeoutError:
        return Observation("error", f"{what} unreachable: no connection to {target[0]}:{target[1]} in {timeout:g}s")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return Observation("error", f"{what} unreachable: cannot connect to {target[0]}:{target[1]} ({reason})")


def _on_failure(exc: BaseException, opts: Options, stage: str) -> Observation:
    """Resets and early closes are how some filters block; timeouts and the rest are errors."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return Observation("error", f"no answer within {opts.timeout_seconds:g}s ({stage})")
    resets = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, ssl.SSLEOFError)
    if isinstance(exc, resets):
        if opts.reset_is_blocked:
            return Observation("blocked", f"connection reset by the filter ({stage})")
        return Observation("error", f"connection reset ({stage})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Observation("error", f"certificate not trusted ({exc.verify_message}; is the filter inspecting TLS?)")
    return Observation("error", f"{exc.__class__.__name__}: {exc} ({stage})")


def probe_http(
    url: str, proxy: Proxy | None, group: Group, opts: Options, *, safe_search: list[str] | None
) -> Observation:
    """Fetch `url` as `group`: plain HTTP through the proxy, HTTPS through a CONNECT tunnel."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = _auth_headers(group, opts)
    target = (proxy.host, proxy.port) if proxy else (host, port)
    sock = _connect(target, group, opts.timeout_seconds, f"filter (proxy {proxy})" if proxy else "site")
    if isinstance(sock, Observation):
        return sock
    try:
        if https:
            if proxy:
                refused = _tunnel(sock, host, port, headers, opts)
                if refused:
                    return refused
            ctx = ssl.create_default_context()
            if not opts.tls_verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE  # probing, not trusting: a filter may inspect TLS
            sock = ctx.wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=opts.timeout_seconds)
        conn.sock = sock
        request_headers = {"User-Agent": opts.user_agent, "Accept": "text/html,*/*"}
        if proxy and not https:
            request_headers.update(headers)
        conn.request("GET", url if (proxy and not https) else path, headers=request_headers)
        resp = conn.getresponse()
        body = _read(resp)
        return classify_response(resp.status, resp.headers, body, opts, safe_search=safe_search)
    except (OSError, http.client.HTTPException) as exc:
        return _on_failure(exc, opts, "HTTPS" if https else "HTTP")
    finally:
        sock.close()


def _tunnel(sock: socket.socket, host: str, port: int, headers: dict[str, str], opts: Options) -> Observation | None:
    """Open a CONNECT tunnel; an Observation when the filter refused or redirected it (a block), else None."""
    lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    resp = http.client.HTTPResponse(sock, method="CONNECT")
    resp.begin()
    if resp.status == 200:
        return None
    body = ""
    if resp.length:
        try:
            body = _read(resp)
        except (OSError, http.client.HTTPException):
            body = ""
    obs = classify_response(resp.status, resp.headers, body, opts, safe_search=None)
    if obs.observed == "allowed":  # any other refusal of CONNECT is the filter saying no
        where = resp.headers.get("Location", "")
        return Observation(
            "blocked", f"CONNECT refused with {resp.status}" + (f" -> {where}" if where else ""), resp.status
        )
    if obs.observed == "blocked" and not obs.detail.startswith("CONNECT"):
        return Observation("blocked", f"CONNECT {obs.detail}", resp.status)
    return obs


def probe_dns(
    name: str, resolver: str | None, group: Group, opts: Options, *, safe_search: list[str] | None
) -> Observation:
    """Ask the school's resolver for `name`: NXDOMAIN, REFUSED or a sinkhole address is a block."""
    try:
        server = resolver or system_resolver()
        answer = resolve(name, server, timeout=opts.timeout_seconds, source_address=group.source_address)
    except (DnsError, OSError, ValueError) as exc:
        return Observation("error", f"DNS: {exc}")
    text = f"{answer.text()} (resolver {server})"
    if answer.rcode in ("NXDOMAIN", "REFUSED"):
        return Observation("blocked", f"resolver answered {text}")
    if answer.rcode != "NOERROR":
        return Observation("unreachable", f"resolver failed: {text}")
    sinkholed = [a for a in answer.addresses if a in opts.sinkhole_addresses]
    if sinkholed:
        return Observation("blocked", f"sinkholed: {text}")
    if safe_search is not None:
        found = _first(safe_search, " ".join(answer.cnames + answer.addresses), regex=True)
        if found:
            return Observation("safe_search_enforced", f"safe search address ({found!r}): {text}")
        return Observation("safe_search_not_enforced", f"no safe search rewrite: {text}")
    if not answer.addresses:
        return Observation("blocked", f"no address for the name: {text}")
    return Observation("allowed", f"resolved: {text}")
