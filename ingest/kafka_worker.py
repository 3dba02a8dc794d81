"""A consumer-group worker: buffer per partition, process one batch per partition, then commit; exactly once.

Why this is exactly once in the warehouse: a partition's batch always starts at its committed offset and
its batch id is `k<topic>-<partition>-<first offset>`. A batch is written (Parquet + alerts, durable),
then its end offset is committed synchronously, and no further batch of that partition is written before
the commit succeeds. So after any crash or rebalance the new owner starts at the same first offset, and
its batch (whatever its extent) overwrites the uncommitted one; the writer's per-batch manifest removes
partition files the replay no longer covers. When one batch holds several senders that map to different
schools or formats, each group gets `<batch id>-<school>.<format>`; an intent record per partition lists
them so a replay that no longer has a group empties it (see `_clear_stale`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka.errors import CommitFailedError, IllegalGenerationError, KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata, TopicPartition

from ingest.errors import IngestError
from ingest.health import SourceShard
from ingest.metrics import KAFKA_LAG, record_batch
from ingest.sources.kafka import PoisonAwareParser, records_frame
from ingest.sources.mapping import SenderSource, SourceMap, safe_name
from ingest.streamconfig import KafkaConfig
from ingest.worker import AlertSink, BatchOutcome, Pipeline
from parsers.base import Parser, SourceMeta
from parsers.errors import UnknownFormatError
from parsers.registry import autodetect, get_parser
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from vigil.settings import Settings

log = logging.getLogger("vigil.ingest.kafka")

_FATAL_COMMIT = (CommitFailedError, IllegalGenerationError, RebalanceInProgressError)


@dataclass
class KafkaSummary:
    """Totals of one worker run."""

    lines: int = 0
    events: int = 0
    rejects: int = 0
    alerts: int = 0
    batches: int = 0
    abandoned: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        """Wall time since start."""
        return time.perf_counter() - self.started

    def add(self, out: BatchOutcome) -> None:
        """Add one batch's counts."""
        self.lines += out.lines
        self.events += out.events
        self.rejects += out.rejects
        self.alerts += out.alerts


@dataclass
class _Buffer:
    records: list[Any] = field(default_factory=list)
    lines: int = 0
    since: float = 0.0


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: KafkaIngestWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.worker.on_revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.worker.on_assigned(set(assigned))


