"""How fast the demo generator writes its synthetic week (target: 500k lines in under 20 s on 2 cores).

Run: .venv/bin/python bench/bench_demo.py [--scale 1.9] [--seed 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from vigil.demo import generate


def main() -> None:
    """Generate once into a temporary directory and print lines, bytes and time."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.9, help="traffic scale (1.9 is about 500k lines)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = generate(Path(tmp) / "logs", seed=args.seed, scale=args.scale, start=date(2026, 11, 16))
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in result.files.values())
    print(f"scale {args.scale}: {result.total_lines:,} lines ({size / 1e6:.0f} MB) in {seconds:.2f} s")
    print(f"  {result.total_lines / seconds:,.0f} lines/s; per file: {result.lines}")


if __name__ == "__main__":
    main()
