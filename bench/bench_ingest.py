"""`vigil ingest` end to end on generated Squid native lines, against a bare DuckDB split-and-write baseline.

Usage: .venv/bin/python bench/bench_ingest.py [--lines 5000000] [--runs 3] [--input FILE] [--keep]
Each run times the DuckDB baseline and then `vigil ingest --no-detect` (a fresh data directory each time) as
child processes, back to back, so both see the same machine load. Prints every run with the 1-minute load
average before it, then the medians: lines/s, MB/s, peak RSS and the ratio vigil/DuckDB
(targets: >= 400k lines/s, within 1.5x of DuckDB, peak RSS < 1.5 GB on 5M lines).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATOR = Path(__file__).resolve().parent / "gen_squid.py"

DUCKDB_BASELINE = """
import duckdb, sys
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f'''
COPY (
  SELECT string_split(regexp_replace(line, ' +', ' ', 'g'), ' ') AS f, line FROM read_csv('{src}',
    columns={{'line': 'VARCHAR'}}, delim='\\x1f', quote='', escape='', header=false, auto_detect=false)
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)''')
"""


def run(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process (via wait4).

    Linux carries a process's peak RSS across fork and exec, so this parent imports nothing heavy.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    """Generate (or reuse) the input, run both `--runs` times, report each run and the medians."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--input", type=Path, help="an existing Squid native file to use instead of generating one")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    if args.input:
        src = args.input.resolve()
        with src.open("rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
        size = src.stat().st_size
    else:
        # Generated in a child process: a child's peak RSS counts its parent's at fork, so the parent stays small.
        src = tmp / "squid.log"
        subprocess.run([sys.executable, str(GENERATOR), str(src), "--lines", str(args.lines)], check=True)
        lines, size = args.lines, src.stat().st_size
    mb = size / 1e6
    py = sys.executable
    vigil = Path(py).with_name("vigil")
    print(f"input: {lines:,} Squid native lines, {mb:,.0f} MB")
    base: list[tuple[float, float, float]] = []
    ing: list[tuple[float, float, float]] = []
    for i in range(args.runs):
        load = os.getloadavg()[0]
        base.append(run([py, "-c", DUCKDB_BASELINE, str(src), str(tmp / "baseline.parquet")], tmp))
        shutil.rmtree(tmp / "var", ignore_errors=True)
        ing.append(
            run([str(vigil), "--data", str(tmp / "var"), "ingest", "--no-detect", "--school", "bench", str(src)], tmp)
        )
        print(
            f"run {i + 1}: load {load:4.1f}  duckdb {base[-1][0]:6.2f} s (cpu {base[-1][1]:5.1f} s)  "
            f"vigil {ing[-1][0]:6.2f} s (cpu {ing[-1][1]:5.1f} s, RSS {ing[-1][2]:,.0f} MB)  "
            f"ratio {ing[-1][0] / base[-1][0]:.2f}x",
            flush=True,
        )
    for name, rows in (("duckdb split+write", base), ("vigil ingest", ing)):
        wall = statistics.median(r[0] for r in rows)
        rss = max(r[2] for r in rows)
        print(
            f"{name:19} median {wall:6.2f} s  {lines / wall:>10,.0f} lines/s  {mb / wall:6.1f} MB/s  "
            f"peak RSS {rss:,.0f} MB"
        )
    ratio = statistics.median(i[0] / b[0] for i, b in zip(ing, base, strict=True))
    print(f"ratio vigil/duckdb (median of per-run ratios): {ratio:.2f}x")
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
