"""Ingest health shows what the ingest processes received per feed, scoped to the caller's schools."""

from __future__ import annotations

from pathlib import Path

from api.routes.sources import feed_health
from ingest.files import ingest_paths
from vigil.settings import Settings

LINE = "1795453506.351      0 10.10.0.11 TCP_MISS/200 389 GET http://neutral.test/ alice FIRSTUP_PARENT/127.0.0.1 -"


def test_feeds_are_listed_per_school(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    log = tmp_path / "access.log"
    log.write_text(LINE + "\nnot a squid line\n")
    ingest_paths([str(log)], settings=settings, school="north", detect=False)
    (row,) = feed_health(settings, ["north"])
    assert (row["school"], row["observer"], row["lines"], row["events"], row["rejects"]) == ("north", "file", 2, 1, 1)
    assert row["last_ts"] is not None and row["lag_seconds"] is not None
    assert feed_health(settings, ["south"]) == []
