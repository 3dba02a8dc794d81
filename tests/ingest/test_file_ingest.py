"""File ingest: exactly once across re-runs, rotation and truncation; every line accounted for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.files import ingest_paths
from vigil.settings import Settings
from warehouse.query import Warehouse

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def lines(n: int, user: str = "alice", start: int = 0) -> str:
    out = []
    for i in range(start, start + n):
        ts = (T0 + timedelta(seconds=i)).timestamp()
        out.append(f"{ts:.3f}      1 10.0.0.5 TCP_MISS/200 500 GET http://bbc.co.uk/p{i} {user} HIER_DIRECT/1.2.3.4 -")
    return "\n".join(out) + "\n"


def stored(settings: Settings, table: str = "events") -> int:
    wh = Warehouse(settings.warehouse_dir)
    since, until = T0 - timedelta(days=400), datetime.now(UTC) + timedelta(days=1)
    if table == "events":
        return wh.events("s1", since=since, until=until, limit=None).num_rows
    return wh.rejects("s1", since=since, until=until, limit=None).num_rows


def run(settings: Settings, *paths: Path, **kw: object) -> int:
    summary = ingest_paths([str(p) for p in paths], settings=settings, school="s1", detect=False, **kw)  # type: ignore[arg-type]
    return summary.total("lines")


def test_every_line_lands_once_in_events_or_rejects(settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(lines(50) + "garbage line\n\n" + lines(10, start=50))
    assert run(settings, p) == 62
    assert stored(settings) == 60
    assert stored(settings, "rejects") == 2


def test_running_twice_adds_nothing_and_reingest_replaces(settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(lines(100))
    run(settings, p, batch_bytes=1000)
    assert run(settings, p, batch_bytes=1000) == 0  # checkpoint: nothing new
    assert stored(settings) == 100
    assert run(settings, p, reingest=True, batch_bytes=1000) == 100  # read again, rows replaced by batch id
    assert stored(settings) == 100


def test_appended_lines_are_picked_up_once(settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(lines(30))
    run(settings, p)
    with p.open("a") as fh:
        fh.write(lines(20, start=30))
    assert run(settings, p) == 20
    assert stored(settings) == 50


def test_rotation_keeps_position_by_content_identity(settings: Settings, tmp_path: Path) -> None:
    d = tmp_path / "spool"
    d.mkdir()
    (d / "access.log").write_text(lines(10))
    run(settings, d)
    with (d / "access.log").open("a") as fh:  # more lines, then rotated before the next run
        fh.write(lines(5, start=10))
    (d / "access.log").rename(d / "access.log.1")
    (d / "access.log").write_text(lines(7, user="bob", start=100))
    assert run(settings, d) == 12
    assert stored(settings) == 22


def test_truncated_file_is_read_again_without_overwriting_old_rows(settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text(lines(40))
    run(settings, p)
    p.write_text(lines(40)[: len(lines(3))])  # same first line, now shorter: copytruncate then rewrite
    assert run(settings, p) == 3
    assert stored(settings) == 43


def test_imported_lists_categorise_events_without_a_category(settings: Settings, tmp_path: Path) -> None:
    from detectors.lists import import_lists

    src = tmp_path / "blacklists" / "gambling"
    src.mkdir(parents=True)
    (src / "domains").write_text("bet-example.com\n")
    import_lists(tmp_path / "blacklists", settings.data_dir / "lists", name="ut1")
    p = tmp_path / "access.log"
    ts = T0.timestamp()
    p.write_text(
        f"{ts:.3f}      1 10.0.0.5 TCP_MISS/200 500 GET http://www.bet-example.com/odds alice HIER_DIRECT/1.2.3.4 -\n"
        f"{ts:.3f}      1 10.0.0.5 TCP_MISS/200 500 GET http://bbc.co.uk/ alice HIER_DIRECT/1.2.3.4 -\n"
    )
    run(settings, p)
    wh = Warehouse(settings.warehouse_dir)
    got = wh.events("s1", since=T0 - timedelta(days=1), until=T0 + timedelta(days=1))
    assert dict(zip(got.column("host").to_pylist(), got.column("category").to_pylist(), strict=True)) == {
        "www.bet-example.com": "ut1:gambling",
        "bbc.co.uk": None,
    }


def test_file_sources_report_their_health(settings: Settings, tmp_path: Path) -> None:
    from ingest.health import source_status

    p = tmp_path / "access.log"
    p.write_text(lines(12) + "junk\n")
    run(settings, p)
    (status,) = source_status(settings)
    assert (status.kind, status.school, status.lines, status.events, status.rejects) == ("file", "s1", 13, 12, 1)
    assert status.last_seen is not None
