"""Who browses when and from where: the timetable (lessons by room) and the ordinary request stream.

The stream is built as numpy arrays per slot (a few thousand small array operations for a week), then one
polars frame; no Python loop per request. Content (which page, which search) is added in `content.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from vigil.demo.population import MAIN_ROOMS, SIXTH_ROOMS, STAFF_COUNT, Population
from vigil.demo.timetable import (
    COMPUTER_USE,
    DAY,
    NIGHT_END,
    NIGHT_START,
    NO_COMPUTER_RATE,
    STAFF_END,
    STAFF_START,
    SUBJECT_SHARE,
    SUBJECTS,
)

CONTEXTS: tuple[str, ...] = (*SUBJECTS, "free", "staff", "night")
CTX = {c: i for i, c in enumerate(CONTEXTS)}
UA_KINDS: tuple[str, ...] = ("desktop", "chromebook", "phone", "machine")
UA = {k: i for i, k in enumerate(UA_KINDS)}
STAFF_OFFSET = 10_000  # person ids of staff: STAFF_OFFSET + staff idx (pupils are 0..n-1)
MACHINE_BASE = 100_000  # person ids at or above this are unattended workstations, not people
MAIN_CLASS, SIXTH_CLASS = 27, 22


@dataclass(frozen=True)
class Timetable:
    """Every lesson of the week: day, slot, year, room block and number, subject, computers, members."""

    lessons: pl.DataFrame  # day, slot, year, block ("main"|"sixth"), room, subject, computers, members (list[int])


class _Cols:
    """Column accumulator: numpy chunks appended per slot, concatenated once."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = {k: [] for k in ("day", "t", "person", "b", "c", "d", "ctx", "ua")}

    def add(self, **cols: np.ndarray | int) -> None:
        n = len(np.asarray(cols["t"]))
        for key in self.chunks:
            value = cols[key]
            self.chunks[key].append(np.broadcast_to(np.asarray(value), (n,)).astype(np.int64))

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in self.chunks.items()})


