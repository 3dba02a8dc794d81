"""Plans, cron schedule, DNS probe (against a tiny UDP resolver in the test) and the CLI's exit codes."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filtertests.cron import Cron
from filtertests.errors import PlanError, ScheduleError
from filtertests.plans import Group, Options, load_plan, parse_plan
from filtertests.probes import probe_dns

BASE = "name: p\ngroups: [{name: pupils, user: alice}]\n"


def test_default_plan_loads_and_covers_the_dfe_minimum() -> None:
    """The shipped plan validates and tests IWF, CTIRU and adult content for every group."""
    plan = load_plan("default")
    cats = {c.category: c for c in plan.checks}
    for needed in ("illegal_csam_test", "terrorism_test", "adult"):
        assert cats[needed].expect == "blocked" and not cats[needed].groups
    assert cats["safe_search"].kind == "dns"


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ("[{name: a, category: adult, urls: ['ftp://x/'], expect: blocked}]", "not an http\\(s\\) URL"),
        ("[{name: a, category: Adult, urls: ['http://x/'], expect: blocked}]", "lower-case slug"),
        ("[{name: a, category: adult, urls: ['http://x/'], expect: blocked, groups: [staff]}]", "unknown groups"),
        ("[{name: a, category: x, kind: dns, urls: ['http://x/'], expect: blocked}]", "host names"),
        ("[{name: a, category: x, kind: safe_search, urls: ['http://x/'], expect: blocked}]", "safe_search_enforced"),
        ("[{name: a, category: x, urls: ['http://x/'], expect: maybe}]", "expect"),
    ],
)
def test_bad_plans_are_refused_with_the_reason(checks: str, message: str) -> None:
    """Every plan error names what is wrong."""
    with pytest.raises(PlanError, match=message):
        parse_plan(BASE + "checks: " + checks)


def test_only_groups_restricts_checks() -> None:
    """--group keeps only that group's checks; an unknown group is an error."""
    plan = parse_plan(
        "name: p\ngroups: [{name: a, user: a}, {name: b, user: b}]\n"
        "checks: [{name: x, category: adult, urls: ['http://x/'], expect: blocked, groups: [b]},"
        " {name: y, category: adult, urls: ['http://y/'], expect: blocked}]"
    )
    only_a = plan.only_groups(["a"])
    assert [c.name for c in only_a.checks] == ["y"] and only_a.checks[0].groups == ["a"]
    with pytest.raises(PlanError, match="no group named c"):
        plan.only_groups(["c"])


def test_cron_weekly_default_and_fields() -> None:
    """Monday 06:00 by default; lists, ranges, steps and names; both day fields OR-ed as in cron."""
    weekly = Cron.parse("0 6 * * 1")
    tue = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday
    assert weekly.last_at_or_before(tue) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert weekly.next_after(tue) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert Cron.parse("@weekly") == weekly
    c = Cron.parse("*/15 8-16 * * mon-fri")
    assert c.minutes == {0, 15, 30, 45} and c.hours == set(range(8, 17)) and c.weekdays == {1, 2, 3, 4, 5}
    either = Cron.parse("0 6 1 * 0")  # the 1st of the month or any Sunday
    assert either.day_matches(datetime(2026, 12, 1).date()) and either.day_matches(datetime(2026, 11, 29).date())
    for bad in ("0 6 * *", "61 * * * *", "0 6 * * 9", "x 6 * * *"):
        with pytest.raises(ScheduleError):
            Cron.parse(bad)


def _reply(query: bytes, rcode: int, answers: list[tuple[int, bytes]]) -> bytes:
    qid = query[:2]
    question = query[12:]
    head = qid + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(answers), 0, 0)
    body = b""
    for rtype, rdata in answers:
        body += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata
    return head + question + body


def _labels(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


@pytest.fixture
def resolver() -> Iterator[str]:
    """A UDP resolver on loopback: NXDOMAIN for the DoH canary, 0.0.0.0 for a sinkholed name, a safe-search
    CNAME for www.google.com, a plain address otherwise (synthetic, stands in for the school's DNS filter)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            name = data[12:].split(b"\0")[0]
            if b"use-application-dns" in name:
                out = _reply(data, 3, [])
            elif b"sinkholed" in name:
                out = _reply(data, 0, [(1, socket.inet_aton("0.0.0.0"))])
            elif b"google" in name:
                out = _reply(
                    data, 0, [(5, _labels("forcesafesearch.google.com")), (1, socket.inet_aton("216.239.38.120"))]
                )
            else:
                out = _reply(data, 0, [(1, socket.inet_aton("192.0.2.10"))])
            sock.sendto(out, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


def test_dns_probe_outcomes(resolver: str) -> None:
    """NXDOMAIN and sinkhole addresses are blocks; a safe-search CNAME is enforcement; a timeout is an error."""
    g, o = Group(name="pupils"), Options(timeout_seconds=2)
    assert probe_dns("use-application-dns.net", resolver, g, o, safe_search=None).observed == "blocked"
    sink = probe_dns("sinkholed.example", resolver, g, o, safe_search=None)
    assert sink.observed == "blocked" and "0.0.0.0" in sink.detail
    assert probe_dns("www.bbc.co.uk", resolver, g, o, safe_search=None).observed == "allowed"
    safe = probe_dns("www.google.com", resolver, g, o, safe_search=["forcesafesearch"])
    assert safe.observed == "safe_search_enforced" and "forcesafesearch.google.com" in safe.detail
    plain = probe_dns("www.bing.com", resolver, g, o, safe_search=[r"strict\.bing\.com"])
    assert plain.observed == "safe_search_not_enforced"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{silent.getsockname()[1]}"
        err = probe_dns("x.test", dead, g, Options(timeout_seconds=0.3), safe_search=None)
    assert err.observed == "error" and "did not answer" in err.detail


def _vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(cwd / "var")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_exit_codes_history_and_export(tmp_path: Path) -> None:
    """A completed run with failures exits 0 (1 with --fail-on-failure); a bad plan exits 2 with one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        BASE + "checks: [{name: adult, category: adult, urls: ['http://adult.test/'], expect: blocked}]\n"
        "monitoring: {wait_seconds: 0}\n"
    )
    proxy = f"http://127.0.0.1:{dead}"
    done = _vigil("filtertest", "run", "--plan", str(plan), "--proxy", proxy, "--as", "nm", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "FAIL" in done.stdout and "unreachable" in done.stdout and "1 failed" in done.stdout
    strict = _vigil("filtertest", "run", "--plan", str(plan), "--proxy", proxy, "--fail-on-failure", cwd=tmp_path)
    assert strict.returncode == 1
    missing = _vigil("filtertest", "run", "--plan", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    history = _vigil("filtertest", "history", cwd=tmp_path)
    assert history.stdout.count("FAIL 1/1") == 2 and " nm " in history.stdout
    csv_out = _vigil("filtertest", "export", "--format", "csv", cwd=tmp_path)
    assert csv_out.returncode == 0 and csv_out.stdout.count("http://adult.test/") == 2
    bad = _vigil("filtertest", "export", "--format", "doc", cwd=tmp_path)
    assert bad.returncode == 2 and "csv or pdf" in bad.stderr
