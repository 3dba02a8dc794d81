"""Circumvention figures: rule + list throughput, held-out recall / ordinary-traffic alerts, domain-model eval.

Run: .venv/bin/python bench/bench_circumvention.py [--events 1000000]
Uses ../shared/samples/ut1 (UT1, CC BY-SA 4.0) when present, read in place, never copied into the repo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.base import DetectContext  # noqa: E402
from detectors.circumvention import CircumventionDetector  # noqa: E402
from detectors.circumvention_config import BehaviourConfig, CircumventionConfig  # noqa: E402
from detectors.circumvention_eval import HELDOUT, ORDINARY, load_set  # noqa: E402
from detectors.domain_model import (  # noqa: E402
    features,
    fit,
    split_host,
    stable_fraction,
    threshold_at_fpr,
    train,
    training_frame,
)
from detectors.lists import Lists, import_lists, lists_for  # noqa: E402
from parsers.schema import EVENT_SCHEMA  # noqa: E402

UT1 = Path(__file__).resolve().parents[2] / "shared" / "samples" / "ut1"
# "Newer-era" suffixes: popular for new unblockers and cheap registrations in recent years (a proxy for time).
NEWER_SUFFIXES = {"xyz", "top", "online", "site", "app", "dev", "io", "vip", "me", "lol", "club", "pages.dev",
                  "vercel.app", "netlify.app", "github.io", "workers.dev", "onrender.com", "web.app"}


def synthetic_batch(n: int, seed: int = 7) -> pa.Table:
    """n events: mostly ordinary hosts, a sprinkling of bypasses; 2,000 distinct hosts, 3,000 users."""
    rng = np.random.default_rng(seed)
    ordinary = [f"www.site{i}.co.uk" for i in range(1_900)] + ["www.google.com", "www.bbc.co.uk", "kahoot.it"]
    odd = ["dns.google", "x.vercel.app", "api.nordvpn.com", "0--proxy.info", "mask.icloud.com"] * 20
    hosts = np.array(ordinary + odd)
    h = hosts[rng.integers(0, len(hosts), n)]
    paths = np.array(["/", "/index.html", "/search", "/service/hvtrs8%2F-wuw%2Cymuvu%60e%2Ccmm-", "/dns-query",
                      "/news/article", "/img/logo.png"])
    p = paths[rng.choice(len(paths), n, p=[0.3, 0.2, 0.2, 0.001, 0.001, 0.148, 0.15])]
    ts = pa.array(np.datetime64("2026-03-02T09:00:00") + rng.integers(0, 6 * 3600, n).astype("timedelta64[s]"))
    cols = {
        "ts": ts.cast(pa.timestamp("us")).cast(EVENT_SCHEMA.field("ts").type),
        "school": pa.array(["bench"] * n), "source": pa.array(["squid"] * n),
        "user": pa.array([f"pupil{u}" for u in rng.integers(0, 3_000, n)]),
        "client_ip": pa.array([f"10.0.{u % 200}.{u % 250}" for u in rng.integers(0, 3_000, n)]),
        "host": pa.array(h), "path": pa.array(p), "method": pa.array(["GET"] * n),
        "action": pa.array(rng.choice(["allowed", "blocked"], n, p=[0.95, 0.05])),
        "dst_port": pa.array(rng.choice([443, 80, 22, 853], n, p=[0.9, 0.0995, 0.0003, 0.0002]).astype("int32")),
        "origin": pa.array([f"bench:{i}" for i in range(n)]),
    }
    table = pa.table({name: cols.get(name, pa.nulls(n, EVENT_SCHEMA.field(name).type)) for name in EVENT_SCHEMA.names})
    return table.cast(EVENT_SCHEMA)


def bench_throughput(n: int, lists: Lists) -> None:
    cfg = CircumventionConfig(behaviour=BehaviourConfig(enabled=False))
    det = CircumventionDetector(config=cfg, lists=lists, use_model=False)
    table = synthetic_batch(n)
    det.scan(table.slice(0, 10_000), DetectContext())  # warm caches
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        found = det.scan(table, DetectContext())
        best = min(best, time.perf_counter() - t)
    print(f"rule+list scan: {n:,} events, {found.height:,} hits, best of 3 {best:.3f} s = {n / best:,.0f} events/s "
          f"(lists: {lists.domains.height:,} domains)")
    t = time.perf_counter()
    alerts = det.detect(table, DetectContext())
    dt = time.perf_counter() - t
    print(f"full detect (scan + episode folding): {len(alerts):,} alerts in {dt:.3f} s = {n / dt:,.0f} events/s")


def bench_sets(lists: Lists, label: str, model: object | None = None) -> None:
    det = CircumventionDetector(config=CircumventionConfig(), lists=lists, model=model,  # type: ignore[arg-type]
                                use_model=model is not None)
    table, labels = load_set(HELDOUT)
    found = det.scan(table, DetectContext())
    hit = set(found.filter(pl.col("severity") >= 2)["_row"].to_list())
    print(f"[{label}] held-out bypass set: recall {len(hit) / len(labels):.3f} ({len(hit)}/{len(labels)})")
    table, _ = load_set(ORDINARY)
    alerts = det.detect(table, DetectContext())
    n2 = sum(1 for a in alerts if a.severity >= 2)
    print(f"[{label}] ordinary school traffic: {table.num_rows} events, alerts at severity 2+: {n2}, "
          f"severity 1: {len(alerts) - n2}")


def recall_at_fpr(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    thr = threshold_at_fpr(neg)
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float((pos >= thr).mean()), float(roc_auc_score(y, np.r_[pos, neg]))


def bench_model(lists: Lists) -> object:
    frame = training_frame(lists).with_columns(
        pl.col("group").map_elements(stable_fraction, return_dtype=pl.Float64).alias("_f"))
    print(f"domain model data: {frame.height:,} distinct names, positives {int(frame['label'].sum()):,}")
    splits = {
        "grouped random 80/20 (optimistic)": pl.col("_f") >= 0.2,
        "unseen newer-era suffixes (time proxy)": ~pl.col("suffix").is_in(list(NEWER_SUFFIXES)),
    }
    for name, is_train in splits.items():
        tr, te = frame.filter(is_train), frame.filter(~is_train)
        tr = pl.concat([p.sort("_f").head(80_000) for p in tr.partition_by("label")])
        t = time.perf_counter()
        coef, icpt = fit(tr["host"].to_list(), tr["label"].to_list())
        fit_s = time.perf_counter() - t

        def score(hosts: list[str], coef: np.ndarray = coef, icpt: float = icpt) -> np.ndarray:
            return np.asarray(1 / (1 + np.exp(-(features(hosts) @ coef + icpt))))

        pos = score(te.filter(pl.col("label") == 1)["host"].to_list())
        neg = score(te.filter(pl.col("label") == 0)["host"].to_list())
        rec, auc = recall_at_fpr(pos, neg)
        print(f"  split {name}: train {tr.height:,} (fit {fit_s:.1f} s), test pos {len(pos):,} neg {len(neg):,}: "
              f"AUC {auc:.4f}, recall@0.1%FPR {rec:.3f}")
    model, meta = train(lists)
    table, labels = load_set(HELDOUT)
    hosts = sorted({h for h in table.column("host").to_pylist() if h and split_host(h)[1] and not h[0].isdigit()})
    s = model.score(hosts)
    print(f"  shipped-threshold model on held-out synthetic bypass hosts: {int((s >= model.threshold).sum())}/"
          f"{len(hosts)} above threshold {model.threshold:.3f}; calibration recall {meta['calibration_recall']}")
    ordinary, _ = load_set(ORDINARY)
    oh = sorted({h for h in ordinary.column("host").to_pylist() if h})
    print(f"  ordinary hosts above threshold (before allow-list): {int((model.score(oh) >= model.threshold).sum())}"
          f"/{len(oh)}")
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    bench_sets(Lists.none(), "signatures only")
    if UT1.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            import_lists(UT1, Path(tmp), "ut1")
            print(f"UT1 import: {time.perf_counter() - t:.2f} s")
            lists = lists_for(Path(tmp))
            bench_throughput(args.events, lists)
            bench_sets(lists, "signatures + UT1 lists")
            model = bench_model(lists)
            bench_sets(lists, "signatures + UT1 lists + domain model", model)
    else:
        print(f"UT1 sample not found at {UT1}: list and model figures skipped")
        bench_throughput(args.events, Lists.none())


if __name__ == "__main__":
    main()
