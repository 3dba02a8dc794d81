"""A log source silent in school hours is told to the network manager once per silence, and to nobody else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from notify_testkit import Hooks, Smtp, notify_section

from cases.escalation import run_due
from cases.store import CaseStore
from ingest.health import SourceShard
from vigil.settings import Settings

TUESDAY_2PM = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def test_silent_feed_notifies_the_network_manager_once(
    tmp_path: Path, smtp_server: Smtp, webhook_server: Hooks
) -> None:
    smtp_server.box.clear()
    section = notify_section(smtp_server, webhook_server)
    section["schools"]["north"]["contacts"].append(
        {"name": "Net Manager", "role": "network_manager", "email": "netmgr@north.example"}
    )
    settings = Settings(data_dir=tmp_path, notify=section, ingest={"silent_after_minutes": 60})  # type: ignore[call-arg]
    store = CaseStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    store.migrate()
    shard = SourceShard(settings, "files")
    shard.add(
        "netsweeper-main", school="north", kind="file", lines=10, events=10, seen=TUESDAY_2PM - timedelta(hours=3)
    )
    shard.add("firewall", school="north", kind="syslog", lines=5, events=5, seen=TUESDAY_2PM - timedelta(minutes=5))
    shard.flush()

    report = run_due(store, settings, TUESDAY_2PM)
    assert report.delivery.sent == 1
    assert smtp_server.box.rcpts == [["netmgr@north.example"]]
    body = smtp_server.box.messages[0].replace(b"=\r\n", b"")
    assert b"netsweeper-main" in body and b"is silent" in body and b"firewall" not in body

    # the same silence is not told twice; a recovery and a new silence is a new episode
    assert run_due(store, settings, TUESDAY_2PM + timedelta(minutes=5)).delivery.sent == 0
    shard.add(
        "netsweeper-main", school="north", kind="file", lines=1, events=1, seen=TUESDAY_2PM + timedelta(minutes=6)
    )
    shard.flush()
    assert run_due(store, settings, TUESDAY_2PM + timedelta(minutes=10)).delivery.sent == 0
    smtp_server.box.clear()
    # two hours on, both feeds have been quiet for over an hour of school time: one message each
    assert run_due(store, settings, TUESDAY_2PM + timedelta(hours=2)).delivery.sent == 2
    bodies = b"".join(smtp_server.box.messages).replace(b"=\r\n", b"")
    assert b"netsweeper-main" in bodies and b"firewall" in bodies
