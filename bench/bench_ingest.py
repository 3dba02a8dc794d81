"""`vigil ingest` end to end on generated Squid native lines, against a bare DuckDB split-and-write baseline.

Usage: .venv/bin/python bench/bench_ingest.py [--lines 5000000] [--keep]
Prints lines/s, MB/s and peak RSS for both, and their ratio (target: >= 400k lines/s, within 1.5x of DuckDB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_squid import write  # noqa: E402

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


def run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process (its own rusage, via wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    """Generate, run both, report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    src = tmp / "squid.log"
    size = write(src, args.lines)
    mb = size / 1e6
    py = sys.executable
    vigil = Path(py).with_name("vigil")
    base_wall, base_rss = run([py, "-c", DUCKDB_BASELINE, str(src), str(tmp / "baseline.parquet")], tmp)
    ing_wall, ing_rss = run(
        [str(vigil), "--data", str(tmp / "var"), "ingest", "--no-detect", "--school", "bench", str(src)], tmp
    )
    print(f"input: {args.lines:,} Squid native lines, {mb:,.0f} MB")
    print(
        f"duckdb split+write: {base_wall:6.2f} s  {args.lines / base_wall:>10,.0f} lines/s  "
        f"{mb / base_wall:6.1f} MB/s  peak RSS {base_rss:,.0f} MB"
    )
    print(
        f"vigil ingest:       {ing_wall:6.2f} s  {args.lines / ing_wall:>10,.0f} lines/s  "
        f"{mb / ing_wall:6.1f} MB/s  peak RSS {ing_rss:,.0f} MB"
    )
    print(f"ratio vigil/duckdb: {ing_wall / base_wall:.2f}x")
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
