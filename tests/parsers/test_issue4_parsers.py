"""Table-driven tests for the issue-4 parsers' tricky bits, plus never-raises on mutated real-shaped lines.

Lines are synthetic, written from the vendor specifications (see tests/parsers/golden/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil.settings as vigil_settings
from parsers.base import COMMON_FAILURE_REASONS, SourceMeta
from parsers.keyvalue import vendor_action
from parsers.leef import java_to_strftime
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import get_parser
from vigil.settings import Settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MINE = ("pfsense", "paloalto", "sophos", "umbrella", "zscaler", "bind", "dnsmasq", "unbound", "cef", "leef")
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True, scope="module")
def _default_settings() -> Iterator[None]:
    """The CEF Netsweeper mapping reads [netsweeper]: use defaults, not a stray ./vigil.toml."""
    previous = vigil_settings._active
    vigil_settings.activate(Settings())
    yield
    vigil_settings._active = previous
    vigil_settings._cached_default.cache_clear()


def parse(name: str, lines: list[str], **meta: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Events (as dicts) and reject reasons for some lines."""
    result = parse_batch(make_batch(lines), get_parser(name), SourceMeta(now=NOW, **meta))
    return result.events.to_pylist(), result.rejects["reason"].to_pylist()


def one(name: str, line: str, **meta: Any) -> dict[str, Any]:
    """The single event of one line (fails with the reject reason otherwise)."""
    events, rejects = parse(name, [line], **meta)
    assert not rejects, rejects
    return events[0]


# --- PAN-OS: positions per version -------------------------------------------------------------------


def pan_threat(n: int, old: bool = False) -> str:
    """A THREAT/url record of `n` fields; `old` uses the pre-6.1 layout (no URL index)."""
    f = [""] * n
    f[:13] = ["1", "2026/11/23 10:00:00", "0123", "THREAT", "url", "1", "2026/11/23 10:00:00", "10.0.0.1",
              "198.51.100.1", "", "", "Pupils", "school\\amy"]
    f[25], f[30], f[31], f[32], f[33], f[41] = "443", "block-url", "x.example/a,b", "(9999)", "adult", "text/html"
    ua, ref = "Mozilla/5.0 (KHTML, like Gecko)", "https://r.example/"
    if old:
        f[45], f[48] = ua, ref
    else:
        f[46], f[49] = ua, ref
        if n > 63:
            f[63] = "get"
    return ",".join(f'"{v}"' if "," in v else v for v in f)


@pytest.mark.parametrize(
    ("fields", "old", "method"),
    [(53, True, None), (54, False, None), (62, False, None), (75, False, "GET"), (115, False, "GET")],
    ids=["pan60_53", "pan61_54", "pan70_62", "pan91_75", "pan10_115"],
)
def test_paloalto_positions_per_version(fields: int, old: bool, method: str | None) -> None:
    """User agent, referer and method come from the version's positions; quoted commas stay in the URL."""
    e = one("paloalto", pan_threat(fields, old))
    assert e["user_agent"] == "Mozilla/5.0 (KHTML, like Gecko)"
    assert e["referrer"] == "https://r.example/"
    assert e["method"] == method
    assert e["url"] == "https://x.example/a,b"
    assert (e["action"], e["category"], e["user"]) == ("blocked", "adult", "amy@school")


@pytest.mark.parametrize(
    ("word", "action"),
    [("alert", "allowed"), ("allow", "allowed"), ("block-url", "blocked"), ("block-continue", "warned"),
     ("continue", "proceeded"), ("override", "proceeded"), ("block-override", "blocked"),
     ("override-lockout", "blocked"), ("reset-both", "blocked"), ("sinkhole", "blocked"), ("weird", None)],
)
def test_paloalto_action_words(word: str, action: str | None) -> None:
    """PAN-OS URL-filtering actions map onto the normalised vocabulary."""
    assert one("paloalto", pan_threat(75).replace("block-url", word))["action"] == action


# --- LEEF delimiter sniffing and escapes ---------------------------------------------------------------

LEEF_CASES = [
    ("LEEF:1.0|V|P|1|E|src=10.0.0.1\tusrName=amy\turl=https://a.example/x y", "https://a.example/x y"),
    ("LEEF:1.0|V|P|1|E|src=10.0.0.1 usrName=amy url=https://a.example/x", "https://a.example/x"),
    ("LEEF:1.0|V|P|1|E|src=10.0.0.1|usrName=amy|url=https://a.example/x", "https://a.example/x"),
    ("LEEF:1.0|V|P|1|E|src=10.0.0.1^usrName=amy^url=https://a.example/x", "https://a.example/x"),
    ("LEEF:2.0|V|P|1|E|^|src=10.0.0.1^usrName=amy^url=https://a.example/x y", "https://a.example/x y"),
    ("LEEF:2.0|V|P|1|E|x09|src=10.0.0.1\tusrName=amy\turl=https://a.example/x", "https://a.example/x"),
    ("LEEF:2.0|V|P|1|E|0x5E|src=10.0.0.1^usrName=amy^url=https://a.example/x", "https://a.example/x"),
    ("LEEF:2.0|V|P|1|E||src=10.0.0.1\tusrName=amy\turl=https://a.example/x", "https://a.example/x"),
    ("LEEF:2.0|V|P|1|E|\\t|src=10.0.0.1\tusrName=amy\turl=https://a.example/x", "https://a.example/x"),
    ("LEEF:2.0|V|P|1|E|;|src=10.0.0.1;usrName=amy;url=https://a.example/q?a\\=1\\;b", "https://a.example/q?a=1;b"),
    ("LEEF:1.0|V|P|1|E|src=10.0.0.1\tusrName=amy\turl=https://a.example/q?a\\=1\\|2", "https://a.example/q?a=1|2"),
    ("<13>Nov 23 10:00:00 host LEEF:1.0|V|P|1|E|src=10.0.0.1\tusrName=amy\turl=https://a.example/x",
     "https://a.example/x"),
]


