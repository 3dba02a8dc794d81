"""Behaviour rules with a small warehouse written by WarehouseWriter in a tmp dir, and without one."""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from detectors.base import DetectContext
from detectors.circumvention import CircumventionDetector
from detectors.circumvention_config import CircumventionConfig
from detectors.lists import Lists
from parsers.schema import REJECT_SCHEMA
from warehouse.query import Warehouse
from warehouse.writer import WarehouseWriter

_spec = importlib.util.spec_from_file_location("circ_helpers", Path(__file__).parent / "circ_helpers.py")
assert _spec and _spec.loader
helpers = importlib.util.module_from_spec(_spec)
sys.modules["circ_helpers"] = helpers
_spec.loader.exec_module(helpers)
event, table, T0 = helpers.event, helpers.table, helpers.T0


def detector() -> CircumventionDetector:
    return CircumventionDetector(config=CircumventionConfig(), lists=Lists.none(), use_model=False)


def after_block_batch() -> pa.Table:
    rows = [event(0, url="https://www.coolgames.example/", action="blocked", category="Games")]
    rows += [event(30 + i * 20, url=f"https://fresh-site.example/p{i}") for i in range(6)]
    rows += [event(40, user="pupil2", url="https://www.bbc.co.uk/news")]
    return table(rows)


def warehouse_with(tmp_path: Path, rows: list[dict[str, object]], baseline_days: int = 7) -> Warehouse:
    """A warehouse holding `rows` plus ordinary traffic on each of the `baseline_days` before T0."""
    filler = [event(0, ts=T0 - timedelta(days=d), user="staff1", url="https://www.bbc.co.uk/")
              for d in range(2, baseline_days + 2)]
    WarehouseWriter(tmp_path / "wh").write_batch("hist-1", table(rows + filler), REJECT_SCHEMA.empty_table())
    return Warehouse(tmp_path / "wh")


def test_after_block_new_rare_host_with_history(tmp_path: Path) -> None:
    past = T0 - timedelta(days=2)
    wh = warehouse_with(tmp_path, [event(0, ts=past, user=f"p{i}", url="https://www.bbc.co.uk/") for i in range(3)])
    alerts = detector().detect(after_block_batch(), DetectContext(warehouse=wh))
    assert [(a.user, a.rule, a.severity) for a in alerts] == [("pupil1", "behaviour:after_block", 3)]
    assert "fresh-site.example" in alerts[0].evidence["why"] and alerts[0].count == 6


def test_after_block_host_known_to_school_is_not_flagged(tmp_path: Path) -> None:
    past = T0 - timedelta(days=1)
    rows = [event(i, ts=past, user=f"p{i}", url="https://fresh-site.example/") for i in range(5)]
    wh = warehouse_with(tmp_path, rows)
    assert detector().detect(after_block_batch(), DetectContext(warehouse=wh)) == []


def test_without_warehouse_behaviour_is_digest_only() -> None:
    alerts = detector().detect(after_block_batch(), DetectContext())
    assert [(a.rule, a.severity) for a in alerts] == [("behaviour:after_block", 1)]


def test_went_dark_while_device_stays_on() -> None:
    rows = [event(i * 30, url=f"https://www.bbc.co.uk/p{i}") for i in range(60)]
    rows += [event(1800 + 2400 + i * 10, user=None, method=None, host=None, dst_ip="198.51.100.4", dst_port=443,
                   source="pfsense") for i in range(25)]
    alerts = detector().detect(table(rows), DetectContext())
    assert [(a.user, a.rule, a.severity) for a in alerts] == [("pupil1", "behaviour:went_dark", 2)]


def test_lesson_spread_of_new_unblocker(tmp_path: Path) -> None:
    wh = warehouse_with(tmp_path, [event(0, ts=T0 - timedelta(days=1), url="https://www.bbc.co.uk/")])
    rows = [event(i * 60, user=f"pupil{i}", client_ip=f"10.0.4.{i + 10}", url="https://maths-games-hub.vercel.app/")
            for i in range(6)]
    rows += [event(i * 60 + 5, user=f"pupil{i}", client_ip=f"10.0.4.{i + 10}", url="https://new-quiz.example/")
             for i in range(6)]
    alerts = detector().detect(table(rows), DetectContext(warehouse=wh))
    assert {a.severity for a in alerts} == {2} and len(alerts) == 6
    assert all(a.evidence["hosts"] == ["maths-games-hub.vercel.app", "new-quiz.example"] for a in alerts)
    assert all(a.rule == "behaviour:lesson_spread" for a in alerts)


def test_a_warehouse_without_a_baseline_calls_nothing_new(tmp_path: Path) -> None:
    wh = warehouse_with(tmp_path, [event(0, ts=T0 - timedelta(days=1), url="https://www.bbc.co.uk/")], baseline_days=0)
    rows = [event(i * 60, user=f"pupil{i}", client_ip=f"10.0.4.{i + 10}", url="https://maths-games-hub.vercel.app/")
            for i in range(6)]
    assert detector().detect(table(rows), DetectContext(warehouse=wh)) == []
