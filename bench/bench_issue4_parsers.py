"""Throughput of the issue-4 parsers end to end: frame + parse + enrich (+ zstd Parquet), 100k-line batches.

Usage: .venv/bin/python bench/bench_issue4_parsers.py [--lines 2000000] [--only cef,leef] [--no-parquet]
Lines are generated (synthetic, realistic lengths, 5,000 distinct hosts, 300 users) before timing starts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from parsers.base import SourceMeta
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import get_parser

BATCH = 100_000
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _host(i: int) -> str:
    return f"www.site{i % 5000}.example.co.uk"


def _pfsense(i: int) -> str:
    return (f"<134>Nov 23 17:{i // 60 % 60:02d}:{i % 60:02d} fw01 filterlog[4321]: 5,,,1000000103,igb1,match,"
            f"{'block' if i % 7 == 0 else 'pass'},in,4,0x0,,64,{i % 65535},0,DF,6,tcp,60,10.1.{i % 250}.{i % 200},"
            f"198.51.{i % 100}.{i % 250},{40000 + i % 20000},443,0,S,{i},,64240,,mss;sackOK;TS;nop;wscale")


def _paloalto(i: int) -> str:
    f = [""] * 75
    f[:13] = ["1", "2026/11/23 17:05:06", "012801096514", "THREAT", "url", "2561", "2026/11/23 17:05:06",
              f"10.1.{i % 250}.{i % 200}", "142.250.187.228", "", "", "Web-Pupils", f"school\\user{i % 300}"]
    f[14], f[24], f[25], f[29] = "web-browsing", str(50000 + i % 9999), "443", "tcp"
    f[30] = "block-url" if i % 9 == 0 else "alert"
    f[31] = f'"{_host(i)}/search?q=term{i % 977},more"'
    f[32], f[33], f[34], f[41] = "(9999)", "search-engines", "informational", "text/html"
    f[46], f[49], f[59], f[63] = f'"{UA}"', "https://www.google.com/", "PA-440", "get"
    return "Nov 23 17:05:06 PA-440 " + ",".join(f)


def _sophos(i: int) -> str:
    return (f'<30>device="SFW" date=2026-11-23 time=17:05:06 timezone="GMT" device_name="XG230" '
            f'device_id=C22000000001 log_id=010302602001 log_type="Content Filtering" log_component="HTTP" '
            f'log_subtype="{"Denied" if i % 9 == 0 else "Allowed"}" status="" priority=Information fw_rule_id=5 '
            f'user_name="user{i % 300}@school.example" user_gp="Pupils" iap=13 category="Search Engines" '
            f'category_type="Acceptable" url="https://{_host(i)}/search?q=term{i % 977}" contenttype="text/html" '
            f'override_token="" src_ip=10.1.{i % 250}.{i % 200} dst_ip=204.79.197.200 protocol="TCP" '
            f'src_port={40000 + i % 20000} dst_port=443 sent_bytes=1200 recv_bytes={i % 90000} domain={_host(i)} '
            f'exceptions= activityname="" reason="" user_agent="{UA}" status_code="200"')


def _umbrella(i: int) -> str:
    return (f'"2026-11-23 17:05:06","User {i % 300} (user{i % 300}@school.example)","User {i % 300} '
            f'(user{i % 300}@school.example),School Network","10.1.{i % 250}.{i % 200}","203.0.113.5",'
            f'"{"Blocked" if i % 9 == 0 else "Allowed"}","1 (A)","NOERROR","{_host(i)}.","Search Engines,News",'
            f'"AD Users","AD Users,Networks","","a1b2","GB","1234567"')


def _zscaler(i: int) -> str:
    return "\t".join([
        "time=Mon Nov 23 17:05:06 2026", f"login=user{i % 300}@school.example", "proto=HTTPS",
        f"eurl={_host(i)}/search?q=term{i % 977}", f"action={'Blocked' if i % 9 == 0 else 'Allowed'}",
        "appname=General Browsing", "reqsize=700", f"respsize={i % 90000}", "urlsupercat=Information Technology",
        "urlcat=Web Search", "location=Main Site", "dept=Year 9", f"cip=10.1.{i % 250}.{i % 200}",
        "sip=198.51.100.66", "reqmethod=GET", "respcode=200", f"ua={UA}", "ereferer=None",
        "ruletype=None", "rulelabel=None", "contenttype=text/html", f"devicehostname=LAPTOP-{i % 400}",
    ])


def _bind(i: int) -> str:
    return (f"23-Nov-2026 17:05:06.351 queries: info: client @0x7f8b4c0a1b20 "
            f"10.1.{i % 250}.{i % 200}#{40000 + i % 20000} "
            f"({_host(i)}): query: {_host(i)} IN A +E(0)K (10.0.0.53)")


def _dnsmasq(i: int) -> str:
    if i % 3 == 0:
        return f"Nov 23 17:05:06 dnsmasq[512]: query[A] {_host(i)} from 10.1.{i % 250}.{i % 200}"
    if i % 3 == 1:
        return f"Nov 23 17:05:06 dnsmasq[512]: forwarded {_host(i - 1)} to 1.1.1.1"
    return f"Nov 23 17:05:06 dnsmasq[512]: reply {_host(i - 2)} is 93.184.216.{i % 250}"


def _unbound(i: int) -> str:
    return f"<30>Nov 23 17:05:06 fw01 unbound[4321]: [4321:1] info: 10.1.{i % 250}.{i % 200} {_host(i)}. A IN"


def _cef(i: int) -> str:
    return (f"<134>Nov 23 17:05:06 webgate01 CEF:0|Acme|WebGate|2.1|url|URL {'blocked' if i % 9 == 0 else 'allowed'}|5|"
            f"rt=Nov 23 2026 17:05:06 src=10.1.{i % 250}.{i % 200} suser=SCHOOL\\\\user{i % 300} dst=198.51.100.66 "
            f"dpt=443 requestMethod=GET request=https://{_host(i)}/search?q=term{i % 977} "
            f"act={'blocked' if i % 9 == 0 else 'allowed'} cs1Label=URL Category cs1=Search Engines "
            f"cs2Label=Policy Group cs2=Pupils requestClientApplication={UA} in={i % 90000} out=1200 dvchost=webgate01")


def _leef(i: int) -> str:
    return "LEEF:2.0|Acme|WebGate|2.1|URL|^|" + "^".join([
        "devTime=Nov 23 2026 17:05:06", f"src=10.1.{i % 250}.{i % 200}", f"usrName=user{i % 300}",
        "dst=198.51.100.66", "dstPort=443", f"url=https://{_host(i)}/search?q=term{i % 977}",
        f"action={'blocked' if i % 9 == 0 else 'allowed'}", "cat=Search Engines", "method=GET",
        f"userAgent={UA}", "srcBytes=700", f"dstBytes={i % 90000}", "status=200",
    ])


GENERATORS: dict[str, Callable[[int], str]] = {
    "pfsense": _pfsense, "paloalto": _paloalto, "sophos": _sophos, "umbrella": _umbrella, "zscaler": _zscaler,
    "bind": _bind, "dnsmasq": _dnsmasq, "unbound": _unbound, "cef": _cef, "leef": _leef,
}


def run(name: str, lines: int, parquet: bool, out: Path) -> tuple[float, float, float, int, int]:
    """Seconds, lines/s, MB/s, events and rejects for one format."""
    gen = GENERATORS[name]
    batches = [make_batch([gen(i) for i in range(s, min(s + BATCH, lines))], s + 1) for s in range(0, lines, BATCH)]
    size = sum(int(b["raw"].str.len_bytes().sum()) + b.height for b in batches)
    parser = get_parser(name)
    meta = SourceMeta(origin_prefix=f"bench:{name}", now=datetime(2026, 11, 24, tzinfo=UTC))
    events = rejects = 0
    start = time.perf_counter()
    for n, batch in enumerate(batches):
        result = parse_batch(batch, parser, meta)
        events += result.events.num_rows
        rejects += result.rejects.num_rows
        if parquet:
            pq.write_table(result.events, out / f"{name}-{n}.parquet", compression="zstd")
    secs = time.perf_counter() - start
    return secs, lines / secs, size / secs / 1e6, events, rejects


def main() -> None:
    """Run each format and print one table row per format."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--only", default=",".join(GENERATORS))
    ap.add_argument("--no-parquet", action="store_true")
    args = ap.parse_args()
    print(f"| parser | lines | seconds | lines/s | MB/s | events | rejects |  (parquet={not args.no_parquet})")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            secs, lps, mbs, ev, rj = run(name, args.lines, not args.no_parquet, Path(tmp))
            print(f"| {name} | {args.lines:,} | {secs:.1f} | {lps:,.0f} | {mbs:.0f} | {ev:,} | {rj:,} |", flush=True)


if __name__ == "__main__":
    main()
