"""Signatures, filter categories, grading, episodes and determinism of the circumvention detector."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from detectors.base import DetectContext
from detectors.circumvention import CircumventionDetector, blocked_grade
from detectors.circumvention_config import CircumventionConfig, load_config
from detectors.circumvention_eval import HELDOUT, ORDINARY, load_set
from detectors.circumvention_rules import load_signatures
from detectors.lists import Lists
from detectors.unwrap import uv_encode
from vigil.errors import ConfigError

_spec = importlib.util.spec_from_file_location("circ_helpers", Path(__file__).parent / "circ_helpers.py")
assert _spec and _spec.loader
helpers = importlib.util.module_from_spec(_spec)
sys.modules["circ_helpers"] = helpers
_spec.loader.exec_module(helpers)
event, table = helpers.event, helpers.table


def detector(**cfg: Any) -> CircumventionDetector:
    return CircumventionDetector(config=CircumventionConfig(**cfg), lists=Lists.none(), use_model=False)


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("doh_path", {"url": "https://dns.example.net/dns-query?dns=AAAB"}, "signature:doh.path"),
    ("doh_json", {"url": "https://dns.google/resolve?name=x.com&type=A"}, "signature:doh.path"),
    ("doh_content_type", {"url": "https://x.example/q", "content_type": "application/dns-message"},
     "signature:doh.content_type"),
    ("doh_resolver_connect", {"method": "CONNECT", "host": "mozilla.cloudflare-dns.com", "dst_port": 443},
     "signature:doh.resolver_host"),
    ("doh_resolver_ip", {"method": "CONNECT", "host": "1.1.1.1", "dst_port": 443}, "signature:doh.resolver_ip"),
    ("dot_firewall", {"method": None, "dst_ip": "9.9.9.9", "dst_port": 853, "source": "pfsense"},
     "signature:doh.resolver_ip"),
    ("dot_other", {"method": None, "dst_ip": "203.0.113.3", "dst_port": 853}, "signature:dot.port"),
    ("canary", {"method": "DNS", "host": "use-application-dns.net"}, "signature:canary.firefox_doh"),
    ("private_relay", {"method": "DNS", "host": "mask-h2.icloud.com"}, "signature:relay.icloud_private_relay"),
    ("ech", {"method": "CONNECT", "host": "cloudflare-ech.com", "dst_port": 443}, "signature:ech.outer_sni"),
    ("vpn_api", {"method": "CONNECT", "host": "api.nordvpn.com", "dst_port": 443}, "signature:vpn.app_api"),
    ("vpn_site", {"url": "https://www.expressvpn.com/vpn-download"}, "signature:vpn.provider_site"),
    ("tor_download", {"url": "https://dist.torproject.org/torbrowser/14.0/tor-browser.exe"}, "signature:tor.download"),
    ("tor_port", {"method": None, "dst_ip": "185.220.101.1", "dst_port": 9001}, "signature:tor.relay_port"),
    ("anydesk", {"method": "CONNECT", "host": "relay-1.net.anydesk.com", "dst_port": 443},
     "signature:remote.access_tool"),
    ("ssh", {"method": None, "dst_ip": "203.0.113.9", "dst_port": 22}, "signature:tunnel.ssh"),
    ("rdp", {"method": None, "dst_ip": "203.0.113.9", "dst_port": 3389}, "signature:tunnel.rdp"),
    ("openvpn", {"method": None, "dst_ip": "203.0.113.9", "dst_port": 1194}, "signature:tunnel.openvpn"),
    ("wireguard", {"method": None, "dst_ip": "203.0.113.9", "dst_port": 51820}, "signature:tunnel.wireguard"),
    ("connect_ip", {"method": "CONNECT", "host": "203.0.113.50", "dst_port": 8080}, "signature:connect.bare_ip"),
    ("uv_path", {"url": "https://x.vercel.app/service/" + uv_encode("https://www.youtube.com/")},
     "signature:webproxy.ultraviolet_url"),
    ("uv_sw", {"url": "https://x.pages.dev/uv/uv.sw.js"}, "signature:webproxy.ultraviolet_script"),
    ("bare", {"url": "https://x.pages.dev/bare/v3/"}, "signature:webproxy.bare_server"),
    ("wisp", {"url": "https://x.pages.dev/wisp/"}, "signature:webproxy.bare_server"),
    ("rammerhead", {"url": "https://rh.example/0123456789abcdef0123456789abcdef/https://discord.com/"},
     "signature:webproxy.rammerhead"),
    ("glype", {"url": "http://p.example/browse.php?u=https%3A%2F%2Freddit.com&b=4"}, "signature:webproxy.cgi_kit"),
    ("cgiproxy", {"url": "http://p.example/cgi-bin/nph-proxy.cgi/en/00/https/x.com/"}, "signature:webproxy.cgi_kit"),
    ("url_param", {"url": "https://p.example/proxy?url=https://www.instagram.com/"}, "signature:webproxy.url_param"),
    ("translate_goog", {"url": "https://www-reddit-com.translate.goog/?_x_tr_sl=auto&_x_tr_tl=en"},
     "signature:translate.proxy"),
    ("translate_u", {"url": "https://translate.google.com/translate?sl=auto&tl=en&u=https://x.com/"},
     "signature:translate.proxy_param"),
]


@pytest.mark.parametrize(("case", "fields", "rule"), CASES, ids=[c[0] for c in CASES])
def test_signature_table(case: str, fields: dict[str, Any], rule: str) -> None:
    found = detector().scan(table([event(0, **fields)]), DetectContext())
    assert found["rule"].to_list() == [rule], case
    assert found["why"][0]


ORDINARY_CASES = [
    {"url": "https://www.google.com/search?q=photosynthesis"},
    {"url": "https://translate.google.com/?sl=fr&tl=en&text=bonjour&op=translate"},
    {"url": "https://www.cloudflare.com/learning/dns/what-is-dns/"},
    {"url": "https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/"},
    {"url": "https://www.google.com/url?q=https://www.bbc.co.uk/&sa=U"},
    {"method": None, "dst_ip": "10.1.1.1", "dst_port": 22},
    {"method": None, "dst_ip": "192.168.1.9", "dst_port": 3389},
    {"method": "CONNECT", "host": "142.250.180.14", "dst_port": 443},
    {"url": "https://www.bareminerals.co.uk/bare/skin"},
]


@pytest.mark.parametrize("fields", ORDINARY_CASES)
def test_ordinary_requests_do_not_match(fields: dict[str, Any]) -> None:
    assert detector().scan(table([event(0, **fields)]), DetectContext()).height == 0


def test_shipped_sets_recall_and_ordinary_traffic() -> None:
    det = detector()
    bypass, labels = load_set(HELDOUT)
    found = det.scan(bypass, DetectContext())
    recall = found.filter(found["severity"] >= 2).height / len(labels)
    assert recall >= 0.9
    ordinary, _ = load_set(ORDINARY)
    assert [a for a in det.detect(ordinary, DetectContext()) if a.severity >= 2] == []


def test_blocked_attempts_are_graded_lower() -> None:
    assert [blocked_grade(s) for s in (1, 2, 3, 4, 5)] == [1, 1, 2, 3, 3]
    rows = [event(0, method="CONNECT", host="api.nordvpn.com", dst_port=443, action="blocked")]
    (alert,) = detector().detect(table(rows), DetectContext())
    assert alert.severity == 3


def test_filter_category_per_source_config() -> None:
    rows = [event(0, source="netsweeper", category="Remote Access Tools;Education", host="r.example"),
            event(1, user="pupil2", source="custom", category="Sneaky Stuff", host="s.example")]
    det = detector()
    assert det.scan(table(rows), DetectContext())["rule"].to_list() == ["category:Remote Access Tools"]
    cfg = load_config({"sources": {"custom": {"categories": ["Sneaky Stuff"]},
                                   "netsweeper": {"ignore": ["remote access tools"]}}})
    det2 = CircumventionDetector(config=cfg, lists=Lists.none(), use_model=False)
    assert det2.scan(table(rows), DetectContext())["rule"].to_list() == ["category:Sneaky Stuff"]


def test_bad_config_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="circumvention"):
        load_config({"behaviour": {"dark_minutes": 1}})
    with pytest.raises(ConfigError):
        load_config({"no_such_key": 1})


def test_episode_folding_and_determinism() -> None:
    rows = [event(0, url="https://dns.google/dns-query?dns=A"),
            event(5, url="https://x.vercel.app/uv/uv.sw.js"),
            event(9, method="DNS", host="use-application-dns.net"),
            event(12, user="pupil2", method="CONNECT", host="api.nordvpn.com", dst_port=443)]
    det = detector()
    alerts = sorted(det.detect(table(rows), DetectContext()), key=lambda a: a.user or "")
    assert [a.user for a in alerts] == ["pupil1", "pupil2"]
    first = alerts[0]
    assert first.count == 3 and first.severity == 4 and first.category == "circumvention"
    assert first.event_keys == ("file:test.log:1", "file:test.log:10", "file:test.log:6")
    assert len(first.evidence["reasons"]) == 3 and "encrypted" in first.evidence["why"].lower()
    again = sorted(det.detect(table(list(reversed(rows))), DetectContext()), key=lambda a: a.user or "")
    assert [(a.id, a.severity, a.rule, a.event_keys) for a in again] == \
        [(a.id, a.severity, a.rule, a.event_keys) for a in alerts]


def test_exempt_groups_and_staff_subject() -> None:
    rows = [event(0, user="tech1", user_group="it", method=None, dst_ip="203.0.113.9", dst_port=22),
            event(1, user="mrs.b", method=None, dst_ip="203.0.113.9", dst_port=22)]
    det = detector(exempt_groups=["it"])
    alerts = det.detect(table(rows), DetectContext(staff_users=frozenset({"mrs.b"})))
    assert [(a.user, a.subject_kind) for a in alerts] == [("mrs.b", "staff")]


def test_disabled_signature_and_signature_file_valid() -> None:
    sigs = load_signatures()
    assert len({s.id for s in sigs}) == len(sigs) and all(s.explain and s.title for s in sigs)
    rows = [event(0, method=None, dst_ip="203.0.113.9", dst_port=500)]
    assert detector(disabled_signatures=["tunnel.ipsec"]).scan(table(rows), DetectContext()).height == 0
    assert detector().scan(table(rows), DetectContext()).height == 1
