"""SYNTHETIC alerts and events for tests, benchmarks and demos: invented pupils, sites and searches only."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from detectors.base import CATEGORIES, Alert
from parsers.schema import EVENT_SCHEMA

SITES = ("www.bbc.co.uk", "classroom.example.org", "maths.example.net", "docs.example.com", "video.example.tv")
SEARCHES = {
    "suicide_self_harm": ("how many pills is too many", "ways to disappear forever"),
    "bullying": ("how to get back at bullies", "everyone hates me at school"),
    "circumvention": ("free proxy unblocked", "vpn for school chromebook"),
    "drugs": ("where to buy weed near me",),
}


def synthetic_alert(
    school: str,
    user: str,
    category: str,
    ts: datetime,
    *,
    severity: int = 3,
    hits: int = 3,
    subject_kind: str = "pupil",
    detector: str = "keywords",
    seq: int = 0,
) -> Alert:
    """One invented alert with `hits` evidence events a minute apart."""
    terms = SEARCHES.get(category, (f"synthetic {category} search",))
    events = [
        {
            "ts": (ts + timedelta(minutes=i)).isoformat(),
            "url": f"https://www.google.co.uk/search?q=term{i}",
            "host": "www.google.co.uk",
            "action": "allowed" if i % 2 else "blocked",
            "search_terms": terms[i % len(terms)],
            "origin": f"synthetic:{school}:{user}:{seq}:{i}",
        }
        for i in range(hits)
    ]
    return Alert(
        school=school,
        ts=ts,
        last_ts=ts + timedelta(minutes=max(hits - 1, 0)),
        user=user,
        client_ip=f"10.0.{seq % 250}.{(seq // 250) % 250 + 1}",
        detector=detector,
        rule=f"{category}.synthetic",
        category=category,
        severity=severity,
        title=f"Synthetic {category} alert",
        evidence={"events": events, "matched": terms[0], "search_terms": list(terms), "why": None},
        event_keys=tuple(e["origin"] for e in events),
        subject_kind=subject_kind,  # type: ignore[arg-type]
    )


def synthetic_alerts(
    n: int,
    schools: tuple[str, ...] = ("school-a", "school-b"),
    *,
    seed: int = 7,
    start: datetime | None = None,
    pupils: int = 2000,
) -> list[Alert]:
    """n invented alerts spread over schools, pupils, categories and severities (ids all distinct)."""
    rng = random.Random(seed)
    base = start or datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    out: list[Alert] = []
    for i in range(n):
        school = schools[i % len(schools)]
        out.append(
            synthetic_alert(
                school,
                f"pupil{rng.randrange(pupils):05d}",
                rng.choice(CATEGORIES),
                base + timedelta(days=i, minutes=rng.randrange(600)),  # one per day per id keeps episodes distinct
                severity=rng.choice((1, 2, 3, 3, 3, 4, 4, 5)),
                hits=rng.randrange(1, 6),
                subject_kind="staff" if rng.random() < 0.02 else "pupil",
                seq=i,
            )
        )
    return out


def synthetic_events(alert: Alert, minutes: int = 60, every_s: int = 45) -> pa.Table:
    """An invented browsing timeline around an alert (EVENT_SCHEMA), including the alert's own events."""
    rows: list[dict[str, Any]] = []
    t = alert.ts - timedelta(minutes=minutes)
    i = 0
    while t < alert.ts + timedelta(minutes=minutes):
        host = SITES[i % len(SITES)]
        rows.append(
            {
                "ts": t,
                "school": alert.school,
                "source": "squid",
                "observer": "proxy1",
                "user": alert.user,
                "client_ip": alert.client_ip,
                "action": "blocked" if i % 17 == 5 else "allowed",
                "method": "GET",
                "url": f"https://{host}/page/{i}",
                "host": host,
                "status": 200,
                "raw": f"synthetic line {i}",
                "origin": f"synthetic-bg:{alert.id}:{i}",
            }
        )
        t += timedelta(seconds=every_s)
        i += 1
    for e in alert.evidence.get("events", []):
        rows.append(
            {
                "ts": datetime.fromisoformat(e["ts"]),
                "school": alert.school,
                "source": "squid",
                "observer": "proxy1",
                "user": alert.user,
                "client_ip": alert.client_ip,
                "action": e["action"],
                "method": "GET",
                "url": e["url"],
                "host": e["host"],
                "search_terms": e["search_terms"],
                "status": 200,
                "raw": "synthetic matched line",
                "origin": e["origin"],
            }
        )
    rows.sort(key=lambda r: r["ts"])
    cols = {f.name: [r.get(f.name) for r in rows] for f in EVENT_SCHEMA}
    return pa.table(cols, schema=EVENT_SCHEMA)
