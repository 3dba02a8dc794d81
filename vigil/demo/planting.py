"""Tools for planting scripted requests into the simulated week: visits, searches, lesson cohorts, encoders."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np
import polars as pl

from vigil.demo.catalog import SITES
from vigil.demo.content import search_url
from vigil.demo.population import Population
from vigil.demo.timetable import SLOT_BY_NAME, hm
from vigil.demo.traffic import CTX, STAFF_OFFSET, UA, Timetable, room_octets

_SITE_CAT = {s.host: s.category for s in SITES}
WIFI = (-1, 0, 0)  # octets marker: "the person's own Wi-Fi lease", filled from their record later


def uv_encode(url: str) -> str:
    """Ultraviolet's XOR codec (every second character XOR 2, then encodeURIComponent), as unblockers use."""
    xored = "".join(c if i % 2 == 0 else chr(ord(c) ^ 2) for i, c in enumerate(url))
    return quote(xored, safe="-_.!~*'()")


def doh_query(name: str, qid: int = 0) -> str:
    """An RFC 8484 GET parameter: a DNS wire-format A query for `name`, base64url without padding."""
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return base64.urlsafe_b64encode(header + qname + struct.pack(">HH", 1, 1)).decode().rstrip("=")


@dataclass
class Planter:
    """Accumulates scripted request rows in the same shape as ordinary traffic (see traffic.py)."""

    pop: Population
    tt: Timetable
    days: list[date]
    rng: np.random.Generator
    rows: list[dict[str, object]] = field(default_factory=list)
    firewall_rows: list[dict[str, object]] = field(default_factory=list)
    dns_rows: list[dict[str, object]] = field(default_factory=list)

    def pupil(self, year: int, taken: set[str]) -> tuple[int, str]:
        """A pupil of `year` not already given a part in another scenario: (person id, login)."""
        pool = self.pop.pupils.filter((pl.col("year") == year) & ~pl.col("user").is_in(sorted(taken)))
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        taken.add(row["user"])
        return int(row["idx"]), str(row["user"])

    def staff_member(self, role: str) -> tuple[int, str]:
        """A staff member with this role: (person id, login)."""
        pool = self.pop.staff.filter(pl.col("role") == role)
        row = pool.row(int(self.rng.integers(0, pool.height)), named=True)
        return STAFF_OFFSET + int(row["idx"]), str(row["user"])

    def visit(
        self,
        person: int,
        day: int,
        at: str,
        url: str,
        *,
        cat: str | None = None,
        where: str = "wifi",
        action: str | None = None,
        reason: str | None = None,
        device: str | None = None,
        method: str = "GET",
        ua: str = "phone",
    ) -> str:
        """One request at local `HH:MM[:SS]` on school day `day` (0 = Monday); returns the URL."""
        host = (urlsplit(url).hostname or "").lower()
        category = cat or _SITE_CAT.get(host, "uncategorised")
        t = self._local_us(at)
        b, c, d = self._where(person, day, t // 1_000_000, where)
        self.rows.append(
            {
                "day": day,
                "t": t,
                "person": person,
                "b": b,
                "c": c,
                "d": d,
                "ctx": CTX["staff" if person >= STAFF_OFFSET else "free"],
                "ua": UA["desktop" if where in ("library", "lesson") else ua],
                "url": url,
                "host": host,
                "cat": category,
                "kind": "scenario",
                "referrer": None,
                "method": method,
                "force_action": action,
                "force_reason": reason,
                "force_device": device,
            }
        )
        return url

    def _local_us(self, at: str) -> int:
        parts = at.split(":")
        seconds = hm(f"{parts[0]}:{parts[1]}") + (int(parts[2]) if len(parts) > 2 else int(self.rng.integers(0, 59)))
        return seconds * 1_000_000 + int(self.rng.integers(0, 999_999))

    def connection(
        self, person: int, day: int, at: str, dst_ip: str, dst_port: int, proto: int, service: str, action: str = "deny"
    ) -> None:
        """A firewall session (FortiGate forward traffic) from the person's Wi-Fi lease, e.g. a VPN attempt."""
        self.firewall_rows.append(
            {
                "day": day,
                "t": self._local_us(at),
                "person": person,
                "dst_ip": dst_ip,
                "dst_port": dst_port,
                "proto": proto,
                "service": service,
                "fw_action": action,
            }
        )

    def lookup(self, person: int, day: int, at: str, qname: str, action: str = "pass") -> None:
        """A DNS query seen by the FortiGate DNS filter from the person's Wi-Fi lease."""
        self.dns_rows.append(
            {"day": day, "t": self._local_us(at), "person": person, "qname": qname, "dns_action": action}
        )

    def search(
        self, person: int, day: int, at: str, query: str, *, engine: str = "www.google.co.uk", **kwargs: Any
    ) -> str:
        """A search on one of the demo engines; returns the URL."""
        cat = "video" if "youtube" in engine else "search"
        return self.visit(person, day, at, search_url(engine, query), cat=cat, **kwargs)

    def _where(self, person: int, day: int, seconds: int, where: str) -> tuple[int, int, int]:
        if where == "wifi":
            return WIFI
        sixth = person < STAFF_OFFSET and bool(self.pop.pupils["sixth"][person])
        if where == "library":
            return (30 if sixth else 20), 100, 10 + person % 200
        lesson = self.lesson_of(person, day, seconds)
        if lesson is None:
            return WIFI
        b, c = room_octets(str(lesson["block"]), int(str(lesson["room"])))
        members = list(lesson["members"])  # type: ignore[call-overload]
        return b, c, 10 + members.index(person)

    def lesson_of(self, person: int, day: int, seconds: int) -> dict[str, object] | None:
        """The lesson a pupil is in at that moment, if any."""
        slot = next((s.name for s in SLOT_BY_NAME.values() if s.kind == "lesson" and s.start <= seconds < s.end), None)
        if slot is None:
            return None
        found = self.tt.lessons.filter(
            (pl.col("day") == day) & (pl.col("slot") == slot) & pl.col("members").list.contains(person)
        )
        return found.row(0, named=True) if found.height else None

    def frame(self) -> pl.DataFrame:
        """The planted rows as a frame matching the ordinary request frame plus the force_* columns."""
        schema = {
            "day": pl.Int64,
            "t": pl.Int64,
            "person": pl.Int64,
            "b": pl.Int64,
            "c": pl.Int64,
            "d": pl.Int64,
            "ctx": pl.Int64,
            "ua": pl.Int64,
            "url": pl.String,
            "host": pl.String,
            "cat": pl.String,
            "kind": pl.String,
            "referrer": pl.String,
            "method": pl.String,
            "force_action": pl.String,
            "force_reason": pl.String,
            "force_device": pl.String,
        }
        return pl.DataFrame(self.rows, schema=schema)
