"""The planted episodes and the benign look-alikes are in the ledger and, by construction, in the logs."""

from __future__ import annotations

import json
from collections.abc import Callable

import polars as pl

from detectors.base import CATEGORIES
from vigil.demo import DemoResult, Episode

EventsOf = Callable[[dict[str, pl.DataFrame], str], pl.DataFrame]


def _concerning(demo_week: DemoResult) -> list[Episode]:
    return [e for e in demo_week.ledger if not e.benign]


def test_ledger_covers_the_planned_categories(demo_week: DemoResult) -> None:
    cats = {e.category for e in _concerning(demo_week)}
    assert cats == {
        "suicide_self_harm",
        "extremism",
        "sexual_exploitation",
        "bullying",
        "eating_disorders",
        "circumvention",
    }
    assert cats <= set(CATEGORIES)
    # A few episodes, not a flood: one or two pupils per concern.
    pupils = {u for e in _concerning(demo_week) if e.subject_kind == "pupil" for u in e.users}
    assert 6 <= len(pupils) <= 12
    assert all(e.rows > 0 and e.terms for e in _concerning(demo_week) if e.category != "circumvention")


def test_self_harm_escalates_over_days(demo_week: DemoResult) -> None:
    episodes = [e for e in demo_week.ledger if e.category == "suicide_self_harm" and e.subject_kind == "pupil"]
    assert len(episodes) == 2
    main = next(e for e in episodes if e.name == "self_harm_escalation")
    assert len(main.days) >= 4
    assert main.terms[0] == "why do i feel so sad all the time" and "suicide methods" in main.terms[-3:]


def test_staff_episode_is_one_search_by_a_member_of_staff(demo_week: DemoResult) -> None:
    staff_eps = [e for e in demo_week.ledger if e.subject_kind == "staff"]
    assert len(staff_eps) == 1 and len(staff_eps[0].terms) == 1
    assert staff_eps[0].users[0] in demo_week.population.staff["user"].to_list()
    assert staff_eps[0].device == "fortigate"


def test_planted_searches_are_in_the_parsed_logs(
    demo_week: DemoResult, parsed: dict[str, pl.DataFrame], events_of: EventsOf
) -> None:
    for ep in _concerning(demo_week):
        ev = events_of(parsed, ep.device)
        found = set(ev.filter(pl.col("user").is_in(list(ep.users)))["search_terms"].drop_nulls().to_list())
        missing = [t for t in ep.terms if t not in found]
        assert not missing, (ep.name, missing)


def test_circumvention_trail(demo_week: DemoResult, parsed: dict[str, pl.DataFrame], events_of: EventsOf) -> None:
    ep = next(e for e in demo_week.ledger if e.category == "circumvention")
    ns = events_of(parsed, "netsweeper").filter(pl.col("user") == ep.users[0])
    hosts = set(ns["host"].to_list())
    assert "www-tiktok-com.translate.goog" in hosts
    assert ns.filter(pl.col("path").str.starts_with("/service/hvtrs8")).height == 2
    assert ns.filter(pl.col("path") == "/uv/uv.sw.js").height == 1
    assert ns.filter(pl.col("path") == "/dns-query").height == 2
    vpn = ns.filter(pl.col("host").is_in(["protonvpn.com", "windscribe.com", "hide.me"]))
    assert vpn.height == 3 and set(vpn["action"]) == {"blocked"}
    # Blocked first, bypass after: the TikTok blocks come before the first proxy use.
    first_block = ns.filter(pl.col("host") == "www.tiktok.com")["ts"].min()
    first_proxy = ns.filter(pl.col("host").str.ends_with(".vercel.app"))["ts"].min()
    assert first_block is not None and first_proxy is not None and first_block < first_proxy  # type: ignore[operator]
    fg = events_of(parsed, "fortigate").filter(pl.col("user") == ep.users[0])
    ports = set(fg.filter(pl.col("action") == "blocked")["dst_port"].drop_nulls().to_list())
    assert {1194, 51820, 853} <= ports
    assert {"use-application-dns.net", "mask.icloud.com"} <= set(fg.filter(pl.col("method") == "DNS")["host"])


def test_benign_look_alikes_are_whole_classes_in_one_room(
    demo_week: DemoResult, parsed: dict[str, pl.DataFrame], events_of: EventsOf
) -> None:
    benign = {e.name: e for e in demo_week.ledger if e.benign}
    assert set(benign) == {
        "history_extremism_lesson",
        "computing_kill_process",
        "english_romeo_juliet",
        "pshe_help_seeking",
    }
    assert "kill a process linux" in benign["computing_kill_process"].terms
    assert "romeo and juliet suicide scene" in benign["english_romeo_juliet"].terms
    for ep in benign.values():
        assert len(ep.users) >= 20
        ev = events_of(parsed, ep.device).filter(
            pl.col("user").is_in(list(ep.users)) & pl.col("search_terms").is_in(list(ep.terms))
        )
        assert ev["user"].n_unique() == len(ep.users), ep.name
        subnets = ev["client_ip"].str.replace(r"\.\d+$", "").unique()
        assert subnets.len() == 1, (ep.name, subnets.to_list())
        span = ev["ts"].max() - ev["ts"].min()  # type: ignore[operator]
        assert span.total_seconds() < 3600, ep.name


def test_ledger_file_matches(demo_week: DemoResult) -> None:
    doc = json.loads((demo_week.out_dir.parent / "logs" / "ledger.json").read_text())
    assert doc["synthetic"] is True and doc["school"] == "demo-academy"
    assert [e["name"] for e in doc["episodes"]] == [e.name for e in demo_week.ledger]
    assert len(doc["staff_users"]) == 120
