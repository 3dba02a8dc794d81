"""Read-only DuckDB over the Parquet warehouse; every query is pruned to one school and a date range.

Pruning happens before DuckDB sees anything: we list exactly the partition directories of the school
and dates asked for, so other schools' files are never opened. Within a file, rows are sorted by user
then ts, so one pupil's timeline reads only a few row groups.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from warehouse.layout import partition_dir, school_dir

_SCHEMAS = {"events": EVENT_SCHEMA, "rejects": REJECT_SCHEMA}
log = logging.getLogger("vigil.warehouse")


def _days(since: datetime, until: datetime) -> list[date]:
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class Warehouse:
    """Query access to `<root>/events` and `<root>/rejects`."""

    def __init__(self, root: Path, *, threads: int = 2, memory_limit: str = "2GB") -> None:
        self.root = root
        self._con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
        self._lock = threading.Lock()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    def files(self, table: str, school: str, since: datetime, until: datetime) -> list[str]:
        """Parquet files of one school's partitions between two instants (inclusive days)."""
        out: list[str] = []
        for day in _days(since, until):
            d = partition_dir(self.root, table, school, day)
            if d.is_dir():
                out.extend(sorted(str(p) for p in d.glob("*.parquet")))
        return out

    def days(self, table: str, school: str) -> list[date]:
        """Dates that have a partition for this school."""
        base = school_dir(self.root, table, school)
        if not base.is_dir():
            return []
        return sorted(date.fromisoformat(p.name[5:]) for p in base.glob("date=*") if p.is_dir())

    def schools(self, table: str = "events") -> list[str]:
        """Schools with any data."""
        base = self.root / table
        return sorted(p.name[7:] for p in base.glob("school=*")) if base.is_dir() else []

    def _select(
        self,
        table: str,
        school: str,
        since: datetime,
        until: datetime,
        where: str = "",
        params: list[Any] | None = None,
        order: str = "ts",
        limit: int | None = None,
        columns: str = "*",
    ) -> pa.Table:
        files = self.files(table, school, since, until)
        ts_col = "ts" if table == "events" else "ts_ingested"
        if not files:
            return _SCHEMAS[table].empty_table() if columns == "*" else pa.table({})
        sql = (
            f"SELECT {columns} FROM read_parquet(?, union_by_name=true) "
            f"WHERE {ts_col} >= ? AND {ts_col} < ? {('AND ' + where) if where else ''} ORDER BY {order}"
            + (f" LIMIT {int(limit)}" if limit else "")
        )
        result = self._retrying(
            lambda fs: self._cursor().sql(sql, params=[fs, since, until, *(params or [])]),
            table,
            school,
            since,
            until,
            files,
        )
        if columns == "*":
            return result.select(_SCHEMAS[table].names).cast(_SCHEMAS[table])
        return result

    def _retrying(
        self,
        run: Callable[[list[str]], duckdb.DuckDBPyRelation],
        table: str,
        school: str,
        since: datetime,
        until: datetime,
        files: list[str],
    ) -> pa.Table:
        """Run a query over listed files; if retention or compaction removed one meanwhile, list again.

        Files are only ever replaced or removed whole, so a retry over a fresh listing sees a consistent set.
        """
        for attempt in range(3):
            try:
                return run(files).to_arrow_table()
            except duckdb.IOException as exc:
                if attempt == 2 or not any(not Path(f).exists() for f in files):
                    raise
                log.info("warehouse file vanished during a query; listing again", extra={"error": str(exc)[:200]})
                files = self.files(table, school, since, until)
                if not files:
                    return _SCHEMAS[table].empty_table()
        raise AssertionError("unreachable")

    def events(
        self,
        school: str,
        *,
        since: datetime,
        until: datetime,
        user: str | None = None,
        limit: int | None = 10_000,
    ) -> pa.Table:
        """EVENT_SCHEMA rows of one school in [since, until), optionally one user, in ts order."""
        where, params = ("user = ?", [user]) if user else ("", [])
        return self._select("events", school, since, until, where, params, limit=limit)

    def timeline(self, school: str, user: str, around: datetime, minutes: int = 60) -> pa.Table:
        """One user's events within ±minutes of an instant."""
        span = timedelta(minutes=minutes)
        return self.events(school, since=around - span, until=around + span, user=user, limit=5_000)

    def rejects(self, school: str, *, since: datetime, until: datetime, limit: int | None = 10_000) -> pa.Table:
        """REJECT_SCHEMA rows ingested in [since, until)."""
        return self._select("rejects", school, since, until, order="ts_ingested", limit=limit)

    def summary(self, school: str, *, since: datetime, until: datetime) -> dict[str, Any]:
        """Aggregates without identities: counts by action, category, source and day, and distinct users."""
        files = self.files("events", school, since, until)
        out: dict[str, Any] = {
            "school": school,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "events": 0,
            "users": 0,
            "by_action": {},
            "by_source": {},
            "top_categories": {},
            "by_day": {},
        }
        if not files:
            return out
        cur = self._cursor()
        base = "FROM read_parquet(?, union_by_name=true) WHERE ts >= ? AND ts < ?"
        args: list[Any] = [files, since, until]
        row = cur.execute(f"SELECT count(*), count(DISTINCT user) {base}", args).fetchone()
        assert row is not None
        out["events"], out["users"] = int(row[0]), int(row[1])
        out["by_action"] = dict(
            cur.execute(f"SELECT action, count(*) {base} GROUP BY 1 ORDER BY 2 DESC", args).fetchall()
        )
        out["by_source"] = dict(
            cur.execute(f"SELECT source, count(*) {base} GROUP BY 1 ORDER BY 2 DESC", args).fetchall()
        )
        out["top_categories"] = dict(
            cur.execute(
                f"SELECT category, count(*) {base} AND category IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 20",
                args,
            ).fetchall()
        )
        out["by_day"] = {
            str(d): n
            for d, n in cur.execute(f"SELECT CAST(ts AS DATE), count(*) {base} GROUP BY 1 ORDER BY 1", args).fetchall()
        }
        return out

    def source_health(self, school: str, *, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per source and observer: event count and the last event time (no identities)."""
        files = self.files("events", school, since, until)
        if not files:
            return []
        # Arrow, not fetchall(): Python conversion of TIMESTAMPTZ would need pytz.
        table = (
            self._cursor()
            .sql(
                "SELECT source, observer, count(*) AS events, max(ts) AS last_ts "
                "FROM read_parquet(?, union_by_name=true) WHERE ts >= ? AND ts < ? GROUP BY 1, 2 ORDER BY 1, 2",
                params=[files, since, until],
            )
            .to_arrow_table()
        )
        return [{**row, "events": int(row["events"])} for row in table.to_pylist()]

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Internal ad-hoc SQL with views `events` and `rejects` over the whole layout (not for the API)."""
        cur = self._cursor()
        for table in ("events", "rejects"):
            glob = (self.root / table / "*" / "*" / "*.parquet").as_posix()
            if any((self.root / table).glob("*/*/*.parquet")):
                cur.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning=true, union_by_name=true)"
                )
            else:
                cur.register(f"{table}_empty", _SCHEMAS[table].empty_table())
                cur.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {table}_empty")
        return cur.sql(query, params=params or None).to_arrow_table()

    def close(self) -> None:
        """Release the DuckDB connection."""
        self._con.close()
