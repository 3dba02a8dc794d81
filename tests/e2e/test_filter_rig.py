"""End to end with real filters: e2guardian in front of Squid on loopback, real logs parsed by Vigil.

The session fixture starts `tests/e2e/rig/rig.sh` (origin server, Squid, e2guardian with logfileformat 5 and 2)
on free loopback ports under a temporary RIG_DIR; the test sends allowed and blocked requests as alice
(students) and bob (staff) plus one anonymous request, then auto-detects and parses the four logs the daemons
wrote and checks users, actions, categories and hosts. Skips (loudly) only when squid, e2guardian or curl are
not installed.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import vigil.settings as vigil_settings
from parsers.base import SourceMeta
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import autodetect
from vigil.settings import Settings

pytestmark = pytest.mark.realparts

RIG = Path(__file__).parent / "rig" / "rig.sh"
FORMATS = (5, 2)


@dataclass(frozen=True)
class Rig:
    """A running rig: where its logs are and which ports its proxies listen on."""

    dir: Path
    env: dict[str, str]
    e2g_ports: dict[int, int]
    tls_port: int

    @property
    def logs(self) -> Path:
        """Directory holding every access log."""
        return self.dir / "logs"


def _free_ports(n_single: int, n_run: int) -> tuple[list[int], int]:
    """`n_single` free ports plus the first of `n_run` consecutive free ports (e2guardian uses base + i)."""
    singles: list[int] = []
    for _ in range(n_single):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            singles.append(s.getsockname()[1])
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        ports = range(base, base + n_run)
        if base + n_run < 65000 and not set(ports) & set(singles) and all(_is_free(p) for p in ports):
            return singles, base
    raise RuntimeError("no run of free loopback ports")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _local_zone() -> str:
    """IANA name of the machine's local zone (e2guardian formats 1, 2 and 4 log local time)."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return str(Path("/etc/localtime").resolve()).split("zoneinfo/", 1)[1]
    except (IndexError, OSError):
        return "UTC"


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    """Start the rig once for the session; stop it (by PID file) at the end."""
    missing = [b for b in ("squid", "e2guardian", "curl") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"REAL FILTER RIG NOT RUN: {', '.join(missing)} not installed (make test installs them)")
    rig_dir = Path(tempfile.mkdtemp(prefix="vigil-rig-"))
    rig_dir.chmod(0o755)  # squid and e2guardian drop to their own users and must reach their files
    (origin, tls, squid), e2g_base = _free_ports(3, len(FORMATS))
    env = {
        **os.environ,
        "RIG_DIR": str(rig_dir),
        "ORIGIN_PORT": str(origin),
        "ORIGIN_TLS_PORT": str(tls),
        "SQUID_PORT": str(squid),
        "E2G_PORT": str(e2g_base),
        "E2G_FORMATS": " ".join(str(f) for f in FORMATS),
        "RIG_PYTHON": shutil.which("python3") or "python3",
    }
    started = subprocess.run(["bash", str(RIG), "start"], env=env, capture_output=True, text=True, timeout=90)
    try:
        assert started.returncode == 0, f"rig.sh start failed:\n{started.stderr[-3000:]}"
        yield Rig(rig_dir, env, {f: e2g_base + i for i, f in enumerate(FORMATS)}, tls)
    finally:
        subprocess.run(["bash", str(RIG), "stop"], env=env, capture_output=True, timeout=90)
        shutil.rmtree(rig_dir, ignore_errors=True)


def _headers(user: str | None, client_ip: str | None, label: str) -> dict[str, str]:
    headers = {"User-Agent": f"vigil-e2e/1.0 ({label})"}
    if user:
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(f"{user}:secret".encode()).decode()
    if client_ip:
        headers["X-Forwarded-For"] = client_ip
    return headers


