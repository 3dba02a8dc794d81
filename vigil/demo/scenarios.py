"""The few concerning episodes (and the benign look-alikes) planted in the simulated week, with their ledger.

Every episode is fiction written for the demo. Harmful sites are invented hosts under example.com/.net/.org;
real hosts appear only where they are ordinary services (search engines, VPN vendors, help lines).
The ledger records what was planted so tests (and a curious DSL) can check what Vigil should find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from vigil.demo.planting import Planter, doh_query, uv_encode
from vigil.demo.timetable import SLOT_BY_NAME
from vigil.demo.traffic import Timetable

MON, TUE, WED, THU, FRI = range(5)


@dataclass(frozen=True)
class Episode:
    """One planted episode: who, which category it should raise (or `benign`), where and what was planted."""

    name: str
    category: str  # a detectors.base.CATEGORIES value, or "benign" for look-alikes that must not alert high
    benign: bool
    users: tuple[str, ...]
    subject_kind: str  # pupil | staff
    device: str  # the log the episode mostly appears in: netsweeper | e2guardian | fortigate
    days: tuple[int, ...]  # school-day indexes, 0 = Monday
    terms: tuple[str, ...]  # search terms planted, in order
    urls: tuple[str, ...] = ()
    note: str = ""
    rows: int = 0


@dataclass
class _Script:
    """Collects one episode's plants while it is written."""

    p: Planter
    person: int
    terms: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    days: set[int] = field(default_factory=set)
    start: int = 0

    def __post_init__(self) -> None:
        self.start = len(self.p.rows) + len(self.p.firewall_rows) + len(self.p.dns_rows)

    def s(self, day: int, at: str, query: str, **kw: Any) -> None:
        self.terms.append(query)
        self.days.add(day)
        self.urls.append(self.p.search(self.person, day, at, query, **kw))

    def v(self, day: int, at: str, url: str, **kw: Any) -> None:
        self.days.add(day)
        self.urls.append(self.p.visit(self.person, day, at, url, **kw))

    def planted(self) -> int:
        return len(self.p.rows) + len(self.p.firewall_rows) + len(self.p.dns_rows) - self.start


def claim_lesson(tt: Timetable, p: Planter, year: int, subject: str, day: int) -> tuple[Timetable, dict[str, object]]:
    """Turn one of `year`'s lessons on `day` into a computer-room `subject` lesson; return it."""
    rows = tt.lessons.with_row_index("row").filter((pl.col("year") == year) & (pl.col("day") == day))
    pick = rows.row(int(p.rng.integers(0, rows.height)), named=True)
    lessons = (
        tt.lessons.with_row_index("row")
        .with_columns(
            subject=pl.when(pl.col("row") == pick["row"]).then(pl.lit(subject)).otherwise(pl.col("subject")),
            computers=pl.when(pl.col("row") == pick["row"]).then(True).otherwise(pl.col("computers")),
        )
        .drop("row")
    )
    pick["subject"] = subject
    return Timetable(lessons), pick


def _cohort(p: Planter, lesson: dict[str, object], name: str, queries: tuple[str, ...], device: str) -> Episode:
    """A whole class searching the same lesson terms in the first quarter hour: the look-alike pattern."""
    slot = SLOT_BY_NAME[str(lesson["slot"])]
    members = list(lesson["members"])  # type: ignore[call-overload]
    day = int(lesson["day"])  # type: ignore[call-overload]
    before = len(p.rows)
    users = []
    for i, person in enumerate(members):
        minute = slot.start // 60 + 4 + int(p.rng.integers(0, 12))
        at = f"{minute // 60:02d}:{minute % 60:02d}"
        p.search(person, day, at, queries[i % len(queries)], where="lesson")
        users.append(str(p.pop.pupils["user"][person]))
    return Episode(
        name,
        "benign",
        True,
        tuple(users),
        "pupil",
        device,
        (day,),
        queries,
        note=f"{lesson['subject']} lesson, room {lesson['block']} {lesson['room']}, {slot.name}",
        rows=len(p.rows) - before,
    )


def plant_all(p: Planter, tt: Timetable) -> tuple[Timetable, list[Episode]]:
    """Plant every episode and look-alike; return the (possibly re-subjected) timetable and the ledger."""
    taken: set[str] = set()
    ledger = [
        _self_harm(p, taken),
        _self_harm_sixth(p, taken),
        _extremism(p, taken),
        _grooming(p, taken),
        *_bullying(p, taken),
        _eating_disorder(p, taken),
        _circumvention(p, taken),
        _staff(p),
    ]
    for year, subject, day, name, queries, device in (
        (
            10,
            "history",
            TUE,
            "history_extremism_lesson",
            (
                "what is extremism",
                "far right extremism in the uk",
                "how did the nazis use propaganda",
                "radicalisation definition",
            ),
            "netsweeper",
        ),
        (
            12,
            "computing",
            WED,
            "computing_kill_process",
            ("kill a process linux", "kill -9 command", "how to kill a python process"),
            "e2guardian",
        ),
        (
            11,
            "english",
            THU,
            "english_romeo_juliet",
            (
                "romeo and juliet suicide scene",
                "why does juliet kill herself",
                "romeo and juliet act 5 scene 3 analysis",
            ),
            "netsweeper",
        ),
        (
            9,
            "pshe",
            FRI,
            "pshe_help_seeking",
            ("self harm support for young people", "childline", "how to help a friend who is self harming"),
            "netsweeper",
        ),
    ):
        tt, lesson = claim_lesson(tt, p, year, subject, day)
        p.tt = tt
        ledger.append(_cohort(p, lesson, name, queries, device))
    return tt, ledger


