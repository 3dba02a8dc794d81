"""The simulated school: deterministic, the right shape, a believable day, and only weekdays."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from vigil.demo import DemoResult, generate
from vigil.demo.errors import DemoError
from vigil.demo.timetable import school_week

MONDAY = date(2026, 11, 16)  # the week the shared fixture generates (tests/demo/conftest.py)


def _local_times(demo_week: DemoResult) -> pl.Series:
    """Local wall-clock datetimes of every line in the three files, read straight from the text."""
    ns = pl.Series(demo_week.files["netsweeper"].read_text().splitlines()).str.split("\t").list.get(1)
    e2 = pl.Series(demo_week.files["e2guardian"].read_text().splitlines()).str.split("\t").list.get(0)
    fg_local = pl.Series(demo_week.files["fortigate"].read_text().splitlines()).str.extract_groups(
        r"^date=(?<d>\S+) time=(?<t>\S+)"
    )
    return pl.concat(
        [
            ns.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us"),
            (e2.cast(pl.Float64) * 1_000_000)
            .cast(pl.Int64)
            .cast(pl.Datetime("us", "UTC"))
            .dt.convert_time_zone("Europe/London")
            .dt.replace_time_zone(None)
            .dt.cast_time_unit("us"),
            (fg_local.struct.field("d") + " " + fg_local.struct.field("t")).str.to_datetime(
                "%Y-%m-%d %H:%M:%S", time_unit="us"
            ),
        ]
    )


def test_same_seed_gives_byte_identical_files(tmp_path: Path, demo_week: DemoResult) -> None:
    again = generate(tmp_path / "again", seed=demo_week.seed, scale=demo_week.scale, start=MONDAY)
    for fmt, path in demo_week.files.items():
        assert again.files[fmt].read_bytes() == path.read_bytes(), fmt
    assert (tmp_path / "again" / "ledger.json").read_bytes() == (demo_week.out_dir / "ledger.json").read_bytes()


def test_another_seed_gives_another_school(tmp_path: Path, demo_week: DemoResult) -> None:
    other = generate(tmp_path / "other", seed=demo_week.seed + 1, scale=0.05, start=MONDAY)
    assert other.population.pupils["user"].to_list() != demo_week.population.pupils["user"].to_list()


def test_population_shape(demo_week: DemoResult) -> None:
    pupils, staff = demo_week.population.pupils, demo_week.population.staff
    assert pupils.height == 1200 and staff.height == 120
    assert pupils["user"].n_unique() == 1200 and staff["user"].n_unique() == 120
    assert sorted(pupils["year"].unique().to_list()) == [7, 8, 9, 10, 11, 12, 13]
    # Tutor groups: seven forms in years 7-11, five in the sixth form, each named after its year.
    forms = pupils.group_by("year").agg(pl.col("form").n_unique()).sort("year")["form"].to_list()
    assert forms == [7, 7, 7, 7, 7, 5, 5]
    assert pupils.select((pl.col("form").str.extract(r"^(\d+)").cast(pl.Int64) == pl.col("year")).all()).item()
    assert all(re.fullmatch(r"\d\d[a-z]+\d?", u) for u in pupils["user"])
    assert all(re.fullmatch(r"[a-z]\.[a-z]+\d?", u) for u in staff["user"])
    assert staff.filter(pl.col("role") == "head teacher").height == 1


def test_scale_changes_traffic_not_people_or_episodes(tmp_path: Path, demo_week: DemoResult) -> None:
    small = generate(tmp_path / "small", seed=demo_week.seed, scale=0.05, start=MONDAY)
    assert small.total_lines < demo_week.total_lines / 3
    assert small.population.pupils.equals(demo_week.population.pupils)
    assert [e.users for e in small.ledger] == [e.users for e in demo_week.ledger]


def test_volume_at_scale_one_is_in_the_planned_range(demo_week: DemoResult) -> None:
    # Extrapolated from the shared small week rather than generating 100 MB here: traffic scales linearly.
    assert 200_000 <= demo_week.total_lines / demo_week.scale <= 600_000


def test_only_school_days_of_the_chosen_week(demo_week: DemoResult) -> None:
    times = _local_times(demo_week)
    days = times.dt.date().unique().sort().to_list()
    assert days[0] == MONDAY
    assert all(d.weekday() < 5 for d in days), days
    assert set(days) <= {date(2026, 11, 16 + i) for i in range(5)}


def test_diurnal_curve(demo_week: DemoResult) -> None:
    hours = _local_times(demo_week).dt.hour()
    school = int(((hours >= 9) & (hours < 15)).sum())
    night = int(((hours >= 22) | (hours < 6)).sum())
    lunch = int((hours == 12).sum())
    evening = int((hours == 19).sum())
    assert school > 20 * night, (school, night)
    assert lunch > 10 * evening
    assert night > 0  # machines left on overnight keep a trickle going, as on a real network


def test_files_are_labelled_synthetic(demo_week: DemoResult) -> None:
    readme = (demo_week.out_dir / "README.txt").read_text()
    assert "SYNTHETIC" in readme and "invented" in readme
    import vigil.demo.generator as gen

    assert gen.__doc__ and "SYNTHETIC DATA" in gen.__doc__


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (date(2026, 11, 25), date(2026, 11, 16)),  # a Wednesday: last week was the last complete one
        (date(2026, 11, 23), date(2026, 11, 16)),  # a Monday
        (date(2026, 11, 28), date(2026, 11, 23)),  # a Saturday: this week is complete
        (date(2026, 11, 29), date(2026, 11, 23)),  # a Sunday
    ],
)
def test_most_recent_complete_week(today: date, monday: date) -> None:
    week = school_week(None, today)
    assert week[0] == monday and len(week) == 5 and week[-1].weekday() == 4


def test_start_must_be_a_monday() -> None:
    with pytest.raises(DemoError, match="give a Monday"):
        school_week(date(2026, 11, 18), date(2026, 11, 25))


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="scale"):
        generate(tmp_path, scale=0, start=MONDAY)