def fetch(port: int, url: str, *, user: str | None, client_ip: str | None, label: str) -> str:
    """One request through the proxy on `port`; returns PASSED, BLOCKPAGE or REFUSED (what the client saw)."""
    headers = _headers(user, client_ip, label)
    if url.startswith("https://"):
        host, _, rest = url.removeprefix("https://").partition("/")
        name, _, tport = host.partition(":")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the rig's origin uses a self-signed test certificate
        conn: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=ctx)
        # the proxy sees only the CONNECT: identity, client address and agent go on the tunnel request
        conn.set_tunnel(name, int(tport or 443), headers=headers)
        path = "/" + rest
        request_headers = {"User-Agent": headers["User-Agent"]}
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        path, request_headers = url, headers
    try:
        conn.request("GET", path, headers=request_headers)
        body = conn.getresponse().read().decode("utf-8", "replace")
    except OSError:
        return "REFUSED"  # a banned CONNECT: e2guardian answers 302 and the tunnel fails
    finally:
        conn.close()
    return "BLOCKPAGE" if "Access Denied" in body else "PASSED"


def _requests(tls: int) -> list[tuple[str, str | None, str | None, str, str]]:
    """(label, user, client ip, url, what the client should see)."""
    return [
        ("allowed-page", "alice", "10.10.0.11", "http://neutral.test/news.html", "PASSED"),
        ("site-adult", "alice", "10.10.0.11", "http://adult.test/", "BLOCKPAGE"),
        ("site-gambling", "alice", "10.10.0.11", "http://gambling.test/", "BLOCKPAGE"),
        ("phrase-weighted", "alice", "10.10.0.11", "http://neutral.test/weighted.html", "BLOCKPAGE"),
        ("search-banned", "alice", "10.10.0.11", "http://search.test/search?q=exam+cheat", "BLOCKPAGE"),
        ("exception-site", "alice", "10.10.0.11", "http://school.test/phrase.html", "PASSED"),
        ("https-ok", "alice", "10.10.0.11", f"https://secure.test:{tls}/news.html", "PASSED"),
        ("https-banned", "alice", "10.10.0.11", f"https://proxy-anonymizer.test:{tls}/", "REFUSED"),
        ("staff-gambling", "bob", "10.10.0.22", "http://gambling.test/", "PASSED"),
        ("staff-adult", "bob", "10.10.0.22", "http://adult.test/", "BLOCKPAGE"),
        ("anon-allowed", None, "10.10.0.33", "http://neutral.test/news.html", "PASSED"),
    ]


