"""KeywordDetector end to end over event batches: categories x languages, evasions, look-alikes,
allow-lists, help-seeking, autocomplete, episodes, cohort, staff subjects, idempotent re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa
import pytest

from detectors.base import Alert, DetectContext
from detectors.keywords import KeywordDetector
from detectors.registry import run_detectors
from detectors.unwrap import uv_encode
from parsers.enrich import enrich
from parsers.schema import EVENT_SCHEMA

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CTX = DetectContext(options={"detection": {}})


def events(rows: list[dict[str, Any]]) -> pa.Table:
    """Synthetic events through the real enrichment (search terms extracted at ingest)."""
    base = dict.fromkeys(EVENT_SCHEMA.names)
    recs = []
    for i, r in enumerate(rows):
        rec = {
            **base,
            "school": "s1",
            "source": "test",
            "action": "allowed",
            "client_ip": "10.0.0.5",
            "origin": f"file:test.log:{i + 1}",
            "ts": T0 + timedelta(seconds=i),
            "user": "pupil1",
        }
        rec.update(r)
        recs.append(rec)
    return enrich(pa.Table.from_pylist(recs, schema=EVENT_SCHEMA))


def google(q: str) -> str:
    return f"https://www.google.co.uk/search?q={quote_plus(q)}"


def detect(rows: list[dict[str, Any]], ctx: DetectContext = CTX) -> list[Alert]:
    return list(KeywordDetector().detect(events(rows), ctx))


CONCERNING = [
    ("suicide_self_harm", "en", "how to kill myself painlessly", 5),
    ("suicide_self_harm", "en", "self harm scars", 4),
    ("suicide_self_harm", "cy", "sut i ladd fy hun", 4),
    ("suicide_self_harm", "pl", "chcę umrzeć", 4),
    ("suicide_self_harm", "ur", "main marna chahta hoon", 4),
    ("suicide_self_harm", "pa", "main marna chahunda haan", 4),
    ("suicide_self_harm", "ar", "كيف انتحر", 4),
    ("suicide_self_harm", "es", "quiero morir", 4),
    ("suicide_self_harm", "fr", "je veux mourir", 4),
    ("suicide_self_harm", "pt", "quero morrer", 4),
    ("suicide_self_harm", "ro", "vreau să mor", 4),
    ("extremism", "en", "how to join isis", 4),
    ("extremism", "pl", "jak dołączyć do isis", 4),
    ("extremism", "ar", "كيف انضم الى داعش", 4),
    ("extremism", "fr", "comment rejoindre le djihad", 4),
    ("sexual_exploitation", "en", "he will share my nudes", 4),
    ("sexual_exploitation", "es", "me chantajean con fotos", 4),
    ("sexual_exploitation", "ur", "nangi tasveer bhejo", 4),
    ("abuse", "en", "my stepdad touches me", 4),
    ("abuse", "pt", "meu pai me bate", 4),
    ("abuse", "ro", "tatăl meu mă bate", 4),
    ("weapons_violence", "en", "how to make a pipe bomb", 4),
    ("weapons_violence", "pa", "bomb kiven banauna", 4),
    ("weapons_violence", "cy", "sut i wneud bom", 4),
    ("bullying", "en", "i am being bullied", 3),
    ("discrimination", "en", "muslims are terrorists", 3),
    ("drugs", "en", "where to buy weed", 3),
    ("eating_disorders", "en", "thinspo", 3),
    ("pornography", "en", "free porn", 2),
    ("gambling", "en", "online casino", 2),
    ("illegal_content", "en", "buy fake id", 2),
    ("circumvention", "en", "how to bypass school wifi", 2),
]


@pytest.mark.parametrize(
    ("category", "lang", "query", "min_sev"), CONCERNING, ids=[f"{c}-{g}" for c, g, *_ in CONCERNING]
)
def test_concerning_searches_alert(category: str, lang: str, query: str, min_sev: int) -> None:
    alerts = detect([{"url": google(query)}])
    assert [a.category for a in alerts] == [category], (lang, query)
    a = alerts[0]
    assert a.severity >= min_sev
    assert a.evidence["search_terms"] == query
    assert a.evidence["matched"] and a.evidence["why"] and a.evidence["url"].startswith("https://www.google.co.uk/")
    assert a.evidence["host"] == "www.google.co.uk" and a.detector == "keywords"


EVASIONS = [
    "su1c1de methods",
    "s u i c i d e methods",
    "k.i.l.l myself",
    "#KillMyself",
    "kiiiill myself",
    "ѕuісіdе methods",
    "sui\u200bcide methods",
    "ｋｉｌｌ ｍｙｓｅｌｆ",
    "se1f harm",
    "selfharmmm",
    "howtokillmyself",
    "kill%20myself",
    "$uicide methods",
    "unalive myself",
]


@pytest.mark.parametrize("query", EVASIONS)
def test_evasive_spellings_are_caught(query: str) -> None:
    alerts = detect([{"url": f"https://www.bing.com/search?q={quote_plus(query)}"}])
    assert [a.category for a in alerts] == ["suicide_self_harm"], query
    assert alerts[0].severity >= 3


LOOKALIKES = [
    "kill a process in linux",
    "how to kill a process in windows task manager",
    "romeo and juliet suicide scene",
    "shoot a basketball",
    "history of extremism lesson",
    "isis egyptian goddess",
    "scunthorpe united",
    "rapeseed oil",
    "i want to cut my hair",
    "suicide squad cast",
    "to kill a mockingbird summary",
    "cocktail sausages",
    "essex police",
    "of mice and men george kills lennie",
    "bomb calorimeter",
    "dying my hair",
    "grooming a dog",
    "i could kill myself laughing",
    "kms to miles",
    "weed whacker",
    "porn star martini recipe",
    "buy a gun in gta",
    "jump off a cliff into water",
    "white power ranger",
    "i hate my life haha",
    "county lines awareness pshe",
    "holocaust history ks3",
    "knife crime statistics london",
]


@pytest.mark.parametrize("query", LOOKALIKES)
def test_benign_lookalikes_do_not_reach_the_dsl_queue(query: str) -> None:
    alerts = detect([{"url": google(query)}])
    assert all(a.severity < 3 for a in alerts), [(a.severity, a.evidence["why"]) for a in alerts]


def test_help_seeking_is_graded_not_suppressed() -> None:
    (crisis,) = detect([{"url": google("childline i want to kill myself")}])
    assert crisis.severity == 3 and crisis.evidence["help_seeking"]
    assert "reaching out" in crisis.evidence["why"]
    general = detect([{"url": google("suicide helpline uk")}])
    assert all(a.severity == 1 for a in general)


def test_help_sites_are_not_analysed_as_page_text() -> None:
    assert detect([{"url": "https://www.childline.org.uk/info-advice/your-feelings/i-want-to-kill-myself/"}]) == []
    (page,) = detect([{"url": "https://bad.example/blog/how-to-kill-myself-quickly"}])
    assert page.category == "suicide_self_harm" and "page address" in page.evidence["why"]


def test_school_exclusions_from_config() -> None:
    ctx = DetectContext(options={"detection": {"exclude_terms": ["isis project"], "allow_hosts": ["bad.example"]}})
    assert detect([{"url": google("isis project join isis")}], ctx) == []
    assert detect([{"url": "https://bad.example/how-to-kill-myself"}], ctx) == []


def test_proxied_searches_are_unwrapped() -> None:
    rows = [
        {
            "url": "https://proxy.vercel.app/service/"
            + uv_encode("https://www.google.com/search?q=how to make a pipe bomb"),
            "user": "a",
        },
        {"url": "https://www-google-com.translate.goog/search?q=join+isis&_x_tr_sl=auto", "user": "b"},
    ]
    alerts = {a.user: a for a in detect(rows)}
    assert alerts["a"].category == "weapons_violence" and "web proxy" in alerts["a"].evidence["why"]
    assert alerts["a"].evidence["unwrapped_url"].startswith("https://www.google.com/search")
    assert alerts["b"].category == "extremism" and alerts["b"].evidence["search_terms"] == "join isis"


def test_autocomplete_prefixes_collapse_into_the_final_query() -> None:
    suggest = "https://www.google.com/complete/search?client=chrome&q="
    rows = [
        {"url": suggest + quote_plus(p), "ts": T0 + timedelta(seconds=i)}
        for i, p in enumerate(["how to k", "how to kill", "how to kill mys"])
    ]
    rows.append({"url": google("how to kill myself"), "ts": T0 + timedelta(seconds=5)})
    (alert,) = detect(rows)
    assert alert.count == 1 and alert.evidence["search_terms"] == "how to kill myself"


def test_episode_folding_repetition_and_context() -> None:
    rows = [
        {"url": "https://www.bbc.co.uk/news", "ts": T0 - timedelta(minutes=30)},
        {"url": google("i hate my life"), "ts": T0},
        {"url": google("nobody would miss me"), "ts": T0 + timedelta(minutes=5)},
        {"url": google("how to kill myself"), "ts": T0 + timedelta(minutes=10)},
        {"url": "https://far.example/", "ts": T0 + timedelta(hours=3)},
        {"url": google("i hate my life"), "ts": T0, "user": "other"},
    ]
    alerts = {a.user: a for a in detect(rows)}
    mine = alerts["pupil1"]
    assert mine.count == 3 and mine.ts == T0 and mine.last_ts == T0 + timedelta(minutes=10)
    assert mine.severity == 5 and "Graded up one" in mine.evidence["why"]
    assert len(mine.event_keys) == 3 and all(k.startswith("file:test.log:") for k in mine.event_keys)
    urls = [c["url"] for c in mine.evidence["context"]]
    assert "https://www.bbc.co.uk/news" in urls and "https://far.example/" not in urls
    assert alerts["other"].count == 1 and alerts["other"].id != mine.id


def test_cohort_of_pupils_in_one_room_lowers_severity() -> None:
    rows = [
        {"url": google("self harm"), "user": f"p{i}", "client_ip": f"10.9.8.{i + 10}", "ts": T0 + timedelta(minutes=i)}
        for i in range(6)
    ]
    rows.append({"url": google("self harm"), "user": "alone", "client_ip": "10.7.7.7"})
    alerts = {a.user: a for a in detect(rows)}
    assert alerts["alone"].severity >= 3 and alerts["alone"].evidence["cohort"] is None
    lesson = alerts["p0"]
    assert lesson.severity <= alerts["alone"].severity - 2 and lesson.evidence["cohort"]["size"] == 6
    assert "probably a lesson" in lesson.evidence["why"]


def test_staff_and_unknown_subjects() -> None:
    ctx = DetectContext(options={"detection": {}}, staff_users=frozenset({"mr.smith"}))
    rows = [
        {"url": google("how to kill myself"), "user": "mr.smith"},
        {"url": google("how to kill myself"), "user": None, "client_ip": "10.1.1.1"},
    ]
    kinds = {a.user: a.subject_kind for a in detect(rows, ctx)}
    assert kinds == {"mr.smith": "staff", None: "unknown"}


def test_same_batch_twice_gives_identical_alerts() -> None:
    rows = [{"url": google("how to kill myself")}, {"url": google("where to buy weed")}, {"url": google("join isis")}]
    first = run_detectors(events(rows), CTX, [KeywordDetector()])
    second = run_detectors(events(rows), CTX, [KeywordDetector()])
    assert [(a.id, a.severity, a.event_keys, a.evidence["why"]) for a in first] == [
        (a.id, a.severity, a.event_keys, a.evidence["why"]) for a in second
    ]
    assert len({a.id for a in first}) == 3


def test_ordinary_traffic_raises_nothing() -> None:
    rows = [
        {"url": u}
        for u in (
            "https://www.bbc.co.uk/bitesize",
            google("photosynthesis equation"),
            "https://cdn.example/app.js?v=1488",
            "https://www.youtube.com/watch?v=x",
        )
    ]
    rows.append({"url": None, "host": "example.org", "method": "CONNECT"})
    assert detect(rows) == []


def test_jokes_do_not_soften_bullying_or_extremism() -> None:
    (bully,) = detect([{"url": google("go kill yourself meme")}])
    assert bully.category == "bullying" and bully.severity >= 3
    (masked,) = detect([{"url": google("i want to die lol")}])
    assert masked.category == "suicide_self_harm" and masked.severity == 3 and "jest" in masked.evidence["why"]
