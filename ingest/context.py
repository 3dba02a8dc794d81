"""What detectors may know while ingesting: the warehouse (read-only) and who is a member of staff.

Staff are identified from `[staff]` in vigil.toml (`users`, and filter `groups` such as `staff` or
`teachers`), plus any user the logs themselves place in a staff group: in this batch, or in the school's
last two weeks of events (read once when the pipeline starts). Alerts about staff go to the head teacher,
never the DSL queue, so getting this right matters more than getting it fast.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ValidationError

from detectors.base import DetectContext
from vigil.errors import ConfigError
from vigil.settings import Settings
from warehouse.query import Warehouse

LOOKBACK = timedelta(days=14)


class StaffConfig(BaseModel):
    """`[staff]`: logins and filter groups that identify members of staff."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ("staff", "staff_group", "teachers", "teaching staff", "support staff", "admin staff")


def staff_config(settings: Settings) -> StaffConfig:
    """The validated `[staff]` section."""
    try:
        return StaffConfig(**settings.section("staff"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config: staff.{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def staff_in(events: pa.Table, groups: tuple[str, ...]) -> set[str]:
    """Users placed in a staff group by these events (group names compared case-insensitively)."""
    if events.num_rows == 0:
        return set()
    wanted = pa.array([g.lower() for g in groups], pa.string())
    mask = pc.is_in(pc.utf8_lower(events.column("user_group")), value_set=wanted)
    users = pc.filter(events.column("user"), pc.fill_null(mask, False))
    return {u for u in pc.unique(users).to_pylist() if u}


def known_staff(warehouse: Warehouse, groups: tuple[str, ...], now: datetime) -> set[str]:
    """Users the last two weeks of stored events placed in a staff group, across schools."""
    out: set[str] = set()
    lowered = [g.lower() for g in groups]
    con = duckdb.connect()
    try:
        for school in warehouse.schools():
            files = warehouse.files("events", school, now - LOOKBACK, now)
            if not files:
                continue
            rows = con.execute(
                "SELECT DISTINCT user FROM read_parquet($files, union_by_name=true) "
                "WHERE user IS NOT NULL AND list_contains($groups, lower(user_group))",
                {"files": files, "groups": lowered},
            ).fetchall()
            out.update(r[0] for r in rows)
    finally:
        con.close()
    return out


class IngestContext:
    """Builds the DetectContext for each batch of one ingest process."""

    def __init__(self, settings: Settings, *, use_warehouse: bool = True) -> None:
        self.staff = staff_config(settings)
        self.warehouse = Warehouse(settings.warehouse_dir) if use_warehouse else None
        self.known: set[str] = {u.lower() for u in self.staff.users}
        if self.warehouse is not None:
            self.known |= known_staff(self.warehouse, self.staff.groups, datetime.now(UTC))
        self.base = DetectContext(options=settings.section("detection"), warehouse=self.warehouse)

    def for_batch(self, events: pa.Table) -> DetectContext:
        """The context for one batch: staff seen so far, including in this batch."""
        self.known |= staff_in(events, self.staff.groups)
        return dataclasses.replace(self.base, staff_users=frozenset(self.known))
