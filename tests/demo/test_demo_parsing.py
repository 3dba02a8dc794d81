"""Every generated line parses with the parser it was written for, and the parsed events say what was meant."""

from __future__ import annotations

import polars as pl
import pytest

from parsers.errors import UnknownFormatError
from parsers.registry import autodetect, get_parser
from vigil.demo import DemoResult

FORMATS = ("netsweeper", "e2guardian", "fortigate")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_line_parses_without_a_reject(fmt: str, demo_week: DemoResult, parse_file: object) -> None:
    result = parse_file(demo_week.files[fmt], fmt)  # type: ignore[operator]
    lines = demo_week.lines[fmt]
    rejects = pl.from_arrow(result.rejects)
    assert result.rejects.num_rows == 0, rejects.group_by("reason").len().rows()  # type: ignore[union-attr]
    assert result.events.num_rows == lines
    assert set(result.events.column("source").to_pylist()) == {fmt}


@pytest.mark.parametrize("fmt", FORMATS)
def test_autodetect_picks_the_intended_parser(fmt: str, demo_week: DemoResult) -> None:
    try:
        get_parser(fmt)
    except UnknownFormatError as exc:
        pytest.skip(f"parser {fmt!r} is not registered yet: {exc}")
    sample = demo_week.files[fmt].read_text().splitlines()[:200]
    assert autodetect(sample).name == fmt


def test_netsweeper_events(parsed: dict[str, pl.DataFrame], events_of: object) -> None:
    ev = events_of(parsed, "netsweeper")  # type: ignore[operator]
    assert set(ev["action"].unique()) == {"allowed", "blocked", "warned", "proceeded"}
    pupils = ev.filter(pl.col("user").is_not_null())
    assert pupils["user"].str.contains(r"^\d\d[a-z]+\d?$").all()
    blocked = ev.filter(pl.col("action") == "blocked")["category"].unique().to_list()
    assert {"Social Networking", "Games"} <= set(blocked)
    assert ev.filter(pl.col("search_terms").is_not_null()).height > 1000
    # Pupils in one lesson share their classroom's /24.
    assert ev["client_ip"].str.contains(r"^10\.2[01]\.").all()


def test_e2guardian_events(parsed: dict[str, pl.DataFrame], events_of: object) -> None:
    ev = events_of(parsed, "e2guardian")  # type: ignore[operator]
    assert set(ev["user_group"].unique()) == {"year12", "year13"}
    assert set(ev["action"].unique()) == {"allowed", "blocked"}
    assert "CONNECT" in set(ev["method"].unique())
    assert ev["host"].str.contains(":").not_().all()
    assert ev.filter(pl.col("search_terms").is_not_null()).height > 100


def test_fortigate_events(parsed: dict[str, pl.DataFrame], events_of: object) -> None:
    ev = events_of(parsed, "fortigate")  # type: ignore[operator]
    dns = ev.filter(pl.col("method") == "DNS")
    web = ev.filter(pl.col("user_group") == "staff")
    assert dns.height > 1000 and web.height > 1000
    assert web["user"].str.contains(r"^[a-z]\.[a-z]+\d?$").all()
    assert web.filter(pl.col("search_terms").is_not_null()).height > 100
    denied = ev.filter((pl.col("action") == "blocked") & (pl.col("dst_port") == 1194))
    assert denied.height == 1


def test_summer_week_times_are_local_in_the_logs_and_utc_once_parsed(
    tmp_path_factory: pytest.TempPathFactory, parse_file: object
) -> None:
    from datetime import UTC, date, datetime

    from vigil.demo import generate

    week = generate(tmp_path_factory.mktemp("summer") / "logs", seed=3, scale=0.02, start=date(2026, 6, 15))
    staff = next(e for e in week.ledger if e.subject_kind == "staff")
    assert 'tz="+0100"' in week.files["fortigate"].read_text()
    result = parse_file(week.files["fortigate"], "fortigate")  # type: ignore[operator]
    ev = pl.from_arrow(result.events)
    hit = ev.filter((pl.col("user") == staff.users[0]) & (pl.col("search_terms") == staff.terms[0]))  # type: ignore[union-attr]
    assert hit.height == 1
    ts = hit["ts"][0]
    # Planted at 17:05 British Summer Time on the Wednesday: 16:05 UTC.
    assert datetime(2026, 6, 17, 16, 5, tzinfo=UTC) <= ts < datetime(2026, 6, 17, 16, 6, tzinfo=UTC)
    ns = pl.from_arrow(parse_file(week.files["netsweeper"], "netsweeper").events)  # type: ignore[operator]
    local = ns["ts"].dt.convert_time_zone("Europe/London").dt.hour()  # type: ignore[union-attr]
    assert int(local.is_between(8, 17).sum()) > 0.9 * ns.height  # type: ignore[union-attr]
