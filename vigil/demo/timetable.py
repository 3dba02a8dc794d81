"""The school day and week: periods with their local times, subjects, and which week to simulate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from vigil.demo.errors import DemoError


@dataclass(frozen=True)
class Slot:
    """A part of the school day, local wall-clock seconds after midnight, and what pupils do in it."""

    name: str
    start: int
    end: int
    kind: str  # "lesson", "free" (break, lunch, arrival, after school), "registration"
    pupil_rate: float  # requests per pupil per slot at scale 1 (lessons: for a computer-room lesson)
    presence: float = 1.0  # share of pupils browsing at all in this slot


def hm(text: str) -> int:
    """`08:50` -> seconds after midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


# Rates were tuned so a week at scale 1 comes to roughly 350k log lines across the three devices.
DAY: tuple[Slot, ...] = (
    Slot("arrival", hm("08:00"), hm("08:30"), "free", 2.0, 0.35),
    Slot("registration", hm("08:30"), hm("08:50"), "registration", 1.5, 0.5),
    Slot("p1", hm("08:50"), hm("09:50"), "lesson", 9.0),
    Slot("p2", hm("09:50"), hm("10:50"), "lesson", 9.0),
    Slot("break", hm("10:50"), hm("11:10"), "free", 3.0, 0.55),
    Slot("p3", hm("11:10"), hm("12:10"), "lesson", 9.0),
    Slot("lunch", hm("12:10"), hm("13:00"), "free", 6.0, 0.75),
    Slot("p4", hm("13:00"), hm("14:00"), "lesson", 9.0),
    Slot("p5", hm("14:00"), hm("15:00"), "lesson", 9.0),
    Slot("after_school", hm("15:00"), hm("17:30"), "free", 5.0, 0.2),
)
SLOT_BY_NAME = {s.name: s for s in DAY}

SUBJECTS: tuple[str, ...] = (
    "maths",
    "english",
    "science",
    "history",
    "geography",
    "computing",
    "languages",
    "art",
    "music",
    "pe",
    "re",
    "pshe",
)
# Lesson mix per subject (timetable share) and how likely a lesson is to use computers at all.
SUBJECT_SHARE = (0.16, 0.16, 0.16, 0.07, 0.07, 0.07, 0.08, 0.05, 0.04, 0.07, 0.04, 0.03)
COMPUTER_USE = {
    "maths": 0.3,
    "english": 0.25,
    "science": 0.3,
    "history": 0.35,
    "geography": 0.35,
    "computing": 0.95,
    "languages": 0.3,
    "art": 0.2,
    "music": 0.3,
    "pe": 0.02,
    "re": 0.3,
    "pshe": 0.4,
}
# A lesson without computers still sees a trickle (a phone, the teacher's screen on a pupil login).
NO_COMPUTER_RATE = 0.15

STAFF_START, STAFF_END = hm("07:30"), hm("17:45")
NIGHT_START, NIGHT_END = hm("18:00"), hm("07:30")  # unattended machines only (overnight, wraps midnight)


def school_week(start: date | None, today: date) -> list[date]:
    """Monday to Friday of the week starting `start` (must be a Monday), else the last complete week before today."""
    if start is not None:
        if start.weekday() != 0:
            raise DemoError(f"--start {start.isoformat()} is a {start.strftime('%A')}; give a Monday")
        monday = start
    else:
        this_monday = today - timedelta(days=today.weekday())
        # Saturday and Sunday: this week's school days are over; on a weekday the last full week is last week's.
        monday = this_monday if today.weekday() >= 5 else this_monday - timedelta(days=7)
    return [monday + timedelta(days=i) for i in range(5)]
