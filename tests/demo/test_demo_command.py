"""`vigil demo` end to end as a user runs it: generate, ingest, accounts, summary; idempotent; clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

START = "2026-11-16"


def _vigil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["COLUMNS"] = "200"  # keep rich's summary on one line per row for the assertions
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _stored(data: Path) -> int:
    pattern = (data / "warehouse" / "events" / "school=demo-academy" / "date=*" / "*.parquet").as_posix()
    with duckdb.connect() as con:
        row = con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchone()
    return int(row[0]) if row else 0


def test_generate_only_then_a_conflicting_rerun_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "var"
    done = _vigil(tmp_path, "--data", str(data), "demo", "--generate-only", "--scale", "0.05", "--start", START)
    assert done.returncode == 0, done.stderr
    logs = data / "demo" / "logs"
    assert {p.name for p in logs.iterdir()} >= {
        "netsweeper-requests.log",
        "e2guardian-access.log",
        "fortigate.log",
        "README.txt",
        "ledger.json",
    }
    assert "SYNTHETIC" in (logs / "README.txt").read_text()
    assert "1,200 pupils, 120 staff" in done.stdout
    clash = _vigil(tmp_path, "--data", str(data), "demo", "--generate-only", "--seed", "99", "--scale", "0.05")
    assert clash.returncode == 2
    assert clash.stderr.count("\n") == 1 and "fresh --data" in clash.stderr and "Traceback" not in clash.stderr


@pytest.mark.parametrize("bad", [["--start", "2026-11-18"], ["--start", "next week"], ["--scale", "0"]])
def test_bad_options_are_one_line_errors(tmp_path: Path, bad: list[str]) -> None:
    done = _vigil(tmp_path, "--data", str(tmp_path / "var"), "demo", "--generate-only", *bad)
    assert done.returncode == 2
    assert done.stderr.startswith("vigil: ") and done.stderr.count("\n") == 1, done.stderr


def test_full_demo_loads_and_a_rerun_is_idempotent(tmp_path: Path) -> None:
    pytest.importorskip("ingest.files", reason="the ingest capability is not in this tree yet")
    pytest.importorskip("cases.users", reason="the case store is not in this tree yet")
    data = tmp_path / "var"
    args = ("--data", str(data), "demo", "--scale", "0.05", "--start", START, "--password", "demo-password-1")
    first = _vigil(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    assert "Demo password: demo-password-1" in first.stdout
    assert "dsl (dsl)" in first.stdout and "netmgr (network_manager)" in first.stdout
    lines = sum(len(p.read_text().splitlines()) for p in (data / "demo" / "logs").glob("*.log"))
    assert _stored(data) == lines

    second = _vigil(tmp_path, *args)
    assert second.returncode == 0, second.stderr
    assert _stored(data) == lines
    assert "dsl (dsl, existing)" in second.stdout

    from cases.store import CaseStore
    from cases.users import authenticate, list_users

    store = CaseStore.from_url(f"sqlite:///{(data / 'cases.db').as_posix()}")
    names = {u["name"]: u for u in list_users(store)}
    assert {"dsl", "deputy", "head", "netmgr", "admin"} <= set(names)
    roles = {r["role"] for r in names["head"]["roles"] if r["school"] == "demo-academy"}
    assert roles == {"head_teacher"}
    assert authenticate(store, "dsl", "demo-password-1").name == "dsl"
    store.dispose()
