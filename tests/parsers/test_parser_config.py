"""Configuration of parsers: custom `[formats.*]`, `[netsweeper]`, and e2guardian's forced sub-format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import vigil.settings as vigil_settings
from parsers.base import SourceMeta
from parsers.custom import build_custom_parsers
from parsers.e2guardian import E2GuardianParser
from parsers.errors import ParserConfigError
from parsers.netsweeper import NetsweeperParser
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import autodetect, get_parser
from vigil.settings import Settings

META = SourceMeta(now=datetime(2026, 11, 24, tzinfo=UTC))
GOOD: dict[str, Any] = {
    "kind": "delimited",
    "columns": ["t", "u", "url", "a"],
    "timestamp_format": "%Y-%m-%d %H:%M:%S",
    "detect": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,",
    "fields": {"ts": "t", "user": "u", "url": "url", "action": "a"},
    "actions": {"PASS": "allowed", "DROP": "blocked"},
}


@pytest.fixture
def active(request: pytest.FixtureRequest) -> Iterator[None]:
    """Activate the settings given by the test's `config` marker for its duration."""
    marker = request.node.get_closest_marker("config")
    previous = vigil_settings._active
    vigil_settings.activate(Settings(**(marker.args[0] if marker else {})))
    yield
    vigil_settings._active = previous
    vigil_settings._cached_default.cache_clear()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "xml"}, "kind"),
        ({"fields": {"user": "u"}}, "a `ts` field is required"),
        ({"fields": {"ts": "t", "nope": "u"}}, "unknown output column(s) nope"),
        ({"fields": {"ts": "t", "user": "missing"}}, "fields refer to missing"),
        ({"actions": {"PASS": "ok"}}, "actions must map to"),
        ({"default_action": "maybe"}, "default_action must be one of"),
        ({"detect": "(unclosed"}, "`detect` is not a valid regex"),
        ({"columns": ["t", "t"]}, "duplicate"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_custom_misconfiguration_is_one_line(change: dict[str, Any], message: str) -> None:
    """Every mistake in a [formats.x] table is a ParserConfigError naming the table, on one line."""
    with pytest.raises(ParserConfigError) as info:
        build_custom_parsers({"mine": {**GOOD, **change}})
    text = str(info.value)
    assert text.startswith("config: [formats.mine]")
    assert message in text
    assert "\n" not in text


def test_custom_regex_needs_pattern_and_groups() -> None:
    """A regex format needs a pattern whose named groups cover the fields."""
    with pytest.raises(ParserConfigError, match="needs a `pattern`"):
        build_custom_parsers({"r": {"kind": "regex", "fields": {"ts": "t"}}})
    with pytest.raises(ParserConfigError, match="fields refer to u"):
        build_custom_parsers({"r": {"kind": "regex", "pattern": r"(?P<t>\S+)", "fields": {"ts": "t", "user": "u"}}})


def test_custom_name_rules() -> None:
    """Names are identifiers and cannot shadow a built-in parser."""
    with pytest.raises(ParserConfigError, match="built-in parser name"):
        build_custom_parsers({"squid": GOOD}, reserved=["squid"])
    with pytest.raises(ParserConfigError, match="lower-case"):
        build_custom_parsers({"Bad-Name": GOOD})


@pytest.mark.config({"formats": {"edge_fw": GOOD}})
def test_custom_format_registered_and_autodetected(active: None) -> None:
    """A configured format is a parser by name and wins auto-detection on its own lines."""
    lines = ["2026-11-23 10:00:00,alice,http://a.example/,DROP", "2026-11-23 10:00:01,bob,http://b.example/,pass"]
    parser = get_parser("edge_fw")
    assert autodetect(lines).name == "edge_fw"
    result = parse_batch(make_batch(lines), parser, META)
    assert result.events["action"].to_pylist() == ["blocked", "allowed"]
    assert result.events["source"].to_pylist() == ["edge_fw", "edge_fw"]


@pytest.mark.config({"formats": {"squid": GOOD}})
def test_custom_cannot_shadow_builtin(active: None) -> None:
    """Configuring a format called `squid` is refused when parsers are looked up."""
    with pytest.raises(ParserConfigError, match="built-in parser name"):
        get_parser("squid")


@pytest.mark.config({"netsweeper": {"columns": ["url", "client_ip"]}})
def test_netsweeper_columns_need_timestamp(active: None) -> None:
    """A [netsweeper] column list without `timestamp` is a one-line configuration error."""
    with pytest.raises(ParserConfigError, match=r"\[netsweeper\] columns: columns must include timestamp"):
        parse_batch(make_batch(["x"]), NetsweeperParser(), META)


@pytest.mark.config({"netsweeper": {"categories_file": "/nonexistent/categories.toml"}})
def test_netsweeper_missing_category_table(active: None) -> None:
    """A missing category table is reported with its path."""
    with pytest.raises(ParserConfigError, match="/nonexistent/categories.toml"):
        parse_batch(make_batch(["x"]), NetsweeperParser(), META)


def test_netsweeper_school_category_table(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The school's own table replaces the example; names come from it."""
    table = tmp_path / "cats.toml"
    table.write_text('[categories]\n4 = "Betting"\n', encoding="utf-8")
    previous = vigil_settings._active
    vigil_settings.activate(Settings(netsweeper={"categories_file": str(table)}))
    try:
        line = "ns\t2026-11-23 10:00:00\thttp://x.example/\t10.0.0.1\talice\tDenied\t\t4,5"
        result = parse_batch(make_batch([line]), NetsweeperParser(), META)
    finally:
        vigil_settings._active = previous
        vigil_settings._cached_default.cache_clear()
    assert result.events["category"].to_pylist() == ["Betting;category 5"]


def test_e2guardian_forced_format_and_bad_value() -> None:
    """`logfileformat` forces the sub-format; a value outside 1..8 is a configuration error."""
    line = "1795453506.939      1 10.10.0.11 TCP_DENIED/403 0 GET http://adult.test alice DEFAULT_PARENT/127.0.0.1 -"
    forced = SourceMeta(now=META.now, options={"logfileformat": 3})
    result = parse_batch(make_batch([line]), E2GuardianParser(), forced)
    assert result.events["action"].to_pylist() == ["blocked"]
    wrong = SourceMeta(now=META.now, options={"logfileformat": 5})
    assert parse_batch(make_batch([line]), E2GuardianParser(), wrong).rejects["reason"].to_pylist() == [
        "not_e2guardian"
    ]
    with pytest.raises(ParserConfigError, match="logfileformat must be 1..8"):
        parse_batch(make_batch([line]), E2GuardianParser(), SourceMeta(now=META.now, options={"logfileformat": 9}))


@pytest.mark.config({"e2guardian": {"logfileformat": 3}})
def test_e2guardian_format_from_config(active: None) -> None:
    """`[e2guardian] logfileformat` forces the sub-format when the source gives none; a bad value is refused."""
    line = "1795453506.939      1 10.10.0.11 TCP_DENIED/403 0 GET http://adult.test alice DEFAULT_PARENT/127.0.0.1 -"
    assert parse_batch(make_batch([line]), E2GuardianParser(), META).events["action"].to_pylist() == ["blocked"]
    vigil_settings.activate(Settings(e2guardian={"logfileformat": "nine"}))
    with pytest.raises(ParserConfigError, match="logfileformat must be 1..8, got 'nine'"):
        parse_batch(make_batch([line]), E2GuardianParser(), META)
