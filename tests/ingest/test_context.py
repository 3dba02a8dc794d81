"""Staff are recognised from config, from filter groups in the batch, and from recent stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from ingest.context import IngestContext, staff_in
from parsers.schema import EVENT_SCHEMA, REJECT_SCHEMA
from vigil.settings import Settings
from warehouse.writer import WarehouseWriter


def events(rows: list[dict[str, object]]) -> pa.Table:
    cols = {name: [r.get(name) for r in rows] for name in EVENT_SCHEMA.names}
    return pa.table(cols, schema=EVENT_SCHEMA)


def row(user: str, group: str | None, ts: datetime | None = None) -> dict[str, object]:
    return {"ts": ts or datetime.now(UTC), "school": "s1", "source": "t", "user": user, "user_group": group,
            "raw": "x", "origin": f"t:{user}"}


def test_staff_groups_in_a_batch() -> None:
    batch = events([row("mrs.jones", "Staff"), row("pupil1", "Year 9"), row("pupil2", None)])
    assert staff_in(batch, ("staff",)) == {"mrs.jones"}


def test_context_unions_config_batch_and_history(tmp_path: object) -> None:
    s = Settings(data_dir=tmp_path, staff={"users": ["Head.Teacher"], "groups": ["teachers"]})  # type: ignore[arg-type]
    past = datetime.now(UTC) - timedelta(days=3)
    WarehouseWriter(s.warehouse_dir).write_batch(
        "h1", events([row("mr.smith", "Teachers", past), row("pupil1", "Year 7", past)]), REJECT_SCHEMA.empty_table()
    )
    ctx = IngestContext(s)
    first = ctx.for_batch(events([row("ms.new", "teachers"), row("pupil3", "Year 8")]))
    assert first.staff_users == {"head.teacher", "mr.smith", "ms.new"}
    assert first.warehouse is not None
    # a later batch without group labels still knows them
    assert "ms.new" in ctx.for_batch(events([row("ms.new", None)])).staff_users