@pytest.mark.parametrize(("line", "url"), LEEF_CASES, ids=[f"leef{i}" for i in range(len(LEEF_CASES))])
def test_leef_delimiters(line: str, url: str) -> None:
    """Declared (char, hex, empty) and sniffed (TAB, blank, |, ^) delimiters all give the same fields."""
    # Without devTime the syslog header gives the time.
    e = one("leef", line if line.startswith("<") else "<13>Nov 23 10:00:00 host " + line)
    assert (e["client_ip"], e["user"], e["url"]) == ("10.0.0.1", "amy", url)


@pytest.mark.parametrize(
    ("pattern", "chrono", "zone"),
    [
        ("MMM dd yyyy HH:mm:ss", "%b %d %Y %H:%M:%S", False),
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "%Y-%m-%dT%H:%M:%S%.f%:z", False),
        ("dd/MM/yyyy HH:mm:ss z", "%d/%m/%Y %H:%M:%S", True),
        ("EEE MMM dd HH:mm:ss yyyy", "%a %b %d %H:%M:%S %Y", False),
    ],
)
def test_java_date_patterns(pattern: str, chrono: str, zone: bool) -> None:
    """devTimeFormat (Java) patterns translate to chrono formats."""
    assert java_to_strftime(pattern) == (chrono, zone)


# --- CEF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rt", "iso"),
    [("1795428000000", "2026-11-23 10:00:00"), ("1795428000", "2026-11-23 10:00:00"),
     ("Nov 23 2026 10:00:00", "2026-11-23 10:00:00"), ("Jul 01 2026 10:00:00", "2026-07-01 09:00:00"),
     ("Jul 01 2026 10:00:00.250 UTC", "2026-07-01 10:00:00.250000"), ("Nov 23 10:00:00", "2026-11-23 10:00:00"),
     ("2026-07-01T10:00:00+02:00", "2026-07-01 08:00:00")],
)
def test_cef_rt_formats(rt: str, iso: str) -> None:
    """rt as epoch ms/s, MMM dd yyyy (London wall clock unless a UTC zone), no year, ISO 8601."""
    e = one("cef", f"CEF:0|V|P|1|x|n|3|rt={rt} src=10.0.0.1 act=allow")
    assert e["ts"] == datetime.fromisoformat(iso).replace(tzinfo=UTC)


def test_cef_escapes_and_spaces() -> None:
    """Header `\\|`, value `\\=`, `\\\\` and blanks inside values."""
    e = one("cef", r"CEF:0|A\|B|P|1|x|Name \| x|3|rt=1795428000000 suser=SCH\\amy request=https://a.example/?q\=a b "
                   r"act=Blocked reason=two words here")
    assert (e["user"], e["url"], e["reason"], e["action"]) == ("amy@sch", "https://a.example/?q=a b", "two words here",
                                                               "blocked")


def test_cef_netsweeper_category_numbers() -> None:
    """Netsweeper CEF category numbers map through the example table; other vendors' numbers stay."""
    ns = one("cef", "CEF:0|Netsweeper|WebAdmin|8|x|n|3|rt=1795428000000 cat=4 act=deny")
    other = one("cef", "CEF:0|Acme|Web|8|x|n|3|rt=1795428000000 cat=4 act=deny")
    assert ns["category"] == "Gambling" and other["category"] == "4"


# --- DNS action mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "actions"),
    [
        (["query[A] a.example from 10.0.0.1", "gravity blocked a.example is 0.0.0.0"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "regex blacklisted a.example is ::"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "exactly blocked a.example is 0.0.0.0"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "config a.example is NXDOMAIN"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "reply a.example is 0.0.0.0"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "reply a.example is NXDOMAIN"], ["allowed"]),
        (["query[A] a.example from 10.0.0.1", "config localhost is 127.0.0.1"], ["allowed"]),
        (["gravity blocked a.example is 0.0.0.0"], ["blocked"]),
        (["query[A] a.example from 10.0.0.1", "gravity blocked b.example is 0.0.0.0"], ["allowed", "blocked"]),
    ],
)
def test_dnsmasq_sinkhole_folding(lines: list[str], actions: list[str]) -> None:
    """Sinkhole lines fold onto their query (same name, nearby); a lone sinkhole is its own event."""
    events, rejects = parse("dnsmasq", [f"<30>Nov 23 10:00:00 pi dnsmasq[1]: {ln}" for ln in lines])
    assert [e["action"] for e in events] == actions
    assert len(events) + len(rejects) == len(lines)
    assert set(rejects) <= {"answer_line"}