def _episode(
    sc: _Script, name: str, category: str, user: str, device: str, note: str, subject_kind: str = "pupil"
) -> Episode:
    return Episode(
        name,
        category,
        False,
        (user,),
        subject_kind,
        device,
        tuple(sorted(sc.days)),
        tuple(sc.terms),
        tuple(sc.urls),
        note,
        sc.planted(),
    )


def _self_harm(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(9, taken)
    sc = _Script(p, person)
    sc.s(MON, "12:25", "why do i feel so sad all the time", where="library")
    sc.s(MON, "12:27", "how to stop feeling empty", where="library")
    sc.s(TUE, "12:40", "self harm")
    sc.s(TUE, "12:41", "self harm scars", engine="www.youtube.com")
    sc.v(TUE, "12:43", "https://scars-and-stories.example.net/forum/new-members", cat="selfharm")
    sc.s(WED, "15:20", "how to hide cuts from parents", where="library")
    sc.s(WED, "15:22", "does cutting help with the pain", where="library")
    sc.s(THU, "12:30", "how many paracetamol to overdose")
    sc.s(THU, "12:32", "painless ways to die")
    sc.s(THU, "12:35", "i want to die")
    sc.s(FRI, "08:15", "suicide methods")
    sc.s(FRI, "08:17", "how to kill myself without pain")
    sc.v(FRI, "08:25", "https://www.childline.org.uk/get-support/contacting-childline/")
    return _episode(
        sc,
        "self_harm_escalation",
        "suicide_self_harm",
        user,
        "netsweeper",
        "Year 9: low mood on Monday, self-harm by Tuesday, overdose and suicide searches by Thu-Fri",
    )


def _self_harm_sixth(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(12, taken)
    sc = _Script(p, person)
    sc.s(WED, "16:10", "nobody would miss me if i was gone", where="library")
    for at, q in (("16:12", "how to tie a noose"), ("16:13", "how to tie a noose knot")):
        reason = f"*DENIED* Banned Search Words: {q.replace(' ', '+')}"
        sc.s(THU, at, q, where="library", action="blocked", reason=reason)
    sc.s(THU, "16:15", "i want to kill myself", where="library")
    sc.s(FRI, "12:20", "samaritans phone number")
    return _episode(
        sc,
        "sixth_form_suicidal_ideation",
        "suicide_self_harm",
        user,
        "e2guardian",
        "Year 12 after school in the library; e2guardian denied two searches as banned search words",
    )


def _extremism(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(10, taken)
    sc = _Script(p, person)
    sc.s(MON, "12:30", "great replacement explained", engine="www.youtube.com")
    sc.s(TUE, "12:35", "is the great replacement true")
    sc.s(WED, "15:30", "how to join patriotic alternative", where="library")
    sc.v(WED, "15:32", "https://patriot-awakening.example.org/join", cat="extremist", where="library")
    sc.s(THU, "12:40", "christchurch shooter manifesto pdf")
    sc.s(THU, "12:42", "tarrant livestream video")
    sc.s(FRI, "12:15", "remigration now")
    return _episode(
        sc,
        "extremism_curious",
        "extremism",
        user,
        "netsweeper",
        "Year 10 moving from 'great replacement' videos to a manifesto and attack footage",
    )


def _grooming(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(8, taken)
    sc = _Script(p, person)
    sc.s(MON, "08:20", "how to delete snapchat messages so parents cant see")
    sc.v(MON, "08:21", "https://www.snapchat.com/web")
    sc.s(TUE, "12:20", "older boyfriend keeps asking for pics")
    sc.v(TUE, "12:22", "https://chat-with-strangers.example.com/start", cat="chat")
    sc.s(WED, "12:30", "is it illegal to send nudes at 13")
    sc.s(THU, "15:10", "how to meet someone from online without parents knowing", where="library")
    sc.s(THU, "15:12", "he said he will send me money if i send photos", where="library")
    return _episode(
        sc,
        "grooming_exploitation",
        "sexual_exploitation",
        user,
        "netsweeper",
        "Year 8: secrecy from parents, requests for images, money offered, a meeting planned",
    )


def _bullying(p: Planter, taken: set[str]) -> list[Episode]:
    victim, vuser = p.pupil(7, taken)
    sc = _Script(p, victim)
    sc.s(MON, "12:40", "everyone at school hates me")
    sc.s(WED, "12:45", "how to stop being bullied at school")
    sc.s(THU, "08:20", "how to make people stop calling me names")
    victim_ep = _episode(sc, "bullying_target", "bullying", vuser, "netsweeper", "Year 7 pupil being bullied")
    bully, buser = p.pupil(7, taken)
    sb = _Script(p, bully)
    sb.s(TUE, "12:35", "funny insults for ugly people")
    sb.s(TUE, "12:36", "how to make a hate page about someone on instagram")
    sb.v(TUE, "12:37", "https://www.instagram.com/accounts/emailsignup/")
    sb.s(WED, "12:50", "go kill yourself meme")
    bully_ep = _episode(
        sb,
        "bullying_aggressor",
        "bullying",
        buser,
        "netsweeper",
        "Year 7 pupil planning a hate page and sending 'kys' memes",
    )
    return [victim_ep, bully_ep]


def _eating_disorder(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(13, taken)
    sc = _Script(p, person)
    sc.s(MON, "12:30", "how to lose 10kg in a week")
    sc.s(TUE, "12:20", "pro ana tips")
    sc.v(TUE, "12:22", "https://thinspo-diary.example.net/tips", cat="selfharm")
    sc.s(WED, "12:35", "how to eat 500 calories a day without being hungry")
    sc.s(THU, "12:40", "how to hide not eating from parents")
    sc.s(FRI, "12:30", "thinspo", engine="www.bing.com")
    return _episode(
        sc,
        "eating_disorder",
        "eating_disorders",
        user,
        "e2guardian",
        "Year 13: crash dieting to pro-ana content and hiding not eating",
    )


def _circumvention(p: Planter, taken: set[str]) -> Episode:
    person, user = p.pupil(9, taken)
    sc = _Script(p, person)
    for at in ("12:20:05", "12:20:40", "12:21:10"):
        sc.v(MON, at, "https://www.tiktok.com/foryou")
    sc.s(MON, "12:22", "how to get on tiktok at school")
    sc.s(MON, "12:24", "unblocked games 66")
    sc.v(MON, "12:25", "https://unblocked-games-66.example.com/", cat="games")
    sc.v(
        TUE,
        "12:30",
        "https://www-tiktok-com.translate.goog/foryou?_x_tr_sl=auto&_x_tr_tl=en&_x_tr_hl=en-GB",
        cat="reference",
    )
    proxy = "https://study-notes-4821.vercel.app"
    sc.v(TUE, "12:32:10", f"{proxy}/")
    sc.v(TUE, "12:32:12", f"{proxy}/uv/uv.sw.js")
    sc.v(TUE, "12:32:40", f"{proxy}/service/{uv_encode('https://www.tiktok.com/foryou')}")
    sc.s(WED, "15:20", "free vpn for school chromebook", where="library")
    for at, url in (
        ("15:22", "https://protonvpn.com/download"),
        ("15:24", "https://windscribe.com/download"),
        ("15:25", "https://hide.me/en/free-vpn"),
    ):
        sc.v(WED, at, url, cat="vpn", where="library")
    for at, port, proto, service in (
        ("15:40", 1194, 17, "OpenVPN"),
        ("15:41", 51820, 17, "WireGuard"),
        ("15:43", 443, 17, "QUIC"),
    ):
        p.connection(person, WED, at, "185.159.157.13", port, proto, service)
    p.connection(person, THU, "12:24", "1.1.1.1", 853, 6, "DNS-over-TLS")
    p.lookup(person, THU, "12:25", "use-application-dns.net", action="block")
    p.lookup(person, THU, "12:26", "mask.icloud.com", action="block")
    sc.v(THU, "12:27", f"https://cloudflare-dns.com/dns-query?dns={doh_query('www.tiktok.com')}", cat="proxy")
    sc.v(THU, "12:28", f"https://dns.google/dns-query?dns={doh_query('discord.com', 7)}", cat="proxy")
    inner = "https://www.youtube.com/results?search_query=how to bypass school wifi"
    sc.v(FRI, "12:30", f"{proxy}/service/{uv_encode(inner)}")
    return _episode(
        sc,
        "circumvention_after_blocks",
        "circumvention",
        user,
        "netsweeper",
        "Year 9: blocked on TikTok, then translate.goog, an Ultraviolet proxy on vercel.app, VPN sites, "
        "VPN ports and DNS-over-HTTPS/TLS on the FortiGate",
    )


def _staff(p: Planter) -> Episode:
    person, user = p.staff_member("teacher")
    sc = _Script(p, person)
    sc.s(WED, "17:05", "painless way to kill myself")
    return _episode(
        sc,
        "staff_concern",
        "suicide_self_harm",
        user,
        "fortigate",
        "A teacher, one search after school: routes to the head teacher, not the DSL queue",
        subject_kind="staff",
    )
