"""Golden files: every `tests/parsers/golden/<parser>/<case>.log` parsed and compared with its outputs.

`<case>.expected.jsonl` holds the events (EVENT_SCHEMA keys, `ts` as ISO 8601 UTC), `<case>.rejects.jsonl`
the rejects (without `ts_ingested`). `pytest tests/parsers --update-goldens` (`make goldens`) rewrites them;
the invariants below are checked either way:
- the events table has exactly EVENT_SCHEMA;
- events + rejects == input lines, each line exactly once;
- every reject reason is one the parser declares (or a common one);
- on the lines it accepts, the parser's `detect()` scores highest of all registered parsers (ties go to
  registry order, as in `--format auto`).
Optional `<case>.config.toml` is activated as vigil.toml for the case (`[netsweeper]`, `[formats.x]`); in
the `custom/` directory the case's single `[formats.<name>]` table is the parser under test.
Optional `<case>.meta.json` overrides SourceMeta fields (`tz`, `options`).
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import vigil.settings as vigil_settings
from parsers.base import COMMON_FAILURE_REASONS, Parser, SourceMeta
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import detect_scores, get_parser
from parsers.schema import EVENT_SCHEMA
from vigil.settings import Settings

GOLDEN = Path(__file__).parent / "golden"
# A fixed clock: year inference for formats without a year (RFC 3164) must not move with the calendar.
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
CASES = sorted(GOLDEN.glob("*/*.log"))


def read_lines(path: Path) -> list[str]:
    """Lines as the file reader sees them: split on LF only, no trailing empty line."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.removesuffix("\r") for ln in lines]


def to_jsonable(value: Any) -> Any:
    """JSON-friendly scalar: timestamps as ISO 8601 UTC with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def rows(table: pa.Table, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Table rows as dicts in column order."""
    return [{k: to_jsonable(v) for k, v in r.items() if k not in drop} for r in table.to_pylist()]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file (missing file = no rows)."""
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def write_jsonl(path: Path, data: list[dict[str, Any]]) -> None:
    """Write rows as JSON lines (empty file for no rows)."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")


def case_settings(case: Path) -> Settings:
    """Settings for a case: defaults plus the case's `.config.toml`, if any."""
    cfg = case.with_suffix(".config.toml")
    values = tomllib.loads(cfg.read_text(encoding="utf-8")) if cfg.exists() else {}
    return Settings(**values)


def case_parser(case: Path, settings: Settings) -> Parser:
    """The parser under test: the directory name, or the single custom format of a `custom/` case."""
    name = case.parent.name
    if name == "custom":
        formats = settings.section("formats")
        assert len(formats) == 1, f"{case}: a custom case's .config.toml defines exactly one [formats.<name>]"
        name = next(iter(formats))
    return get_parser(name)


def case_meta(case: Path) -> SourceMeta:
    """Fixed SourceMeta for a case, with overrides from `<case>.meta.json`."""
    meta_file = case.with_suffix(".meta.json")
    extra = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    return SourceMeta(
        school="default",
        tz=extra.get("tz", "Europe/London"),
        origin_prefix=f"golden:{case.parent.name}/{case.name}",
        now=NOW,
        options=extra.get("options", {}),
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_golden(case: Path, request: pytest.FixtureRequest) -> None:
    """Parse a golden input; check the invariants; compare with (or rewrite) the expected outputs."""
    update = bool(request.config.getoption("--update-goldens", default=False))
    previous = vigil_settings._active
    settings = case_settings(case)
    vigil_settings.activate(settings)
    try:
        _check_case(case, settings, update)
    finally:
        vigil_settings._active = previous
        vigil_settings._cached_default.cache_clear()


def _check_case(case: Path, settings: Settings, update: bool) -> None:
    parser = case_parser(case, settings)
    lines = read_lines(case)
    meta = case_meta(case)
    result = parse_batch(make_batch(lines), parser, meta)

    # Invariant 1: exactly the event schema.
    assert result.events.schema.equals(EVENT_SCHEMA, check_metadata=False), "events schema != EVENT_SCHEMA"
    # Invariant 2: every input line comes out exactly once, as an event or as a reject.
    assert result.events.num_rows + result.rejects.num_rows == len(lines)
    origins = Counter(result.events["origin"].to_pylist() + result.rejects["origin"].to_pylist())
    assert origins == Counter(f"{meta.origin_prefix}:{i}" for i in range(1, len(lines) + 1))
    # Invariant 3: reject reasons are declared.
    allowed = set(parser.failure_reasons) | set(COMMON_FAILURE_REASONS)
    undeclared = set(result.rejects["reason"].to_pylist()) - allowed
    assert not undeclared, f"{parser.name} gave undeclared reject reasons {undeclared}"
    # Invariant 4: on the lines it accepts, this parser wins auto-detection.
    accepted = [r for r in result.events["raw"].to_pylist() if r is not None]
    if accepted:
        scores = detect_scores(accepted)
        assert scores[0][1] == parser.name, f"auto-detection picks {scores[0]} over {parser.name}: {scores[:3]}"

    events = rows(result.events)
    rejects = rows(result.rejects, drop=("ts_ingested",))
    expected_path = case.with_suffix(".expected.jsonl")
    rejects_path = case.with_suffix(".rejects.jsonl")
    if update:
        write_jsonl(expected_path, events)
        write_jsonl(rejects_path, rejects)
        return
    assert expected_path.exists(), f"{expected_path} missing: run `make goldens`"
    _compare(events, read_jsonl(expected_path), "events")
    _compare(rejects, read_jsonl(rejects_path), "rejects")


def _compare(got: list[dict[str, Any]], want: list[dict[str, Any]], what: str) -> None:
    """Row-by-row comparison with a readable first difference."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        if g != w:
            diff = {k: (g.get(k), w.get(k)) for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)}
            pytest.fail(f"{what} row {i} differs (got, expected): {diff}")


def test_every_builtin_parser_has_goldens() -> None:
    """Each registered built-in parser has at least two golden cases."""
    from parsers.registry import BUILTIN_PARSERS

    counts = Counter(c.parent.name for c in CASES)
    thin = [p.name for p in BUILTIN_PARSERS if counts[p.name] < 2]
    assert not thin, f"parsers without at least two golden cases: {thin}"
