"""`make bench`: run every benchmark script in turn (or `--only NAME ...`); figures go to bench/RESULTS.md by hand.

Each script prints its own figures and takes its own options (`python bench/bench_<name>.py --help`); this
runner uses their defaults, which are sized for a 2-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = (
    "ingest",
    "parsers",
    "issue4_parsers",
    "keywords",
    "circumvention",
    "kafka",
    "syslog",
    "api",
    "retention",
    "demo",
    "governance",
)


def main() -> int:
    """Run the chosen benchmarks; exit non-zero if any failed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", choices=ORDER, help="run only these")
    args = ap.parse_args()
    failed = []
    for name in args.only or ORDER:
        script = HERE / f"bench_{name}.py"
        print(f"== {name}: {script.name}", flush=True)
        started = time.perf_counter()
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode:
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
