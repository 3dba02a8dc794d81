"""`vigil governance ...` as people use it: exports, review figures, AI use, follow-ups, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from govkit import ai_rows, write_events

from cases.store import CaseStore
from governance import requests
from vigil.settings import Settings


def vigil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_DATA_DIR": str(cwd / "var")}
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "governance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A data directory with one decided request and SYNTHETIC AI browsing."""
    settings = Settings(data_dir=tmp_path / "var")
    store = CaseStore.from_url(settings.case_db_url)
    store.migrate()
    rid = requests.submit(
        store,
        school="north",
        actor="miss.jones",
        kind="unblock",
        url="https://www.bbc.co.uk/",
        category="news_reference",
        group="students",
        reason="current affairs lesson",
    )["id"]
    from governance.config import GovernanceConfig

    requests.decide(
        store,
        rid,
        actor="mr.dsl",
        roles={"dsl"},
        approve=True,
        reason="fine for lessons",
        filter_change="bbc.co.uk on the allow list",
        config=GovernanceConfig(),
    )
    store.dispose()
    write_events(settings, "cli-ai", ai_rows("north", datetime.now(UTC)))
    return tmp_path


def test_register_exports(seeded: Path) -> None:
    named = vigil("register", "--school", "north", cwd=seeded)
    assert named.returncode == 0, named.stderr
    assert "miss.jones" in named.stdout and "bbc.co.uk on the allow list" in named.stdout
    anon = vigil("register", "--school", "north", "--no-names", cwd=seeded)
    assert "miss.jones" not in anon.stdout and "mr.dsl" not in anon.stdout and "staff member" in anon.stdout
    out = vigil("register", "--school", "north", "--pdf", str(seeded / "r.pdf"), cwd=seeded)
    assert out.returncode == 0, out.stderr
    text = subprocess.run(["pdftotext", str(seeded / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Block/allow register" in text and "www.bbc.co.uk" in text


def test_review_ai_use_and_followups(seeded: Path) -> None:
    rv = vigil("review", "--school", "north", cwd=seeded)
    assert rv.returncode == 0, rv.stderr
    figures = json.loads(rv.stdout)["figures"]
    assert figures["decisions"]["by_kind_status"] == {"unblock:approved": 1}
    assert figures["ai_use"]["events"] == 20
    pdf = vigil("review", "--school", "north", "--pdf", str(seeded / "rv.pdf"), cwd=seeded)
    assert pdf.returncode == 0 and (seeded / "rv.pdf").read_bytes().startswith(b"%PDF")
    ai = vigil("ai-use", "--school", "north", cwd=seeded)
    assert ai.returncode == 0 and "20 requests to AI services" in ai.stdout and "pupil.amy" not in ai.stdout
    assert "chatgpt" in vigil("ai-services", cwd=seeded).stdout
    assert vigil("followups", cwd=seeded).stdout.strip() == "no follow-up due"


def test_errors_are_one_line(seeded: Path) -> None:
    for args in (
        ("review", "--school", "north", "--year", "2026"),
        ("delegate", "--school", "north", "illegal_content"),
    ):
        r = vigil(*args, cwd=seeded)
        assert r.returncode == 2, r.stderr
        assert (
            r.stderr.startswith("vigil: ") and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        )
    ok = vigil("delegate", "--school", "north", "games", "education", cwd=seeded)
    assert ok.returncode == 0 and ok.stdout.strip() == "north: education, games"
