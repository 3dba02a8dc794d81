"""Keyword detection: quality on the held-out split and cheap-path throughput.

Run: `.venv/bin/python bench/bench_keywords.py [--urls 1000000] [--skip-quality] [--skip-speed]`

Quality: every held-out row of detectors/data/training/queries.csv (never trained on) becomes a Google search
by its own pupil in its own room, all in one batch through KeywordDetector (normalisation, matching, context
rules, model, grading). Concerning rows count as found when an alert in their category reaches severity >= 2;
benign rows count against the bar when any alert reaches severity >= 3.
Speed: a synthetic mix of page URLs (unique paths), benign searches and a few concerning searches, already
split into host/path/query as ingest does; timed: search-term extraction + the whole detector.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import polars as pl
import pyarrow as pa

from detectors.base import DetectContext
from detectors.keywords import KeywordDetector
from detectors.searchterms import search_terms_expr
from detectors.trainingdata import read_csv
from parsers.schema import EVENT_SCHEMA
from parsers.urls import registered_domains, split_url

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CTX = DetectContext(options={"detection": {}})


def _table(urls: list[str], users: list[str], ips: list[str], span: timedelta = timedelta(hours=8)) -> pa.Table:
    n = len(urls)
    step = max(span // max(n, 1), timedelta(microseconds=1))
    df = pl.DataFrame({"url": urls, "user": users, "client_ip": ips})
    df = (
        df.with_columns(split_url(pl.col("url")).alias("_u"))
        .with_columns(
            pl.col("_u").struct.field("host").alias("host"),
            pl.col("_u").struct.field("path").alias("path"),
            pl.col("_u").struct.field("query").alias("query"),
        )
        .drop("_u")
    )
    df = df.with_columns(
        registered_domains(df["host"]).alias("registered_domain"),
        pl.lit("bench").alias("school"),
        pl.lit("bench").alias("source"),
        pl.lit("allowed").alias("action"),
        (pl.lit("bench:") + pl.int_range(n).cast(pl.String)).alias("origin"),
        pl.datetime_range(T0, T0 + step * (n - 1), step, eager=True, time_zone="UTC").alias("ts")
        if n > 1
        else pl.lit(T0).alias("ts"),
    )
    for name in EVENT_SCHEMA.names:
        if name not in df.columns:
            df = df.with_columns(pl.lit(None).alias(name))
    return df.select(EVENT_SCHEMA.names).to_arrow().cast(EVENT_SCHEMA)


def quality() -> None:
    rows = [r for r in read_csv() if r.split == "test"]
    urls = [f"https://www.google.co.uk/search?q={quote_plus(r.text)}" for r in rows]
    users = [f"q{i}" for i in range(len(rows))]
    ips = [f"10.{i // 250}.{i % 250}.7" for i in range(len(rows))]
    table = _table(urls, users, ips)
    table = table.set_column(
        table.schema.get_field_index("search_terms"),
        "search_terms",
        pl.from_arrow(table)
        .select(search_terms_expr(pl.col("host"), pl.col("path"), pl.col("query")))
        .to_series()
        .to_arrow(),
    )
    t = time.perf_counter()
    alerts = KeywordDetector().detect(table, CTX)
    secs = time.perf_counter() - t
    by_user: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for a in alerts:
        by_user[a.user or ""].append((a.category, a.severity))
    found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    found_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    evasion = [0, 0]
    alerts_by_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [right, wrong] at severity >= 2
    benign_total = benign_high = benign_any = 0
    misses = []
    for r, user in zip(rows, users, strict=True):
        got = by_user.get(user, [])
        for cat, sev in got:
            if sev >= 2:
                alerts_by_cat[cat][0 if (not r.benign and cat == r.category) else 1] += 1
        if r.benign:
            benign_total += 1
            benign_high += any(sev >= 3 for _, sev in got)
            benign_any += bool(got)
            continue
        ok = any(cat == r.category and sev >= 2 for cat, sev in got)
        for key in ((r.category, r.language),):
            found[key][0] += ok
            found[key][1] += 1
        found_cat[r.category][0] += ok
        found_cat[r.category][1] += 1
        if r.source.startswith("evasion"):
            evasion[0] += ok
            evasion[1] += 1
        if not ok:
            misses.append((r.text, r.category, got))
    concerning = sum(v[1] for v in found_cat.values())
    hit = sum(v[0] for v in found_cat.values())
    print(f"held-out rows: {len(rows)} ({concerning} concerning, {benign_total} benign); detector {secs:.2f} s")
    print(
        f"recall (right category, severity >= 2): {hit / concerning:.4f} ({hit}/{concerning}); "
        f"obfuscated spellings {evasion[0] / max(evasion[1], 1):.4f} ({evasion[0]}/{evasion[1]})"
    )
    print(
        f"benign at severity >= 3: {benign_high / benign_total:.4f} ({benign_high}/{benign_total}); "
        f"benign with any alert (incl. severity 1-2): {benign_any}/{benign_total}"
    )
    print("\n| category | recall | n | precision (alerts sev>=2 on held-out) |\n|---|---|---|---|")
    for cat in sorted(found_cat):
        ok, n = found_cat[cat]
        right, wrong = alerts_by_cat[cat]
        print(f"| {cat} | {ok / n:.3f} | {n} | {right / max(right + wrong, 1):.3f} ({right}/{right + wrong}) |")
    print("\n| category | language | recall | n |\n|---|---|---|---|")
    for cat, lang in sorted(found):
        ok, n = found[(cat, lang)]
        print(f"| {cat} | {lang} | {ok / n:.3f} | {n} |")
    if misses:
        print("\nmissed (first 15):")
        for m in misses[:15]:
            print("  ", m)


ORDINARY_HOSTS = [
    "www.bbc.co.uk",
    "en.wikipedia.org",
    "classroom.google.com",
    "www.senecalearning.com",
    "login.microsoftonline.com",
    "cdn.jsdelivr.net",
    "www.youtube.com",
    "kahoot.it",
    "www.tes.com",
    "fonts.gstatic.com",
    "www.mathsisfun.com",
    "www.instagram.com",
    "static.xx.fbcdn.net",
]
BENIGN_QUERIES = [
    "photosynthesis equation",
    "romeo and juliet act 3",
    "fractions to decimals",
    "world war 2 timeline",
    "how to draw a horse",
    "minecraft seeds",
    "french verbs",
    "weather tomorrow",
    "premier league table",
    "kill a process in linux",
    "macbeth themes",
    "volcano facts ks3",
    "python for loop",
]
CONCERNING = ["how to kill myself", "where to buy weed", "join isis", "su1c1de methods", "thinspo"]


def speed(n: int, concerning_rate: float = 0.001) -> None:
    rng = random.Random(1)
    urls = []
    for i in range(n):
        x = rng.random()
        if x < 0.90:  # pages: unique paths and cache-busting queries, as real proxies log them
            host = rng.choice(ORDINARY_HOSTS)
            urls.append(f"https://{host}/a/{rng.randrange(10**9):x}/page-{i % 977}.html?v={rng.randrange(10**6)}")
        elif x < 1 - concerning_rate:
            q = f"{rng.choice(BENIGN_QUERIES)} {rng.randrange(10**5)}"
            urls.append(f"https://www.google.com/search?q={quote_plus(q)}&rlz=1C1")
        else:
            urls.append(f"https://www.bing.com/search?q={quote_plus(rng.choice(CONCERNING))}")
    users = [f"u{rng.randrange(3000)}" for _ in range(n)]
    ips = [f"10.{rng.randrange(40)}.{rng.randrange(250)}.{rng.randrange(250)}" for _ in range(n)]
    table = _table(urls, users, ips)
    det = KeywordDetector()
    det.detect(table.slice(0, 1000), CTX)  # warm caches (library, model) outside the timing
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        df = pl.from_arrow(table.select(["host", "path", "query"]))  # at ingest the frame is polars already
        assert isinstance(df, pl.DataFrame)
        terms = df.select(search_terms_expr(pl.col("host"), pl.col("path"), pl.col("query"))).to_series()
        with_terms = table.set_column(table.schema.get_field_index("search_terms"), "search_terms", terms.to_arrow())
        alerts = det.detect(with_terms, CTX)
        best = min(best, time.perf_counter() - t)
    searches = int(terms.is_not_null().sum())
    print(
        f"\nthroughput ({concerning_rate:.1%} concerning): {n:,} URLs ({searches:,} searches) extraction + "
        f"normalisation + matching + grading + episodes in {best:.3f} s (best of 3) = "
        f"{n / best / 1e6:.2f} M URLs/s; {len(alerts)} alerts"
    )


def main() -> None:
    """Run the selected parts."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", type=int, default=1_000_000)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    if not args.skip_quality:
        quality()
    if not args.skip_speed:
        speed(args.urls, concerning_rate=0.0)  # the cheap path: nothing concerning (look-alikes still reach the model)
        speed(args.urls, concerning_rate=0.001)


if __name__ == "__main__":
    main()
