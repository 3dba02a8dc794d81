"""End to end over the demo school's week (synthetic): planted episodes alert, look-alike lessons and
ordinary traffic stay out of the DSL queue (severity 3+), staff go to staff."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=600,
    )


def test_demo_week(tmp_path: Path) -> None:
    data = tmp_path / "var"
    gen = _vigil(
        "--data", str(data), "demo", "--generate-only", "--scale", "0.3", "--start", "2026-11-16", cwd=tmp_path
    )
    assert gen.returncode == 0, gen.stderr
    logs = data / "demo" / "logs"
    ledger = json.loads((logs / "ledger.json").read_text())
    done = _vigil("--data", str(data), "detect", *(str(p) for p in sorted(logs.glob("*.log"))), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [a for a in alerts if a["detector"] in ("keywords", "blocked_attempts")]
    planted: set[str] = set()
    for episode in ledger["episodes"]:
        users = set(episode["users"])
        planted |= users
        got = [a for a in mine if a["user"] in users and a["severity"] >= 3 and a["category"] == episode["category"]]
        if episode["benign"]:
            assert not got, (episode["name"], [(a["severity"], a["evidence"]["search_terms"]) for a in got])
        elif episode["category"] != "circumvention":  # the circumvention detector's episode
            assert got, episode["name"]
            assert all(a["subject_kind"] == episode["subject_kind"] for a in got), episode["name"]
    stray = Counter(a["user"] for a in mine if a["severity"] >= 3 and a["user"] not in planted)
    days = len(ledger["days"])
    pupils = 1200
    assert sum(stray.values()) <= 5 * days * pupils / 1000, stray
