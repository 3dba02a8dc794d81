"""Generate the simulated school's week of logs: Netsweeper, e2guardian and FortiGate files plus a ledger.

SYNTHETIC DATA. Every pupil, member of staff, room, address, category number, search and episode written by
this generator is invented for the demo; no line comes from a real school or a real person. The concerning
episodes are fiction planted so that a DSL can see what Vigil does with them.

Deterministic: the same seed, scale and week give byte-identical files. Each stage draws from its own seeded
stream, so the population and the planted episodes do not change with `scale`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from vigil.demo import formats
from vigil.demo.content import add_content
from vigil.demo.errors import DemoError
from vigil.demo.planting import Planter
from vigil.demo.policy import people, resolve
from vigil.demo.population import Population, build_population
from vigil.demo.scenarios import Episode, plant_all
from vigil.demo.timetable import school_week
from vigil.demo.traffic import build_timetable, ordinary_requests

SCHOOL = "demo-academy"
FILES = {"netsweeper": "netsweeper-requests.log", "e2guardian": "e2guardian-access.log", "fortigate": "fortigate.log"}
QUIC_SHARE = 0.03  # phone requests preceded by a denied QUIC (UDP/443) attempt on the FortiGate
README = """SYNTHETIC demo logs written by `vigil demo` (seed {seed}, scale {scale}, week of {monday}).
Every person, address, search and episode in these files is invented; none comes from a real school.
netsweeper-requests.log  Netsweeper Request Log, TAB-delimited default profile: years 7-11 (main filter)
e2guardian-access.log    e2guardian logfileformat 6 (Protex TAB): the sixth-form block, years 12-13
fortigate.log            FortiGate key=value: staff web filter, DNS filter for every client, denied traffic
"""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """What a generation run wrote: files per format, line counts, the week, the people and the ledger."""

    out_dir: Path
    files: dict[str, Path]
    lines: dict[str, int]
    days: list[date]
    population: Population
    ledger: list[Episode]
    seed: int
    scale: float

    @property
    def total_lines(self) -> int:
        """Lines across all files."""
        return sum(self.lines.values())


def _rng(seed: int, stage: int) -> np.random.Generator:
    return np.random.default_rng([seed, stage])


STEPS = 8


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    scale: float = 1.0,
    start: date | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Write the week's three log files (and README, ledger) under `out_dir`; return what was written."""
    if not 0 < scale <= 20:
        raise DemoError(f"--scale {scale} is outside (0, 20]")
    step: Progress = progress or (lambda _msg: None)
    days = school_week(start, today or date.today())
    step("population")
    pop = build_population(_rng(seed, 1), days[0])
    tt = build_timetable(pop, days, _rng(seed, 2))
    step("episodes")
    planter = Planter(pop, tt, days, _rng(seed, 3))
    tt, ledger = plant_all(planter, tt)
    step("ordinary traffic")
    requests = add_content(ordinary_requests(pop, tt, len(days), _rng(seed, 4), scale), _rng(seed, 5))
    step("filter decisions")
    events = resolve(pl.concat([requests, planter.frame()], how="diagonal_relaxed"), pop, days, _rng(seed, 6))
    step("writing logs")
    rendered = {
        "netsweeper": formats.netsweeper(events.filter(pl.col("device") == "netsweeper")),
        "e2guardian": formats.e2guardian(events.filter(pl.col("device") == "e2guardian")),
        "fortigate": _fortigate(events, planter, pop, days, _rng(seed, 7)),
    }
    step("ledger")
    out_dir.mkdir(parents=True, exist_ok=True)
    files, lines = {}, {}
    for fmt, frame in rendered.items():
        path = out_dir / FILES[fmt]
        _write_lines(frame.sort("ts", maintain_order=True)["line"], path)
        files[fmt], lines[fmt] = path, frame.height
    (out_dir / "README.txt").write_text(README.format(seed=seed, scale=scale, monday=days[0].isoformat()))
    result = DemoResult(out_dir, files, lines, days, pop, ledger, seed, scale)
    write_ledger(result, out_dir / "ledger.json")
    return result


def _write_lines(lines: pl.Series, path: Path) -> None:
    """Write lines atomically (temp + rename) so a half-written file is never ingested."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        pl.DataFrame({"line": lines}).write_csv(tmp, include_header=False, quote_style="never")
        tmp.replace(path)
    except OSError as exc:
        raise DemoError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _fortigate(
    events: pl.DataFrame, planter: Planter, pop: Population, days: list[date], rng: np.random.Generator
) -> pl.DataFrame:
    """Web filter (staff), DNS (everyone, plus planted lookups) and denied traffic (QUIC noise, planted)."""
    who = people(pop).select("person", "user", "group", "wifi_ip")
    web = formats.fortigate_webfilter(events.filter(pl.col("device") == "fortigate"))
    dns = formats.dns_lookups(events, rng)
    planted_dns = _planted(planter.dns_rows, who, days, rng).join(
        events.select("host", "dst_ip", "fg_id", "fg_desc").unique("host").sort("host"),
        left_on="qname",
        right_on="host",
        how="left",
    )
    dns = pl.concat([dns, planted_dns.select(dns.columns)], how="vertical_relaxed")
    phones = events.filter(pl.col("ua") == 2)
    quic = phones.filter(pl.Series(rng.random(phones.height) < QUIC_SHARE)).select(
        ts=pl.col("ts") - pl.duration(milliseconds=120),
        client_ip="client_ip",
        user="user",
        group="group",
        dst_ip="dst_ip",
        dst_port=pl.lit(443),
        proto=pl.lit(17),
        service=pl.lit("QUIC"),
        fw_action=pl.lit("deny"),
        sport="sport",
    )
    planted_fw = _planted(planter.firewall_rows, who, days, rng)
    fw = pl.concat([quic, planted_fw.select(quic.columns)], how="vertical_relaxed")
    return pl.concat([web, formats.fortigate_dns(dns), formats.fortigate_traffic(fw)])


def _planted(
    rows: list[dict[str, object]], who: pl.DataFrame, days: list[date], rng: np.random.Generator
) -> pl.DataFrame:
    """Planted firewall/DNS rows with UTC time, Wi-Fi address and identity attached."""
    frame = pl.DataFrame(rows)
    midnight = pl.Series(
        [datetime(days[d].year, days[d].month, days[d].day) for d in frame["day"]], dtype=pl.Datetime("us")
    )
    return (
        frame.with_columns(local=midnight + pl.duration(microseconds=pl.col("t")))
        .join(who, on="person", how="left", maintain_order="left")
        .with_columns(
            ts=pl.col("local").dt.replace_time_zone(formats.TZ, ambiguous="earliest").dt.convert_time_zone("UTC"),
            client_ip=pl.col("wifi_ip"),
            sport=pl.Series(rng.integers(49152, 65535, frame.height)),
        )
    )


def write_ledger(result: DemoResult, path: Path) -> None:
    """The planted episodes as JSON (for the curious and for tests), with the week's dates."""
    doc = {
        "synthetic": True,
        "school": SCHOOL,
        "seed": result.seed,
        "scale": result.scale,
        "days": [d.isoformat() for d in result.days],
        "staff_users": result.population.staff["user"].to_list(),
        "episodes": [asdict(e) | {"dates": [result.days[d].isoformat() for d in e.days]} for e in result.ledger],
    }
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