def build_timetable(pop: Population, days: list[date], rng: np.random.Generator) -> Timetable:
    """Classes per lesson slot: each year group reshuffled into sets, each set in a room with a subject."""
    rows: list[dict[str, object]] = []
    years = pop.pupils.group_by("year", maintain_order=True).agg(pl.col("idx"))
    lesson_slots = [s for s in DAY if s.kind == "lesson"]
    for day in range(len(days)):
        for slot in lesson_slots:
            main_rooms = rng.permutation(MAIN_ROOMS) + 1
            sixth_rooms = rng.permutation(SIXTH_ROOMS) + 1
            used = {"main": 0, "sixth": 0}
            for year, members in years.iter_rows():
                block = "sixth" if year >= 12 else "main"
                size = SIXTH_CLASS if block == "sixth" else MAIN_CLASS
                shuffled = rng.permutation(np.asarray(members))
                # Balanced sets (190 pupils -> 7 sets of 27-28), never a set of one left over.
                for members_of_set in np.array_split(shuffled, -(-len(shuffled) // size)):
                    rooms = sixth_rooms if block == "sixth" else main_rooms
                    room = int(rooms[used[block] % len(rooms)])
                    used[block] += 1
                    subject = str(rng.choice(SUBJECTS, p=SUBJECT_SHARE))
                    rows.append(
                        {
                            "day": day,
                            "slot": slot.name,
                            "year": year,
                            "block": block,
                            "room": room,
                            "subject": subject,
                            "computers": bool(rng.random() < COMPUTER_USE[subject]),
                            "members": members_of_set.tolist(),
                        }
                    )
    return Timetable(pl.DataFrame(rows, schema_overrides={"members": pl.List(pl.Int64)}))


def room_octets(block: str, room: int) -> tuple[int, int]:
    """Second and third octet of a classroom's /24 (main block 10.20.R, sixth-form block 10.30.R)."""
    return (30 if block == "sixth" else 20), room


def _times(rng: np.random.Generator, n: int, start: int, end: int, skew: float = 1.0) -> np.ndarray:
    """Microseconds after local midnight, uniform in [start, end) or front-loaded when skew > 1."""
    u = rng.beta(1.0, skew, n) if skew != 1.0 else rng.random(n)
    return (start * 1_000_000 + u * (end - start) * 1_000_000).astype(np.int64)


def _lessons(cols: _Cols, tt: Timetable, rng: np.random.Generator, scale: float) -> None:
    slots = {s.name: s for s in DAY}
    for day, slot_name, _year, block, room, subject, computers, members in tt.lessons.iter_rows():
        slot = slots[slot_name]
        m = np.asarray(members)
        rate = (slot.pupil_rate if computers else NO_COMPUTER_RATE) * scale
        counts = rng.poisson(rate, len(m))
        person = np.repeat(m, counts)
        seat = np.repeat(np.arange(len(m)), counts)
        n = len(person)
        if n == 0:
            continue
        b, c = room_octets(block, room)
        ua = UA["chromebook"] if block == "main" and room % 3 == 0 else UA["desktop"]
        cols.add(
            day=day,
            t=_times(rng, n, slot.start, slot.end),
            person=person,
            ctx=CTX[subject],
            # No computers: the odd phone on the Wi-Fi (address filled from the pupil's lease later).
            b=b if computers else -1,
            c=c,
            d=10 + seat,
            ua=ua if computers else UA["phone"],
        )


def _free_and_registration(cols: _Cols, pop: Population, n_days: int, rng: np.random.Generator, scale: float) -> None:
    idx = pop.pupils["idx"].to_numpy()
    sixth = pop.pupils["sixth"].to_numpy()
    form_room = pop.pupils["form"].rank("dense").cast(pl.Int64).to_numpy()  # one form room per tutor group
    for day in range(n_days):
        for slot in DAY:
            if slot.kind == "lesson":
                continue
            present = rng.random(len(idx)) < slot.presence
            counts = rng.poisson(slot.pupil_rate * scale, len(idx)) * present
            person = np.repeat(idx, counts)
            n = len(person)
            if n == 0:
                continue
            is_sixth = np.repeat(sixth, counts)
            skew = 2.5 if slot.name == "after_school" else 1.0
            b: np.ndarray
            c: np.ndarray | int
            ua: np.ndarray | int
            if slot.kind == "registration":
                room = np.repeat(form_room, counts)
                b = np.where(is_sixth, 30, 20)
                c, d, ua = room % 40 + 1, 10 + person % 30, UA["desktop"]
            else:
                # At break and lunch most browsing is on phones; some in the library (10.x.100.0/24).
                library = rng.random(n) < 0.3
                b = np.where(library, np.where(is_sixth, 30, 20), -1)
                c, d = 100, 10 + person % 200
                ua = np.where(library, UA["desktop"], UA["phone"])
            cols.add(
                day=day,
                t=_times(rng, n, slot.start, slot.end, skew),
                person=person,
                ctx=CTX["free"],
                b=b,
                c=c,
                d=d,
                ua=ua,
            )


def _staff(cols: _Cols, n_days: int, rng: np.random.Generator, scale: float) -> None:
    for day in range(n_days):
        counts = rng.poisson(60 * scale, STAFF_COUNT)
        person = STAFF_OFFSET + np.repeat(np.arange(STAFF_COUNT), counts)
        n = len(person)
        # Busy before school, at lunch and after the bell; lighter while teaching.
        centre = rng.choice(np.array([8.2, 10.9, 12.5, 15.6, 12.0]) * 3600, n, p=[0.22, 0.1, 0.2, 0.25, 0.23])
        spread = np.where(centre == 12.0 * 3600, 3 * 3600, 1200)
        t = centre + rng.normal(0, 1, n) * spread
        outside = (t < STAFF_START) | (t >= STAFF_END)
        t[outside] = STAFF_START + rng.random(int(outside.sum())) * (STAFF_END - STAFF_START)
        cols.add(
            day=day,
            t=(t * 1_000_000).astype(np.int64),
            person=person,
            ctx=CTX["staff"],
            b=-1,
            c=0,
            d=0,
            ua=UA["desktop"],
        )


def _machines(cols: _Cols, n_days: int, rng: np.random.Generator, scale: float) -> None:
    # Thirty classroom PCs left on overnight: updates, certificate checks, connectivity probes.
    pcs = rng.choice(MAIN_ROOMS * 30, 30, replace=False)
    # Friday night is left out: the PCs are shut down for the weekend, so the week stays Monday to Friday.
    for day in range(max(n_days - 1, 0)):
        counts = rng.poisson(40 * scale, len(pcs))
        pc = np.repeat(pcs, counts)
        n = len(pc)
        span = (24 * 3600 - NIGHT_START) + NIGHT_END
        t = (NIGHT_START + rng.random(n) * span) % (24 * 3600)
        # Times after midnight belong to the next calendar morning (Friday night runs into Saturday).
        day_of = np.where(t < NIGHT_START, day + 1, day)
        cols.add(
            day=day_of,
            t=(t * 1_000_000).astype(np.int64),
            person=MACHINE_BASE + pc,
            ctx=CTX["night"],
            b=20,
            c=pc // 30 + 1,
            d=10 + pc % 30,
            ua=UA["machine"],
        )


def ordinary_requests(
    pop: Population, tt: Timetable, n_days: int, rng: np.random.Generator, scale: float
) -> pl.DataFrame:
    """Who requests something when and from which address (content comes later): one row per request."""
    cols = _Cols()
    _lessons(cols, tt, rng, scale)
    _free_and_registration(cols, pop, n_days, rng, scale)
    _staff(cols, n_days, rng, scale)
    _machines(cols, n_days, rng, scale)
    return cols.frame()
