"""The people and places of the simulated school: pupils with tutor groups, staff, rooms and subnets.

All names are synthetic, drawn from common UK first names and surnames at random; any resemblance to a real
pupil is coincidence. Pupil logins follow the common `<intake yy><surname><initial>` pattern, staff
`<initial>.<surname>`, so the two are told apart at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

FIRST_NAMES = (
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Jack",
    "Ivy",
    "Leo",
    "Lily",
    "Arthur",
    "Freya",
    "Muhammad",
    "Sophia",
    "Oscar",
    "Grace",
    "Charlie",
    "Evie",
    "Jacob",
    "Poppy",
    "Thomas",
    "Ella",
    "Alfie",
    "Aisha",
    "Henry",
    "Zara",
    "Theo",
    "Maya",
    "Joshua",
    "Ruby",
    "Archie",
    "Emily",
    "Ethan",
    "Chloe",
    "Aarav",
    "Priya",
    "Kacper",
    "Zuzanna",
    "Tomasz",
    "Olivia",
    "Kwame",
    "Amara",
    "Dylan",
    "Seren",
    "Rhys",
    "Niamh",
    "Callum",
    "Eilidh",
    "Yusuf",
    "Fatima",
    "Daniel",
    "Hannah",
    "Samuel",
    "Jessica",
    "Luca",
    "Sofia",
)
SURNAMES = (
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shah",
    "Khan",
    "Hussain",
    "Ali",
    "Ahmed",
    "Begum",
    "Kowalski",
    "Nowak",
    "Mensah",
    "Okafor",
    "Singh",
    "Kaur",
    "Murphy",
    "Campbell",
    "Stewart",
    "Anderson",
    "Murray",
)

# Pupils per year group at scale 1 (1,200 in all): five forms of entry in 7-11, a smaller sixth form.
YEAR_SIZES = {7: 190, 8: 190, 9: 190, 10: 190, 11: 190, 12: 130, 13: 120}
FORMS_PER_YEAR = {7: 7, 8: 7, 9: 7, 10: 7, 11: 7, 12: 5, 13: 5}
FORM_LETTERS = "ABCDEFG"
STAFF_COUNT = 120
MAIN_ROOMS = 40  # classrooms in the main block (years 7-11): 10.20.<room>.0/24
SIXTH_ROOMS = 12  # sixth-form block (years 12-13): 10.30.<room>.0/24


@dataclass(frozen=True)
class Population:
    """Pupils and staff of the simulated school, one row each (frames, so selection stays vectorised)."""

    pupils: pl.DataFrame  # idx, user, first, last, year, form, filter_group, wifi_ip, sixth
    staff: pl.DataFrame  # idx, user, first, last, role, wifi_ip
    academic_year: int  # the calendar year the academic year began in (September)

    @property
    def users(self) -> list[str]:
        """Every login, pupils first."""
        return self.pupils["user"].to_list() + self.staff["user"].to_list()


def academic_year_of(day: date) -> int:
    """The calendar year in which the academic year containing `day` began (September start)."""
    return day.year if day.month >= 9 else day.year - 1


def _unique_logins(base: list[str]) -> list[str]:
    # A second pupil with the same login gets a digit, as school MIS exports do.
    seen: dict[str, int] = {}
    out = []
    for login in base:
        n = seen.get(login, 0)
        seen[login] = n + 1
        out.append(login if n == 0 else f"{login}{n + 1}")
    return out


def build_population(rng: np.random.Generator, first_day: date) -> Population:
    """A deterministic school population for the academic year containing `first_day`."""
    ay = academic_year_of(first_day)
    years = np.concatenate([np.full(n, y) for y, n in YEAR_SIZES.items()])
    n = len(years)
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    forms = np.concatenate(
        [
            np.array([f"{y}{FORM_LETTERS[i % FORMS_PER_YEAR[y]]}" for i in range(cnt)])[rng.permutation(cnt)]
            for y, cnt in YEAR_SIZES.items()
        ]
    )
    intake = ay - (years - 7)
    base = [f"{i % 100:02d}{s.lower()}{f[0].lower()}" for i, s, f in zip(intake, last, first, strict=True)]
    idx = np.arange(n)
    pupils = pl.DataFrame(
        {
            "idx": idx,
            "user": _unique_logins(base),
            "first": first,
            "last": last,
            "year": years,
            "form": forms,
            "filter_group": [f"year{y}" for y in years],
            "sixth": years >= 12,
            # Pupils' phones and laptops on the pupil Wi-Fi keep one DHCP lease for the week.
            "wifi_ip": [
                (f"10.31.{i // 200}.{i % 200 + 20}" if y >= 12 else f"10.21.{i // 200}.{i % 200 + 20}")
                for i, y in zip(idx, years, strict=True)
            ],
        }
    )
    sf = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), STAFF_COUNT)]
    sl = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), STAFF_COUNT)]
    roles = ["head teacher", "deputy head", "deputy head"] + ["teacher"] * 85 + ["support staff"] * 32
    staff = pl.DataFrame(
        {
            "idx": np.arange(STAFF_COUNT),
            "user": _unique_logins([f"{f[0].lower()}.{s.lower()}" for f, s in zip(sf, sl, strict=True)]),
            "first": sf,
            "last": sl,
            "role": roles,
            "wifi_ip": [f"10.40.{i // 200}.{i % 200 + 20}" for i in range(STAFF_COUNT)],
        }
    )
    return Population(pupils=pupils, staff=staff, academic_year=ay)