@pytest.mark.parametrize(
    ("ztype", "action"),
    [("always_nxdomain", "blocked"), ("redirect", "blocked"), ("static", "blocked"), ("always_null", "blocked"),
     ("inform_deny", "blocked"), ("transparent", "allowed"), ("inform", "allowed"), ("typetransparent", "allowed")],
)
def test_unbound_local_zone_actions(ztype: str, action: str) -> None:
    """Unbound local-zone types: sinkholes blocked, pass-through allowed."""
    body = f"[9:0] info: z.example. {ztype} 10.0.0.1@5353 a.z.example. A IN"
    e = one("unbound", f"<30>Nov 23 10:00:00 fw unbound[9]: {body}")
    assert (e["action"], e["host"], e["method"]) == (action, "a.z.example", "DNS")


@pytest.mark.parametrize(
    ("policy", "action"),
    [("NXDOMAIN", "blocked"), ("NODATA", "blocked"), ("Local-Data", "blocked"), ("DROP", "blocked"),
     ("PASSTHRU", "allowed"), ("CNAME", None)],
)
def test_bind_rpz_policies(policy: str, action: str | None) -> None:
    """RPZ rewrites: NXDOMAIN/NODATA/Local-Data/DROP blocked; PASSTHRU allowed; CNAME unknown."""
    line = f"client @0x1 10.0.0.1#5353 (a.example): rpz QNAME {policy} rewrite a.example/A/IN via a.example.rpz"
    query = "client @0x1 10.0.0.1#5353 (a.example): query: a.example IN A + (10.0.0.53)"
    events, _ = parse("bind", [f"<30>Nov 23 10:00:00 ns named[1]: {x}" for x in (query, line)])
    assert [e["action"] for e in events] == [action or "allowed", action]


def test_umbrella_trailing_dot_and_ipv6() -> None:
    """DNS rows: trailing dot removed, IPv6 internal address kept, method DNS."""
    e = one("umbrella", '"2026-11-23 10:00:00","PC-1","PC-1","2001:db8::5","203.0.113.1","Allowed","28 (AAAA)",'
                        '"NOERROR","Www.Example.org.","","Roaming Computers","Roaming Computers",""')
    got = (e["host"], e["client_ip"], e["client_host"], e["method"])
    assert got == ("www.example.org", "2001:db8::5", "PC-1", "DNS")


@pytest.mark.parametrize(
    ("word", "action"),
    [("Allowed", "allowed"), ("PASS", "allowed"), ("Denied", "blocked"), ("DROP", "blocked"), ("Caution", "warned"),
     ("Proceeded", "proceeded"), ("error", "error"), ("mystery", None)],
)
def test_vendor_action_vocabulary(word: str, action: str | None) -> None:
    """The shared vendor-word table."""
    import polars as pl

    assert pl.select(vendor_action(pl.lit(word))).item() == action


def test_timezone_is_honoured() -> None:
    """Local wall-clock formats read in the source timezone (BST in July)."""
    line = "device=\"SFW\" date=2026-07-01 time=10:00:00 log_type=\"Firewall\" log_component=\"Firewall Rule\" " \
           "log_subtype=\"Allowed\" src_ip=10.0.0.1"
    assert one("sophos", line)["ts"] == datetime(2026, 7, 1, 9, tzinfo=UTC)
    assert one("sophos", line, tz="UTC")["ts"] == datetime(2026, 7, 1, 10, tzinfo=UTC)


# --- never raises on mutated real-shaped lines --------------------------------------------------------

SEEDS = {
    name: [ln for p in sorted((GOLDEN / name).glob("*.log")) for ln in p.read_text("utf-8").split("\n") if ln]
    for name in MINE
}


@st.composite
def mutated(draw: st.DrawFn, name: str) -> list[str]:
    """Golden lines cut, spliced and sprinkled with delimiters/quotes/escapes."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        line = draw(st.sampled_from(SEEDS[name]))
        cut = draw(st.integers(0, len(line)))
        junk = draw(st.text(alphabet=',|^\t "\\=:[]()#@.x0', max_size=12))
        out.append(draw(st.sampled_from([line[:cut], line[:cut] + junk + line[cut:], junk + line, line])))
    return out


@pytest.mark.parametrize("name", MINE)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_lines_never_raise(name: str, data: st.DataObject) -> None:
    """No exception; events + rejects == lines; reasons declared."""
    lines = data.draw(mutated(name))
    parser = get_parser(name)
    result = parse_batch(make_batch(lines), parser, SourceMeta(now=NOW))
    assert result.events.num_rows + result.rejects.num_rows == len(lines)
    assert set(result.rejects["reason"].to_pylist()) <= set(parser.failure_reasons) | set(COMMON_FAILURE_REASONS)
