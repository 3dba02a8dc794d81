"""`--format auto` picks each issue-4 parser from 5 lines of its format (taken from its golden events)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers.registry import autodetect

GOLDEN = Path(__file__).parent / "golden"
MINE = ("pfsense", "paloalto", "sophos", "umbrella", "zscaler", "bind", "dnsmasq", "unbound", "cef", "leef")


def five_lines(name: str) -> list[str]:
    """Five raw lines that parse as events in this parser's goldens (cycled when there are fewer)."""
    raws = [
        json.loads(row)["raw"]
        for path in sorted((GOLDEN / name).glob("*.expected.jsonl"))
        for row in path.read_text("utf-8").splitlines()
        if row.strip()
    ]
    assert raws, f"no golden events for {name}"
    return [raws[i % len(raws)] for i in range(5)]


@pytest.mark.parametrize("name", MINE)
def test_autodetect_picks_parser(name: str) -> None:
    """The five lines' best-scoring parser is this one."""
    assert autodetect(five_lines(name)).name == name


@pytest.mark.parametrize("name", MINE)
def test_autodetect_first_five_of_each_case(name: str) -> None:
    """Each golden case's first five event lines (as a file's head would be sampled) pick this parser."""
    for path in sorted((GOLDEN / name).glob("*.expected.jsonl")):
        raws = [json.loads(r)["raw"] for r in path.read_text("utf-8").splitlines() if r.strip()][:5]
        if raws:
            assert autodetect(raws).name == name, path.name
