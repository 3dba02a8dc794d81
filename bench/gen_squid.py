"""Generate synthetic Squid native access.log lines (vectorised with numpy/polars) for benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

HOSTS = [
    "www.bbc.co.uk",
    "www.google.com",
    "www.google.co.uk",
    "classroom.google.com",
    "login.microsoftonline.com",
    "www.youtube.com",
    "en.wikipedia.org",
    "app.senecalearning.com",
    "kahoot.it",
    "www.sparxmaths.uk",
    "thenational.academy",
    "cdn.jsdelivr.net",
    "fonts.gstatic.com",
    "teams.microsoft.com",
    "www.bing.com",
]
PATHS = [
    "/",
    "/news",
    "/search?q=photosynthesis+diagram",
    "/watch?v=abc123",
    "/wiki/Volcano",
    "/api/v1/items",
    "/static/app.js",
    "/search?q=pythagoras+theorem",
    "/classes",
    "/results?search_query=fractions",
]
RESULTS = [
    "TCP_MISS/200",
    "TCP_TUNNEL/200",
    "TCP_DENIED/403",
    "TCP_HIT/200",
    "TCP_MISS/304",
    "TCP_DENIED/407",
]


def generate(lines: int, seed: int = 1) -> pl.DataFrame:
    """A frame with one `line` column of Squid native lines."""
    rng = np.random.default_rng(seed)
    start = 1_795_000_000.0
    ts = start + np.sort(rng.uniform(0, 5 * 86_400, lines))
    hosts = np.array(HOSTS)[rng.integers(0, len(HOSTS), lines)]
    paths = np.array(PATHS)[rng.integers(0, len(PATHS), lines)]
    res = np.array(RESULTS)[rng.choice(len(RESULTS), lines, p=[0.6, 0.25, 0.05, 0.05, 0.04, 0.01])]
    users = np.char.add("pupil", rng.integers(1, 1200, lines).astype(str))
    df = pl.DataFrame(
        {
            "ts": ts,
            "el": rng.integers(0, 3000, lines),
            "c": rng.integers(1, 250, lines),
            "res": res,
            "b": rng.integers(200, 90_000, lines),
            "h": hosts,
            "p": paths,
            "u": users,
        }
    )
    connect = pl.col("res") == "TCP_TUNNEL/200"
    return df.select(
        pl.format(
            "{} {} 10.20.{}.{} {} {} {} {} {} HIER_DIRECT/203.0.113.{} {}",
            pl.col("ts").round(3).cast(pl.String).str.pad_end(14, "0"),
            pl.col("el").cast(pl.String).str.pad_start(6, " "),
            (pl.col("c") % 40).cast(pl.String),
            pl.col("c").cast(pl.String),
            pl.col("res"),
            pl.col("b").cast(pl.String),
            pl.when(connect).then(pl.lit("CONNECT")).otherwise(pl.lit("GET")),
            pl.when(connect)
            .then(pl.col("h") + ":443")
            .otherwise(pl.lit("http://") + pl.col("h") + pl.col("p")),
            pl.col("u"),
            pl.col("c").cast(pl.String),
            pl.when(connect).then(pl.lit("-")).otherwise(pl.lit("text/html")),
        ).alias("line")
    )


def write(path: Path, lines: int, seed: int = 1, chunk: int = 1_000_000) -> int:
    """Write `lines` lines to path in chunks; returns bytes written."""
    with path.open("wb") as fh:
        done = 0
        while done < lines:
            n = min(chunk, lines - done)
            text = "\n".join(generate(n, seed + done)["line"].to_list()) + "\n"
            fh.write(text.encode())
            done += n
    return path.stat().st_size


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=5_000_000)
    args = ap.parse_args()
    size = write(args.out, args.lines)
    print(f"wrote {args.lines:,} lines, {size / 1e6:.0f} MB to {args.out}")
