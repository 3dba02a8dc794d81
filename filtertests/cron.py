"""A small five-field cron expression (minute hour day-of-month month day-of-week) for the test schedule.

Supports `*`, lists, ranges, steps (`*/15`, `1-5/2`), day-of-week 0-7 (0 and 7 are Sunday), three-letter
month and day names, and `@hourly`, `@daily`, `@weekly`, `@monthly`. As in cron, when both day fields are
restricted a day matches if either does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from filtertests.errors import ScheduleError

ALIASES = {"@hourly": "0 * * * *", "@daily": "0 6 * * *", "@weekly": "0 6 * * 1", "@monthly": "0 6 1 * *"}
_NAMES = {
    **{
        m: i
        for i, m in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
        )
    },
    **{d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_SEARCH_DAYS = 400


def _field(text: str, lo: int, hi: int, what: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.lower().split(","):
        base, _, step_s = part.partition("/")
        try:
            step = int(step_s) if step_s else 1
            if base == "*":
                a, b = lo, hi
            elif "-" in base:
                x, y = base.split("-", 1)
                a, b = _NAMES.get(x) or int(x), _NAMES.get(y) or int(y)
            else:
                a = _NAMES[base] if base in _NAMES else int(base)
                b = hi if step_s else a
        except (ValueError, KeyError) as exc:
            raise ScheduleError(f"schedule: bad {what} field {text!r}") from exc
        if step < 1 or not (lo <= a <= hi and lo <= b <= hi) or a > b:
            raise ScheduleError(f"schedule: {what} {part!r} outside {lo}-{hi}")
        out.update(range(a, b + 1, step))
    return frozenset(out)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression; times are wall-clock in whatever zone the caller uses."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    dom_any: bool
    dow_any: bool

    @classmethod
    def parse(cls, spec: str) -> Cron:
        """Parse `m h dom mon dow` or an @alias."""
        text = ALIASES.get(spec.strip().lower(), spec.strip())
        fields = text.split()
        if len(fields) != 5:
            raise ScheduleError(f"schedule: {spec!r} needs five fields (minute hour day month weekday) or @weekly")
        dow = frozenset(d % 7 for d in _field(fields[4], 0, 7, "weekday"))
        return cls(
            _field(fields[0], 0, 59, "minute"),
            _field(fields[1], 0, 23, "hour"),
            _field(fields[2], 1, 31, "day"),
            _field(fields[3], 1, 12, "month"),
            dow,
            fields[2] == "*",
            fields[4] == "*",
        )

    def day_matches(self, d: date) -> bool:
        """Whether the schedule fires on this date at all."""
        if d.month not in self.months:
            return False
        dom, dow = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow

    def last_at_or_before(self, now: datetime) -> datetime | None:
        """The latest scheduled minute not after `now` (same tzinfo as `now`), within about a year."""
        for back in range(_SEARCH_DAYS):
            d = now.date() - timedelta(days=back)
            if not self.day_matches(d):
                continue
            for h in sorted(self.hours, reverse=True):
                for m in sorted(self.minutes, reverse=True):
                    at = datetime.combine(d, time(h, m), now.tzinfo)
                    if at <= now:
                        return at
        return None

    def next_after(self, now: datetime) -> datetime | None:
        """The first scheduled minute strictly after `now`, within about a year."""
        for ahead in range(_SEARCH_DAYS):
            d = now.date() + timedelta(days=ahead)
            if not self.day_matches(d):
                continue
            for h in sorted(self.hours):
                for m in sorted(self.minutes):
                    at = datetime.combine(d, time(h, m), now.tzinfo)
                    if at > now:
                        return at
        return None
