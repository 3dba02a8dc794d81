"""Kafka worker behaviour against a real broker: rebalance, poison messages, broker outage, origins, health."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from ingest_testkit import Broker, create_topic, produce, squid_line, warehouse_counts

from ingest.health import source_status
from ingest.kafka_worker import KafkaIngestWorker
from ingest.streamconfig import KafkaConfig
from vigil.settings import Settings, SourceConfig

pytestmark = [pytest.mark.realparts, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _settings(data: Path) -> Settings:
    return Settings(
        data_dir=data,
        sources=[SourceConfig(name="proxy-a", school="school-a", format="squid", hosts=["10.0.0.0/24"])],
    )


def _cfg(bootstrap: str, **kw: object) -> KafkaConfig:
    base: dict[str, object] = {
        "bootstrap": bootstrap,
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        "batch_lines": 5000,
        "batch_seconds": 0.3,
    }
    base.update(kw)
    return KafkaConfig.model_validate(base)


def _batch_messages(start: int, count: int, partitions: int, tag: str) -> list[tuple[int, bytes, bytes]]:
    return [
        (m % partitions, b"10.0.0.7", "\n".join(squid_line(m * 100 + i, tag=tag) for i in range(100)).encode())
        for m in range(start, start + count)
    ]


class _Runner:
    """A worker in a thread, with its assignment history."""

    def __init__(self, settings: Settings, cfg: KafkaConfig, topic: str, group: str) -> None:
        self.stop = False
        self.history: list[set[int]] = []
        self.worker = KafkaIngestWorker(settings, cfg, topic=topic, group=group)
        assigned = self.worker.on_assigned

        def record(tps: set) -> None:  # type: ignore[type-arg]
            assigned(tps)
            self.history.append({tp.partition for tp in tps})

        self.worker.on_assigned = record  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.worker.run, args=(lambda: self.stop,))

    def start(self) -> _Runner:
        self.thread.start()
        return self

    def join(self) -> None:
        self.stop = True
        self.thread.join(60)
        assert not self.thread.is_alive()


def _wait(cond: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def test_rebalance_second_worker_joins(broker: Broker, tmp_path: Path) -> None:
    """A second worker joins mid-stream: partitions split 2/2, nothing lost or doubled."""
    topic = f"rb-{uuid.uuid4().hex[:8]}"
    create_topic(broker.bootstrap, topic, 4)
    settings = _settings(tmp_path / "var")
    total_msgs = 800
    produce(broker.bootstrap, topic, _batch_messages(0, 200, 4, "rb"))
    a = _Runner(settings, _cfg(broker.bootstrap), topic, "rb").start()
    _wait(lambda: warehouse_counts(settings.data_dir)[1] > 0, 30)
    b = _Runner(settings, _cfg(broker.bootstrap), topic, "rb").start()
    for wave in range(1, 4):
        produce(broker.bootstrap, topic, _batch_messages(wave * 200, 200, 4, "rb"))
        time.sleep(1.0)
    _wait(lambda: warehouse_counts(settings.data_dir)[1] >= total_msgs * 100, 60)
    _wait(lambda: a.worker.summary.lines + b.worker.summary.lines >= total_msgs * 100, 30)
    a.join()
    b.join()
    assert a.history[0] == {0, 1, 2, 3}
    assert len(a.history[-1]) == 2 and len(b.history[-1]) == 2
    assert a.history[-1].isdisjoint(b.history[-1])
    assert b.worker.summary.lines > 0, "the joining worker took over partitions and consumed from them"
    rows, distinct, rejects = warehouse_counts(settings.data_dir)
    assert (rows, distinct, rejects) == (total_msgs * 100, total_msgs * 100, 0)


def test_poison_messages_become_rejects_and_partition_moves(broker: Broker, tmp_path: Path) -> None:
    """Oversized, undecodable, empty and unrecognised messages are rejected with reasons; later lines land."""
    topic = f"poison-{uuid.uuid4().hex[:8]}"
    create_topic(broker.bootstrap, topic, 1)
    settings = _settings(tmp_path / "var")
    good_before = squid_line(1, tag="p")
    good_after = squid_line(2, tag="p")
    produce(
        broker.bootstrap,
        topic,
        [
            (0, b"10.0.0.9", good_before.encode()),  # offset 0: one-line message
            (0, b"10.0.0.9", b"x" * 5000),  # 1: oversized (limit 2048 below)
            (0, b"10.0.0.9", b"\xff\xfe not utf-8 \x80"),  # 2: undecodable
            (0, b"10.0.0.9", b""),  # 3: empty
            (0, b"203.0.113.50", b"<13>Nov 24 06:00:00 fw1 gibberish that no parser knows"),  # 4: unknown sender
            (0, b"10.0.0.9", (good_after + "\n" + squid_line(3, tag="p")).encode()),  # 5: two-line message
        ],
    )
    runner = _Runner(settings, _cfg(broker.bootstrap, max_message_bytes=2048), topic, "poison").start()
    _wait(lambda: warehouse_counts(settings.data_dir)[0] >= 7, 30)
    runner.join()
    con = duckdb.connect()
    wh = settings.data_dir / "warehouse"
    rejects = dict(
        con.execute(f"SELECT origin, reason FROM read_parquet('{wh}/rejects/**/*.parquet') ORDER BY origin").fetchall()
    )
    assert rejects == {
        f"kafka:{topic}:0:1": "oversized_message",
        f"kafka:{topic}:0:2": "invalid_utf8",
        f"kafka:{topic}:0:3": "empty_line",
        f"kafka:{topic}:0:4": "format_not_recognised",
    }
    events = con.execute(
        f"SELECT origin, raw, school FROM read_parquet('{wh}/events/**/*.parquet') ORDER BY origin"
    ).fetchall()
    assert events == [
        (f"kafka:{topic}:0:0", good_before, "school-a"),
        (f"kafka:{topic}:0:5:1", good_after, "school-a"),
        (f"kafka:{topic}:0:5:2", squid_line(3, tag="p"), "school-a"),
    ]
    status = {s.name: s for s in source_status(settings)}
    assert status["proxy-a"].lines == 6 and status["proxy-a"].events == 3 and status["proxy-a"].rejects == 3
    assert status["proxy-a"].kind == "kafka" and status["proxy-a"].school == "school-a"
    assert status["203.0.113.50"].school == "default" and status["203.0.113.50"].rejects == 1


def test_broker_outage_worker_reconnects(broker: Broker, tmp_path: Path) -> None:
    """The broker dies and comes back: the worker keeps running, reconnects, and consumes without loss.

    Tansu keeps nothing across a restart, so the topic is re-created and the first wave re-produced
    (same offsets); each partition's first wave is one message, so its replay overwrites batch
    `k<topic>-<p>-0` as a whole. A broker with persistent storage would resume from committed offsets.
    """
    topic = f"outage-{uuid.uuid4().hex[:8]}"
    create_topic(broker.bootstrap, topic, 2)
    settings = _settings(tmp_path / "var")
    wave1 = _batch_messages(0, 2, 2, "o")
    produce(broker.bootstrap, topic, wave1)
    runner = _Runner(settings, _cfg(broker.bootstrap), topic, "outage").start()
    try:
        _wait(lambda: runner.worker.summary.lines >= 200, 30)
        broker.kill()
        time.sleep(3)
        assert runner.thread.is_alive(), "the worker must survive the broker going away"
        broker.restart()
        create_topic(broker.bootstrap, topic, 2)
        produce(broker.bootstrap, topic, wave1 + _batch_messages(2, 8, 2, "o"))
        _wait(lambda: warehouse_counts(settings.data_dir)[1] >= 1000, 90)
    finally:
        runner.join()
    rows, distinct, _ = warehouse_counts(settings.data_dir)
    assert (rows, distinct) == (1000, 1000)
