"""Parser throughput: generated lines of each format, in 100k-line batches, measured two ways:
*parser* = the parser plus the shared schema finishing (`Parser.parse_batch` on a framed batch, one thread);
*end to end* = `parsers.pipeline.parse_batch` (syslog framing, parser, enrichment: URL split, registered
domain, search terms; the threaded path ingest uses) plus a zstd Parquet file of the events, as
`bench_issue4_parsers.py` measures. Generation is vectorised and not timed; memory stays flat.

    .venv/bin/python bench/bench_parsers.py                       # defaults: 2M squid and fortigate, 500k others
    .venv/bin/python bench/bench_parsers.py --lines 200000 --formats fortigate squid_combined
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_squid import generate as gen_squid_native  # noqa: E402
from parsers.base import SourceMeta  # noqa: E402
from parsers.framing import frame  # noqa: E402
from parsers.pipeline import BATCH_COLUMNS, parse_batch  # noqa: E402
from parsers.registry import get_parser  # noqa: E402

BATCH = 100_000
HOSTS = np.array(
    ["www.bbc.co.uk", "www.google.com", "classroom.google.com", "www.youtube.com", "en.wikipedia.org", "kahoot.it"]
)
PATHS = np.array(["/", "/news", "/search?q=photosynthesis+diagram", "/watch?v=abc123", "/wiki/Volcano", "/a.js"])
CATS = np.array(["Education", "Search Engines and Portals", "News and Media", "Streaming Media", "Gambling"])


def _pick(rng: np.random.Generator, values: np.ndarray, n: int) -> pl.Series:
    return pl.Series(values[rng.integers(0, len(values), n)])


def _common(rng: np.random.Generator, n: int, start: int) -> dict[str, pl.Series]:
    epoch = 1_795_000_000 + start // 20 + np.arange(n) // 20
    return {
        "epoch": pl.Series(epoch),
        "ms": pl.Series(rng.integers(0, 1000, n)),
        "user": pl.Series(np.char.add("pupil", rng.integers(1, 1200, n).astype(str))),
        "ip": pl.Series(np.char.add("10.20.", rng.integers(0, 255, n).astype(str))),
        "host": _pick(rng, HOSTS, n),
        "path": _pick(rng, PATHS, n),
        "cat": _pick(rng, CATS, n),
        "bytes": pl.Series(rng.integers(200, 90000, n)),
        "blocked": pl.Series(rng.random(n) < 0.05),
    }


def gen_squid(rng: np.random.Generator, n: int, start: int) -> pl.Series:
    """Squid native lines (the shared generator)."""
    del start
    return gen_squid_native(n, seed=int(rng.integers(0, 2**31))).to_series(0)


def gen_squid_combined(rng: np.random.Generator, n: int, start: int) -> pl.Series:
    """Squid combined lines."""
    c = _common(rng, n, start)
    df = pl.DataFrame(c).with_columns(
        t=pl.from_epoch(pl.col("epoch")).dt.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        res=pl.when(pl.col("blocked")).then(pl.lit("403 3900")).otherwise(pl.lit("200 ") + pl.col("bytes").cast(str)),
        sq=pl.when(pl.col("blocked")).then(pl.lit("TCP_DENIED:HIER_NONE")).otherwise(pl.lit("TCP_MISS:HIER_DIRECT")),
    )
    return df.select(
        pl.format(
            '{} - {} [{}] "GET https://{}{} HTTP/1.1" {} "-" "Mozilla/5.0 (X11; CrOS x86_64 15633.69.0)" {}',
            "ip",
            "user",
            "t",
            "host",
            "path",
            "res",
            "sq",
        )  # fmt: skip
    ).to_series()


def gen_e2guardian(rng: np.random.Generator, n: int, start: int) -> pl.Series:
    """e2guardian logfileformat 6 (the Debian default) lines."""
    c = _common(rng, n, start)
    df = pl.DataFrame(c).with_columns(
        what=pl.when(pl.col("blocked")).then(pl.lit("*DENIED* Blocked site: ") + pl.col("host")).otherwise(pl.lit("-")),
        msg=pl.when(pl.col("blocked")).then(pl.lit("500")).otherwise(pl.lit("0")),
        code=pl.when(pl.col("blocked")).then(pl.lit("403")).otherwise(pl.lit("200")),
    )
    return df.select(
        pl.format(
            "{}.{}\t\t{}\t{}\t{}\thttps://{}{}\tGET\t{}\t{}\t-\tMozilla/5.0 (X11; CrOS x86_64)\t-\t3\t-"
            "\t{}\t{}\t0\t{}\tstudents\t1",
            "epoch",
            "ms",
            "user",
            "ip",
            "ip",
            "host",
            "path",
            "code",
            "bytes",
            "msg",
            "what",
            "cat",
        )  # fmt: skip
    ).to_series()


def gen_netsweeper(rng: np.random.Generator, n: int, start: int) -> pl.Series:
    """Netsweeper default-profile (synthetic) lines."""
    c = _common(rng, n, start)
    df = pl.DataFrame(c).with_columns(
        t=pl.from_epoch(pl.col("epoch")).dt.strftime("%Y-%m-%d %H:%M:%S"),
        ev=pl.when(pl.col("blocked"))
        .then(pl.lit("Denied\tCategory blocked\t4\t4,36"))
        .otherwise(pl.lit("Allowed\t\t30\t30")),
    )
    return df.select(
        pl.format(
            "ns01\t{}\thttps://{}{}\t{}\tSCHOOL\\{}\t{}\t\t203.0.113.9\t10.20.0.2\tnslog01\tGET\tMozilla/5.0\t-",
            "t",
            "host",
            "path",
            "ip",
            "user",
            "ev",
        )  # fmt: skip
    ).to_series()


def gen_fortigate(rng: np.random.Generator, n: int, start: int) -> pl.Series:
    """FortiOS utm/webfilter lines of about 800 bytes, behind a bare <PRI>."""
    c = _common(rng, n, start)
    df = pl.DataFrame(c).with_columns(
        d=pl.from_epoch(pl.col("epoch")).dt.strftime("date=%Y-%m-%d time=%H:%M:%S"),
        ns=pl.col("epoch").cast(pl.Int64) * 1_000_000_000 + pl.col("ms") * 1_000_000,
        act=pl.when(pl.col("blocked")).then(pl.lit("blocked")).otherwise(pl.lit("passthrough")),
    )
    return df.select(
        pl.format(
            '<189>{} devname="fw-school-01" devid="FGT60F0000000001" eventtime={} tz="+0000" logid="0316013057" '
            'type="utm" subtype="webfilter" eventtype="ftgd_allow" level="notice" vd="root" policyid=12 '
            'poluuid="5f1c2a3e-0000-51ee-0000-000000000000" policytype="policy" sessionid=912345 user="{}" '
            'group="Year9" authserver="school-ad" srcip={} srcport=51515 srccountry="Reserved" srcintf="lan" '
            'srcintfrole="lan" srcuuid="5f1c2a3e-0000-51ee-0000-000000000001" dstip=198.51.100.10 dstport=443 '
            'dstcountry="United Kingdom" dstintf="wan1" dstintfrole="wan" proto=6 service="HTTPS" hostname="{}" '
            'profile="pupils-web" action="{}" reqtype="direct" url="{}" sentbyte=1187 rcvdbyte={} '
            'direction="outgoing" msg="URL belongs to an allowed category in policy" ratemethod="domain" cat=33 '
            'catdesc="{}" crscore=0 crlevel="low" agent="Mozilla/5.0 (X11; CrOS x86_64 15633.69.0)"',
            "d",
            "ns",
            "user",
            "ip",
            "host",
            "act",
            "path",
            "bytes",
            "cat",
        )  # fmt: skip
    ).to_series()


GENERATORS: dict[str, Callable[[np.random.Generator, int, int], pl.Series]] = {
    "squid": gen_squid,
    "squid_combined": gen_squid_combined,
    "e2guardian": gen_e2guardian,
    "netsweeper": gen_netsweeper,
    "fortigate": gen_fortigate,
}
DEFAULT_LINES = {"squid": 2_000_000, "fortigate": 2_000_000}


def bench(name: str, total: int, out: Path) -> tuple[int, int, int, float, float]:
    """(lines, bytes, events, parser seconds, end-to-end seconds) for `total` generated lines of one format."""
    parser = get_parser(name)
    rng = np.random.default_rng(7)
    meta = SourceMeta(origin_prefix=f"bench:{name}", now=datetime(2026, 11, 24, tzinfo=UTC))
    done = nbytes = events = 0
    parse_s = total_s = 0.0
    while done < total:
        n = min(BATCH, total - done)
        raw = GENERATORS[name](rng, n, done).alias("raw")
        batch = pl.DataFrame(
            {"raw": raw, "line_no": pl.int_range(done + 1, done + n + 1, eager=True), "decode_error": False},
        ).cast(BATCH_COLUMNS)  # type: ignore[arg-type]
        nbytes += int(raw.str.len_bytes().sum()) + n  # + newline, as in the file
        framed = frame(batch, tz=meta.tz, now=meta.now)
        t0 = time.perf_counter()
        parser.parse_batch(framed, meta=meta)
        t1 = time.perf_counter()
        result = parse_batch(batch, parser, meta)
        pq.write_table(result.events, out / f"{name}-{done}.parquet", compression="zstd")
        t2 = time.perf_counter()
        parse_s += t1 - t0
        total_s += t2 - t1
        events += result.events.num_rows
        done += n
    return done, nbytes, events, parse_s, total_s


def main() -> None:
    """Run the selected formats and print one Markdown table row each."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--lines", type=int, default=None, help="lines per format (default 2M squid/fortigate, 500k others)"
    )
    ap.add_argument("--formats", nargs="*", default=list(GENERATORS), choices=list(GENERATORS))
    args = ap.parse_args()
    print(
        "| parser | lines | bytes/line | events | parser lines/s | parser MB/s | end-to-end lines/s | end-to-end MB/s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.formats:
        total = args.lines or DEFAULT_LINES.get(name, 500_000)
        with tempfile.TemporaryDirectory() as tmp:
            lines, nbytes, events, parse_s, total_s = bench(name, total, Path(tmp))
        print(
            f"| {name} | {lines:,} | {nbytes // lines} | {events:,} | {lines / parse_s:,.0f} | "
            f"{nbytes / parse_s / 1e6:.0f} | {lines / total_s:,.0f} | {nbytes / total_s / 1e6:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
