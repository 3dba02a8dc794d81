"""A small generated demo week shared by the demo tests (scale 0.25: same people and episodes, less traffic)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from parsers.base import ParseResult, SourceMeta
from parsers.errors import UnknownFormatError
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import get_parser
from vigil.demo import DemoResult, generate

MONDAY = date(2026, 11, 16)
SEED = 11
SCALE = 0.25


@pytest.fixture(scope="session")
def demo_week(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """One generated week, reused read-only by every test in this directory."""
    return generate(tmp_path_factory.mktemp("demo") / "logs", seed=SEED, scale=SCALE, start=MONDAY)


def _parse_file(path: Path, fmt: str) -> ParseResult:
    """Parse a whole generated file with the named parser (skip loudly when it is not registered yet)."""
    try:
        parser = get_parser(fmt)
    except UnknownFormatError as exc:
        pytest.skip(f"parser {fmt!r} is not registered yet: {exc}")
    lines = path.read_text().splitlines()
    meta = SourceMeta(school="demo-academy", origin_prefix=f"file:{path}", now=datetime(2026, 11, 24, tzinfo=UTC))
    return parse_batch(make_batch(lines), parser, meta)


@pytest.fixture(scope="session")
def parsed(demo_week: DemoResult) -> dict[str, pl.DataFrame]:
    """Events of each generated file, parsed by its own parser (formats whose parser is missing are absent)."""
    out: dict[str, pl.DataFrame] = {}
    for fmt, path in demo_week.files.items():
        try:
            get_parser(fmt)
        except UnknownFormatError:
            continue
        result = _parse_file(path, fmt)
        out[fmt] = pl.from_arrow(result.events)  # type: ignore[assignment]
    return out


def _events_of(parsed: dict[str, pl.DataFrame], fmt: str) -> pl.DataFrame:
    """The parsed events of one format, or a loud skip when its parser is not registered."""
    if fmt not in parsed:
        pytest.skip(f"parser {fmt!r} is not registered yet")
    return parsed[fmt]


@pytest.fixture
def parse_file() -> Callable[[Path, str], ParseResult]:
    """The whole-file parse helper."""
    return _parse_file


@pytest.fixture
def events_of() -> Callable[[dict[str, pl.DataFrame], str], pl.DataFrame]:
    """The parsed-events-or-skip helper."""
    return _events_of
