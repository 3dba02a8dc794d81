"""Property tests: parsers never raise and never lose a line; framing and URL splitting round-trip."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil.settings as vigil_settings
from parsers.base import COMMON_FAILURE_REASONS, Parser, SourceMeta
from parsers.custom import build_custom_parsers
from parsers.framing import frame
from parsers.pipeline import make_batch, parse_batch
from parsers.registry import BUILTIN_PARSERS
from parsers.urls import split_url
from vigil.settings import Settings

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
META = SourceMeta(origin_prefix="prop", now=NOW)
GOLDEN_LINES = sorted(
    {ln for p in (Path(__file__).parent / "golden").glob("*/*.log") for ln in p.read_text("utf-8").split("\n")}
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Built-ins plus the custom formats declared by the golden cases (regex, delimited-with-quotes and kv layouts).
CUSTOM = build_custom_parsers(
    {
        name: table
        for cfg in sorted((Path(__file__).parent / "golden" / "custom").glob("*.config.toml"))
        for name, table in tomllib.loads(cfg.read_text("utf-8"))["formats"].items()
    }
)
ALL_PARSERS = [*BUILTIN_PARSERS, *CUSTOM]
PARSER_IDS = [p.name for p in ALL_PARSERS]


@pytest.fixture(autouse=True, scope="module")
def _default_settings() -> Iterator[None]:
    """Parsers that read configuration (netsweeper) see defaults, not a stray ./vigil.toml."""
    previous = vigil_settings._active
    vigil_settings.activate(Settings())
    yield
    vigil_settings._active = previous
    vigil_settings._cached_default.cache_clear()


def check_total(parser: Parser, lines: list[str], decode_errors: list[bool] | None = None) -> None:
    """Parse without raising; events + rejects == lines; reasons declared; schema-exact output."""
    result = parse_batch(make_batch(lines, decode_errors=decode_errors), parser, META)
    assert result.events.num_rows + result.rejects.num_rows == len(lines)
    declared = set(parser.failure_reasons) | set(COMMON_FAILURE_REASONS)
    assert set(result.rejects["reason"].to_pylist()) <= declared
    origins = sorted(result.events["origin"].to_pylist() + result.rejects["origin"].to_pylist())
    assert origins == sorted(f"prop:{i}" for i in range(1, len(lines) + 1))


line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=300)


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=PARSER_IDS)
@SETTINGS
@given(lines=st.lists(line_text, max_size=12))
def test_arbitrary_text_lines(parser: Parser, lines: list[str]) -> None:
    """Any text lines: no exception, nothing lost."""
    check_total(parser, lines)


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=PARSER_IDS)
@SETTINGS
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes(parser: Parser, data: bytes) -> None:
    """Any bytes, split on LF and decoded with replacement as the file reader does."""
    raw = data.split(b"\n")
    lines = [r.decode("utf-8", errors="replace") for r in raw]
    errors = [r.decode("utf-8", errors="replace").encode("utf-8") != r for r in raw]
    check_total(parser, lines, errors)


@st.composite
def mutated_golden(draw: st.DrawFn) -> str:
    """A real golden line cut, spliced or sprinkled with noise: near-misses exercise every code path."""
    line = draw(st.sampled_from(GOLDEN_LINES))
    i = draw(st.integers(0, len(line)))
    j = draw(st.integers(i, len(line)))
    noise = draw(st.text(st.sampled_from(' \t"\\=,:/*-%0123456789aZé\x00'), max_size=6))
    return line[:i] + noise + line[j:]


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=PARSER_IDS)
@SETTINGS
@given(lines=st.lists(mutated_golden(), min_size=1, max_size=15))
def test_mutated_real_lines(parser: Parser, lines: list[str]) -> None:
    """Damaged versions of real lines of every format: no exception, nothing lost."""
    check_total(parser, lines)


# ---------------------------------------------------------------- framing round-trip
body_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\n\ufeff"), max_size=120
).map(lambda s: "m" + s)  # a body starts with a plain letter, as every vendor body does
hostname = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
appname = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
pri = st.integers(0, 191)
when = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 20)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)


def framed(raw: str) -> dict[str, object]:
    """The frame columns of one raw line."""
    df = frame(pl.DataFrame({"raw": [raw]}, schema={"raw": pl.String}), tz="UTC", now=NOW)
    return df.row(0, named=True)


@SETTINGS
@given(p=pri, ts=when, host=hostname, app=appname, pid=st.integers(1, 99999), body=body_text)
def test_rfc3164_round_trip(p: int, ts: datetime, host: str, app: str, pid: int, body: str) -> None:
    """`<PRI>Mmm dd hh:mm:ss host app[pid]: body` gives back body, host, app and the time (year inferred)."""
    stamp = f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S}"
    row = framed(f"<{p}>{stamp} {host} {app}[{pid}]: {body}")
    assert row["body"] == body
    assert row["syslog_host"] == host
    assert row["syslog_app"] == app
    assert row["syslog_ts"] == ts.replace(microsecond=0, tzinfo=UTC)


@SETTINGS
@given(p=pri, ts=when, host=hostname, app=appname, body=body_text)
def test_rfc5424_round_trip(p: int, ts: datetime, host: str, app: str, body: str) -> None:
    """`<PRI>1 ISO host app procid msgid - body` gives back body, host, app and the exact time."""
    iso = ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    row = framed(f"<{p}>1 {iso} {host} {app} 1234 ID47 - {body}")
    assert row["body"] == body
    assert row["syslog_host"] == host
    assert row["syslog_app"] == app
    assert row["syslog_ts"] == ts.replace(tzinfo=UTC)


@SETTINGS
@given(p=pri, body=body_text)
def test_bare_pri_round_trip(p: int, body: str) -> None:
    """`<PRI>body` (FortiGate style) gives back the body and no header fields."""
    row = framed(f"<{p}>{body}")
    assert row["body"] == body
    assert row["syslog_host"] is None


# ---------------------------------------------------------------- URL split round-trip
@SETTINGS
@given(
    scheme=st.sampled_from(["http", "https", "ftp"]),
    labels=st.lists(
        st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True), min_size=1, max_size=4
    ),
    tld=st.sampled_from(["com", "co.uk", "org", "test", "sch.uk"]),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    path=st.one_of(st.none(), st.from_regex(r"/[A-Za-z0-9/._~%-]{0,40}", fullmatch=True)),
    query=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9=&+%._-]{0,40}", fullmatch=True)),
)
def test_url_split_round_trip(
    scheme: str, labels: list[str], tld: str, port: int | None, path: str | None, query: str | None
) -> None:
    """scheme://host[:port][path][?query] splits back into its parts (host lower-cased)."""
    host = ".".join([*labels, tld])
    url = f"{scheme}://{host}" + (f":{port}" if port is not None else "") + (path or "")
    url += f"?{query}" if query is not None else ""
    got = pl.select(split_url(pl.lit(url)).alias("u")).row(0, named=True)["u"]
    assert got["scheme"] == scheme
    assert got["host"] == host.lower()
    assert got["port"] == port
    assert got["path"] == (path or None)
    assert got["query"] == query


def test_property_inputs_present() -> None:
    """The mutation strategy has real lines to work from."""
    assert len(GOLDEN_LINES) > 50
