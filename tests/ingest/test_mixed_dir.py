"""One `vigil ingest DIR` over a directory with one file per format: per-file detection, per-format summary."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.files import ingest_paths
from parsers.registry import BUILTIN_PARSERS
from vigil.settings import Settings

GOLDEN = Path(__file__).resolve().parent.parent / "parsers" / "golden"
# Formats that need configuration to be recognised (custom formats are declared in vigil.toml).
NEEDS_CONFIG = {"custom"}


def first_case_with_events(parser: str) -> Path | None:
    for log in sorted((GOLDEN / parser).glob("*.log")):
        expected = log.with_suffix(".expected.jsonl")
        if (
            expected.stat().st_size
            and not log.with_suffix(".config.toml").exists()
            and not log.with_suffix(".meta.json").exists()
        ):
            return log
    return None


def test_mixed_directory_ingests_every_format_once(settings: Settings, tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    expected: dict[str, int] = {}
    for parser in BUILTIN_PARSERS:
        if parser.name in NEEDS_CONFIG:
            continue
        case = first_case_with_events(parser.name)
        assert case is not None, f"no golden with events for {parser.name}"
        shutil.copy(case, d / f"{parser.name}.log")
        expected[parser.name] = len(case.read_text().splitlines())
    summary = ingest_paths([str(d)], settings=settings, school="s1", detect=False)
    by_format = summary.by_format()
    assert not [f.path for f in summary.files if f.error], [f.error for f in summary.files if f.error]
    assert {name: row["lines"] for name, row in by_format.items()} == expected
    assert all(row["files"] == 1 for row in by_format.values())
    assert all(row["events"] + row["rejects"] == row["lines"] for row in by_format.values())
