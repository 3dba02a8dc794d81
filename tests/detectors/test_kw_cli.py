"""`vigil detect` and `vigil model train` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

T0 = 1795453506


def _squid(dt: int, user: str, url: str, result: str = "TCP_MISS/200") -> str:
    return f"{T0 + dt}.000      5 10.1.2.11 {result} 389 GET {url} {user} HIER_DIRECT/1.2.3.4 text/html"


def _vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=120,
    )


def test_detect_prints_json_alerts(tmp_path: Path) -> None:
    log = tmp_path / "access.log"  # synthetic Squid lines written for this test
    lines = [
        _squid(0, "alice", "https://www.google.co.uk/search?q=how+to+kill+myself"),
        _squid(1, "bob", "https://www.google.com/search?q=kill+a+process+in+linux"),
        *(_squid(10 + i, "carl", "http://www.pornhub.com/", "TCP_DENIED/403") for i in range(5)),
    ]
    log.write_text("\n".join(lines) + "\n")
    done = _vigil("--data", str(tmp_path / "var"), "detect", str(log), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    alerts = [json.loads(line) for line in done.stdout.splitlines()]
    by = {(a["detector"], a["user"]): a for a in alerts}
    kw = by[("keywords", "alice")]
    assert kw["category"] == "suicide_self_harm" and kw["severity"] == 5 and kw["ts"].startswith("2026-11-23T17:05:06")
    ev = kw["evidence"]
    assert ev["url"].startswith("https://www.google.co.uk") and ev["host"] == "www.google.co.uk"
    assert ev["search_terms"] == "how to kill myself" and ev["matched"] == "how to kill myself"
    assert by[("blocked_attempts", "carl")]["category"] == "pornography"
    assert ("keywords", "bob") not in by


def test_detect_unreadable_input_is_one_line_exit_2(tmp_path: Path) -> None:
    done = _vigil("detect", str(tmp_path / "missing.log"), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_model_train_keywords_writes_a_model(tmp_path: Path) -> None:
    from detectors.trainingdata import QUERIES_CSV

    lines = QUERIES_CSV.read_text(encoding="utf-8").splitlines()
    small = tmp_path / "queries.csv"  # every third row keeps the test quick on a shared machine
    small.write_text("\n".join([lines[0], *lines[1::3]]) + "\n", encoding="utf-8")
    out = tmp_path / "kw.joblib"
    done = _vigil("model", "train", "--keywords", "--data-file", str(small), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert out.is_file() and report["metrics"]["test"]["concern_recall"] >= 0.95