class KafkaIngestWorker:
    """Consumes one topic in a consumer group into the warehouse."""

    def __init__(
        self,
        settings: Settings,
        cfg: KafkaConfig,
        *,
        topic: str,
        group: str,
        fmt: str | None = None,
        school: str | None = None,
        alert_sink: AlertSink | None = None,
        detect: bool = True,
        on_batch: Callable[[TopicPartition, int, int], None] | None = None,
    ) -> None:
        if not cfg.servers():
            raise IngestError("kafka: no bootstrap servers (use --bootstrap HOST:PORT or [kafka] bootstrap)")
        self.settings, self.cfg, self.topic, self.group = settings, cfg, topic, group
        self.fmt, self.school = (fmt if fmt and fmt != "auto" else None), school
        self.pipeline = Pipeline(settings, detect=detect, alert_sink=alert_sink)
        self.sources = SourceMap(settings)
        self.parsers: dict[str, Parser | None] = {}
        self.buffers: dict[TopicPartition, _Buffer] = {}
        self.shards: dict[TopicPartition, SourceShard] = {}
        self.summary = KafkaSummary()
        self.committed: dict[TopicPartition, int] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-kafka-write")
        self.on_batch = on_batch
        self.intents = settings.data_dir / "state" / "kafka" / topic
        self.consumer = KafkaConsumer(
            bootstrap_servers=cfg.servers(),
            group_id=group,
            client_id=f"vigil-{os.uname().nodename}-{os.getpid()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            max_poll_interval_ms=cfg.max_poll_interval_ms,
            max_poll_records=2000,
            max_partition_fetch_bytes=max(cfg.max_message_bytes + 1024, 8 << 20),
            fetch_max_bytes=max(cfg.max_message_bytes + 1024, 32 << 20),
            reconnect_backoff_ms=100,
            reconnect_backoff_max_ms=5000,
            security_protocol=cfg.security_protocol,
            ssl_cafile=cfg.ssl_cafile,
            ssl_certfile=cfg.ssl_certfile,
            ssl_keyfile=cfg.ssl_keyfile,
        )
        self.consumer.subscribe([topic], listener=_Listener(self))

    # -- rebalance ---------------------------------------------------------------------------------
    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """New partitions: fresh buffers, shard state loaded from disk."""
        log.info("partitions assigned", extra={"partitions": sorted(tp.partition for tp in assigned)})
        for tp in assigned:
            self.buffers[tp] = _Buffer()
            self.shards[tp] = SourceShard(self.settings, f"kafka-{tp.topic}-{tp.partition}")

    def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Finish buffered batches of revoked partitions (process + commit); abandon them if commit fails."""
        log.info("partitions revoked", extra={"partitions": sorted(tp.partition for tp in revoked)})
        try:
            self.flush([tp for tp in revoked if tp in self.buffers and self.buffers[tp].records])
        except Exception:
            log.exception("could not finish batches on revoke; the next owner replays them")
        finally:
            for tp in revoked:
                self.buffers.pop(tp, None)
                self.shards.pop(tp, None)

    # -- main loop ---------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool], *, max_seconds: float | None = None) -> KafkaSummary:
        """Poll, buffer and flush until `should_stop()`; then finish buffered batches, commit and close."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        try:
            while not should_stop() and (deadline is None or time.monotonic() < deadline):
                self.poll_once()
            self.flush([tp for tp, b in self.buffers.items() if b.records])
        finally:
            self.close()
        return self.summary

    def poll_once(self, timeout_ms: int = 200) -> None:
        """One poll: buffer what came, flush partitions whose batch is full or old enough."""
        try:
            got = self.consumer.poll(timeout_ms=timeout_ms)
        except KafkaError as exc:  # broker gone: kafka-python reconnects with backoff on the next poll
            log.warning("poll failed; retrying", extra={"error": str(exc)})
            time.sleep(0.5)
            return
        now = time.monotonic()
        for tp, recs in got.items():
            buf = self.buffers.get(tp)
            if buf is None:  # fetched before a rebalance took the partition away: the owner reads it again
                continue
            if not buf.records:
                buf.since = now
            buf.records.extend(recs)
            buf.lines += sum((r.value or b"").count(b"\n") + 1 for r in recs)
        due = [
            tp
            for tp, b in self.buffers.items()
            if b.records and (b.lines >= self.cfg.batch_lines or now - b.since >= self.cfg.batch_seconds)
        ]
        if due:
            self.flush(due)
        self._update_lag()

    def flush(self, tps: list[TopicPartition]) -> None:
        """Process each partition's buffer as one batch, then commit their end offsets synchronously.

        Parsing partition N+1 overlaps writing partition N (a one-thread writer; Parquet and zstd release
        the GIL). Offsets are committed only after every write of this flush is durable, and each
        partition still has at most one written-but-uncommitted batch.
        """
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        pending: list[tuple[TopicPartition, SenderSource, datetime, Future[BatchOutcome]]] = []
        try:
            for tp in tps:
                buf = self.buffers.get(tp)
                if buf is None or not buf.records:
                    continue
                pending += self._submit_partition(tp, buf.records)
                offsets[tp] = OffsetAndMetadata(buf.records[-1].offset + 1, "", -1)
                self.buffers[tp] = _Buffer()
        finally:
            wait([f for *_, f in pending])
        for tp, src, seen, future in pending:
            out = future.result()  # a failed write raises here: nothing is committed, the batch replays
            self.summary.add(out)
            record_batch("kafka", src.name, out)
            shard = self.shards.get(tp)
            if shard is not None:
                shard.add(
                    src.name,
                    school=src.school,
                    kind="kafka",
                    lines=out.lines,
                    events=out.events,
                    rejects=out.rejects,
                    alerts=out.alerts,
                    seen=seen,
                )
        if offsets:
            self._commit(offsets)

    def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Commit synchronously; retry transient failures, give up (the batches are replayed) when revoked."""
        delay = 0.2
        for _attempt in range(30):
            try:
                self.consumer.commit(offsets)
                for tp, om in offsets.items():
                    self.committed[tp] = om.offset
                    shard = self.shards.get(tp)
                    if shard is not None:
                        hw = self.consumer.highwater(tp)
                        lag = max(hw - om.offset, 0) if hw is not None else None
                        shard.meta["lag"] = {"topic": tp.topic, "partition": tp.partition, "lag": lag}
                        shard.flush()
                    if self.on_batch:
                        self.on_batch(tp, om.offset, self.summary.lines)
                return
            except _FATAL_COMMIT as exc:
                self.summary.abandoned += len(offsets)
                log.warning(
                    "commit refused (group rebalanced); batches will be replayed by the owner",
                    extra={"error": str(exc)},
                )
                return
            except KafkaError as exc:
                log.warning("commit failed; retrying", extra={"error": str(exc), "delay": delay})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise IngestError("kafka: could not commit offsets after 30 attempts; stopping (nothing is lost)")

    # -- one partition batch -----------------------------------------------------------------------
    def _source(self, sender: str) -> SenderSource:
        return self.sources.resolve(sender or None, sender or None, school=self.school, fmt=self.fmt)

    def _parser(self, sender: str, src: SenderSource, sample: pl.Series) -> Parser | None:
        key = f"{src.school}\0{src.format}\0{sender}"
        if key not in self.parsers:
            try:
                self.parsers[key] = (
                    get_parser(src.format)
                    if src.format != "auto"
                    else autodetect(sample.head(200).to_list(), what=f"kafka sender {sender!r}")
                )
            except UnknownFormatError as exc:
                log.warning("sender format not recognised; its lines become rejects", extra={"error": str(exc)})
                self.parsers[key] = None
        return self.parsers[key]

    def _submit_partition(
        self, tp: TopicPartition, records: list[Any]
    ) -> list[tuple[TopicPartition, SenderSource, datetime, Future[BatchOutcome]]]:
        """Prepare one partition batch (per sender group) and queue its writes."""
        frame = records_frame(tp.topic, tp.partition, records, max_message_bytes=self.cfg.max_message_bytes)
        base = f"k{tp.topic}-{tp.partition}-{records[0].offset}"
        groups: dict[tuple[str, str, str], tuple[SenderSource, Parser | None, list[pl.DataFrame]]] = {}
        for (sender,), part in frame.partition_by(["sender"], as_dict=True, maintain_order=True).items():
            src = self._source(str(sender))
            parser = self._parser(str(sender), src, part["raw"])
            gkey = (src.school, parser.name if parser else "unknown", src.name)
            groups.setdefault(gkey, (src, parser, []))[2].append(part)
        ids = [base] if len(groups) == 1 else [f"{base}-{s}.{p}.{safe_name(n)}" for s, p, n in groups]
        self._clear_stale(tp, records[0].offset, ids)
        now = datetime.now(UTC)
        out: list[tuple[TopicPartition, SenderSource, datetime, Future[BatchOutcome]]] = []
        for batch_id, (src, parser, parts) in zip(ids, groups.values(), strict=True):
            raw = pl.concat(parts) if len(parts) > 1 else parts[0]
            meta = SourceMeta(
                school=src.school,
                tz=src.tz,
                origin_prefix=f"kafka:{tp.topic}:{tp.partition}",
                observer=src.observer,
                now=now,
            )
            clean = parser is not None and raw["poison"].null_count() == raw.height
            # Clean batches (the norm) go to the parser itself, keeping the pipeline's fast path.
            use: Parser = parser if clean and parser is not None else PoisonAwareParser(parser)
            prepared = self.pipeline.prepare(raw.drop("poison", "sender") if clean else raw, use, meta)
            out.append((tp, src, now, self._writer.submit(self.pipeline.commit, prepared, batch_id)))
        self.summary.batches += 1
        return out

    def _clear_stale(self, tp: TopicPartition, first: int, ids: list[str]) -> None:
        """Empty sub-batches that an earlier uncommitted attempt at this first offset wrote and this won't."""
        path = self.intents / f"{tp.partition}.json"
        base = f"k{tp.topic}-{tp.partition}-{first}"
        # No record for this first offset means an earlier attempt (if any) wrote the single base id.
        previous = [base]
        if path.exists():
            try:
                data = json.loads(path.read_text())
                if data.get("first") == first:
                    previous = list(data["ids"])
            except (ValueError, KeyError, OSError):
                pass
        for stale in set(previous) - set(ids):
            if (self.pipeline.writer.manifests / f"{stale}.json").exists() or stale != base:
                self.pipeline.writer.write_batch(stale, EVENT_SCHEMA.empty_table(), REJECT_SCHEMA.empty_table())
        if previous == ids:
            return  # the common single-group case needs no record: its id is the base id itself
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as fh:
            json.dump({"first": first, "ids": ids}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _update_lag(self) -> None:
        """Lag per partition: high watermark minus the first offset not yet durably written."""
        for tp, buf in self.buffers.items():
            hw = self.consumer.highwater(tp)
            start = buf.records[0].offset if buf.records else self.committed.get(tp)
            if hw is not None and start is not None:
                KAFKA_LAG.labels(tp.topic, str(tp.partition)).set(max(hw - start, 0))

    def close(self) -> None:
        """Leave the group without committing anything beyond what was committed after durable writes."""
        self._writer.shutdown(wait=True)
        try:
            self.consumer.close(autocommit=False)
        except Exception:  # closing is best effort: the group's session timeout covers a failed close
            log.warning("consumer close failed", exc_info=True)
