"""The monitoring check: after probing, find each probe in the ingested logs by user, host and time window.

A filter that blocks but does not log (or logs the block as allowed) fails the standard's monitoring
requirement as surely as one that lets the page through, so each result records whether the logs saw it,
how they labelled it (action, category, source) and, when not, why not.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from filtertests.runner import ProbeResult

# When one probe appears in several logs (e2guardian blocks it, Squid never sees it; or both pass it on),
# the label is the most telling action.
_ACTION_RANK = {"blocked": 0, "warned": 1, "proceeded": 2, "allowed": 3, "error": 4}
_COLUMNS = ["ts", "user", "client_ip", "host", "method", "action", "category", "source"]


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _empty() -> pl.DataFrame:
    schema: dict[str, Any] = dict.fromkeys(_COLUMNS, pl.String)
    schema["ts"] = pl.Datetime("us", "UTC")
    return pl.DataFrame(schema=schema)


def _window(results: Sequence[ProbeResult], slack: timedelta) -> tuple[datetime, datetime]:
    return min(r.started for r in results) - slack, max(r.finished for r in results) + slack


def fetch_events(warehouse: Any, school: str, results: Sequence[ProbeResult], slack: timedelta) -> pl.DataFrame:
    """Events of the probes' users (or client addresses) and hosts around the run, from the warehouse."""
    since, until = _window(results, slack)
    hosts = sorted({r.host for r in results})
    frames: list[pl.DataFrame] = []
    for identity in sorted({r.identity for r in results if r.identity}):
        # one indexed read per probe identity (files are sorted by user), filtered to the probed hosts
        table = warehouse.events(school, since=since, until=until, user=identity, limit=None)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frames.append(frame.select(_COLUMNS).filter(pl.col("host").is_in(hosts)))
        if _is_address(identity):  # a source-address group: the log may carry only the address
            table = warehouse.events(school, since=since, until=until, limit=None)
            by_ip = pl.from_arrow(table)
            assert isinstance(by_ip, pl.DataFrame)
            frames.append(
                by_ip.select(_COLUMNS)
                .filter(pl.col("client_ip") == identity, pl.col("host").is_in(hosts))
                .with_columns(user=pl.lit(identity))
            )
    if not frames:
        return _empty()
    return pl.concat(frames, how="vertical_relaxed").unique()


def label(results: Sequence[ProbeResult], events: pl.DataFrame, slack: timedelta) -> None:
    """Fill `seen_in_logs`, `log_action`, `log_category`, `log_source` and `monitoring_detail` in place."""
    for res in results:
        if not res.monitored:
            res.seen_in_logs = None
            res.monitoring_detail = "not monitored (the plan does not expect this probe in the logs)"
            continue
        match = events.filter(
            pl.col("user") == (res.identity or ""),
            pl.col("host") == res.host,
            pl.col("ts").is_between(res.started - slack, res.finished + slack),
        )
        if res.method == "DNS":
            match = match.filter(pl.col("method") == "DNS")
        window = f"{res.started:%H:%M:%S}-{res.finished:%H:%M:%S} UTC"
        if match.is_empty():
            res.seen_in_logs = False
            res.monitoring_detail = (
                f"not found in the ingested logs (user {res.identity}, host {res.host}, {window}): "
                "the monitoring did not see this probe"
            )
            continue
        ranked = match.with_columns(rank=pl.col("action").replace_strict(_ACTION_RANK, default=9)).sort("rank")
        top = ranked.row(0, named=True)
        res.seen_in_logs = True
        res.log_action = top["action"]
        cats = [c for c in ranked["category"].drop_nulls().unique(maintain_order=True).to_list() if c]
        res.log_category = ";".join(cats) or None
        res.log_source = ",".join(sorted(set(ranked["source"].drop_nulls().to_list()))) or None
        if res.observed == "blocked" and res.log_action not in ("blocked", "warned"):
            res.monitoring_detail = (
                f"the filter blocked it but the logs record it as {res.log_action} ({res.log_source})"
            )
        else:
            res.monitoring_detail = f"logged by {res.log_source} as {res.log_action}" + (
                f" ({res.log_category})" if res.log_category else ""
            )


def check_logs(
    results: Sequence[ProbeResult],
    *,
    school: str,
    warehouse_root: Path,
    wait_seconds: float,
    slack_seconds: float,
    ingest: Callable[[], object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Look every monitored probe up in the warehouse, ingesting (if given) and waiting for late log lines."""
    from warehouse.query import Warehouse

    monitored = [r for r in results if r.monitored]
    slack = timedelta(seconds=slack_seconds)
    deadline = time.monotonic() + wait_seconds
    while True:
        if ingest is not None:
            ingest()  # logs written by the filter since the last pass (checkpointed: no duplicates)
        if monitored:
            wh = Warehouse(warehouse_root, threads=1, memory_limit="512MB")
            try:
                events = fetch_events(wh, school, monitored, slack)
            finally:
                wh.close()
        else:
            events = _empty()
        label(results, events.with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC"))), slack)
        # a probe that never reached the filter (proxy down, bad credentials) will not appear: don't wait for it
        missing = [r for r in monitored if r.seen_in_logs is not True and r.observed != "error"]
        if not missing or time.monotonic() >= deadline:
            return
        sleep(min(1.0, max(0.0, deadline - time.monotonic())))