def _wait_for_lines(path: Path, n: int, timeout: float = 15.0) -> list[str]:
    """e2guardian's logger thread is asynchronous: wait until the log has `n` lines."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = path.read_text("utf-8", "replace").splitlines() if path.exists() else []
        if len(lines) >= n:
            break
        time.sleep(0.1)
    return lines


def _parse(path: Path, n_expected: int, tz: str, want_parser: str) -> pl.DataFrame:
    """`--format auto` semantics: detect on a sample, then parse, enrich and check nothing was rejected."""
    lines = _wait_for_lines(path, n_expected)
    parser = autodetect(lines[:200], what=str(path))
    assert parser.name == want_parser, f"{path.name}: auto-detected {parser.name}, expected {want_parser}"
    result = parse_batch(make_batch(lines), parser, SourceMeta(school="rig", tz=tz, origin_prefix=f"file:{path}"))
    assert result.rejects.num_rows == 0, result.rejects.to_pylist()
    df = pl.from_arrow(result.events)
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(label=pl.col("user_agent").str.extract(r"\(([^)]+)\)$", 1))


def _by_label(df: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {r["label"]: r for r in df.to_dicts() if r["label"]}


def test_real_filter_logs_parse_to_expected_events(rig: Rig) -> None:
    """Allowed and blocked requests as alice and bob come back from the real logs with the right facts."""
    previous = vigil_settings._active
    vigil_settings.activate(Settings())
    try:
        _drive_and_check(rig)
    finally:
        vigil_settings._active = previous
        vigil_settings._cached_default.cache_clear()


def _drive_and_check(rig: Rig) -> None:
    started = datetime.now(UTC)
    reqs = _requests(rig.tls_port)
    for fmt, port in rig.e2g_ports.items():
        for label, user, ip, url, expect in reqs:
            seen = fetch(port, url, user=user, client_ip=ip, label=f"{label}-fmt{fmt}")
            assert seen == expect, f"fmt{fmt} {label}: client saw {seen}, expected {expect}"
    tz = _local_zone()

    # e2guardian, every request of every instance, one per line.
    for fmt in FORMATS:
        df = _parse(rig.logs / f"e2guardian-access.fmt{fmt}.log", len(reqs), tz, "e2guardian")
        assert df.height == len(reqs)
        ev = {k.removesuffix(f"-fmt{fmt}"): v for k, v in _by_label(df).items()}
        assert ev["allowed-page"]["user"] == "alice" and ev["allowed-page"]["action"] == "allowed"
        assert ev["allowed-page"]["user_group"] == "students"
        assert ev["site-adult"]["action"] == "blocked" and ev["site-adult"]["category"] == "Adult"
        assert ev["site-adult"]["host"] == "adult.test"
        assert ev["site-gambling"]["category"] == "Gambling" and ev["site-gambling"]["action"] == "blocked"
        assert ev["phrase-weighted"]["action"] == "blocked"
        assert "weight 60" in str(ev["phrase-weighted"]["reason"])
        assert ev["search-banned"]["category"] == "Banned Search Terms"
        assert ev["exception-site"]["action"] == "allowed" and ev["exception-site"]["category"] == "School Exception"
        assert ev["https-ok"]["method"] == "CONNECT" and ev["https-ok"]["host"] == "secure.test"
        assert ev["https-banned"]["action"] == "blocked" and ev["https-banned"]["category"] == "Proxy/Anonymizer"
        assert ev["staff-gambling"]["user"] == "bob" and ev["staff-gambling"]["action"] == "allowed"
        assert ev["staff-gambling"]["user_group"] == "staff"
        assert ev["staff-adult"]["user"] == "bob" and ev["staff-adult"]["action"] == "blocked"
        # anonymous: e2guardian's ip auth plugin logs the client address as the user
        assert ev["anon-allowed"]["user"] == "10.10.0.33" and ev["anon-allowed"]["client_ip"] == "10.10.0.33"
        if fmt >= 5:
            assert "[message 500" in str(ev["site-adult"]["reason"])
        # formats 1, 2, 4 are local time without a zone; 3, 5-8 epoch: both must land on now
        ts = df["ts"].to_list()
        assert all(started - timedelta(minutes=2) <= t <= datetime.now(UTC) + timedelta(minutes=2) for t in ts)

    # Squid sees only what e2guardian let through (plus content-scanned pages it fetched), twice over.
    for log, name in (("squid-access.squid.log", "squid"), ("squid-access.combined.log", "squid_combined")):
        path = rig.logs / log
        df = pl.DataFrame()
        for _ in range(150):  # Squid writes its log lines through stdio buffers: wait for all of them
            df = _parse(path, 1, tz, name)
            if df.height >= 2 * 6:
                break
            time.sleep(0.1)
        users = set(df["user"].drop_nulls().to_list())
        assert {"alice", "bob"} <= users
        hosts = set(df["host"].drop_nulls().to_list())
        assert {"neutral.test", "gambling.test", "school.test", "secure.test"} <= hosts
        assert "adult.test" not in hosts  # blocked by e2guardian before reaching Squid
        assert set(df["action"].to_list()) == {"allowed"}
        bob = df.filter(pl.col("user") == "bob")
        assert set(bob["host"].to_list()) == {"gambling.test"}
        tunnels = df.filter(pl.col("method") == "CONNECT")
        assert tunnels.height == 2 and set(tunnels["host"].to_list()) == {"secure.test"}
