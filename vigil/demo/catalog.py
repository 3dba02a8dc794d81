"""What the simulated school browses: categories (as each device names them), sites, pages and user agents.

All synthetic. Netsweeper category numbers are invented (Netsweeper's table is not public); FortiGuard ids
and e2guardian list names follow the vendors' public wording but are used here only as plausible labels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One content category and how each device in the demo labels it."""

    key: str
    ns_number: int
    ns_name: str
    fg_id: int
    fg_desc: str
    e2_name: str


CATEGORIES: tuple[Category, ...] = (
    Category("search", 23, "Search Engines", 41, "Search Engines and Portals", ""),
    Category("education", 17, "Education", 30, "Education", ""),
    Category("reference", 44, "Reference", 39, "Reference", ""),
    Category("news", 33, "News", 36, "News and Media", ""),
    Category("video", 54, "Video Sharing", 25, "Streaming Media and Download", ""),
    Category("streaming", 29, "Entertainment", 28, "Entertainment", ""),
    Category("social", 47, "Social Networking", 37, "Social Networking", "Social Networking"),
    Category("games", 25, "Games", 20, "Games", "Games"),
    Category("adult", 1, "Pornography", 14, "Pornography", "Adult"),
    Category("gambling", 24, "Gambling", 11, "Gambling", "Gambling"),
    Category("productivity", 57, "Web Applications", 84, "Web-based Applications", ""),
    Category("technology", 52, "Technology", 52, "Information Technology", ""),
    Category("shopping", 48, "Shopping", 42, "Shopping", ""),
    Category("sport", 50, "Sports", 46, "Sports", ""),
    Category("music", 37, "Music", 75, "Internet Radio and TV", ""),
    Category("health", 28, "Health", 33, "Health and Wellness", ""),
    Category("charity", 11, "Charity and Non-Profit", 92, "Charitable Organizations", ""),
    Category("government", 27, "Government", 51, "Government and Legal Organizations", ""),
    Category("proxy", 40, "Proxy Anonymizer", 59, "Proxy Avoidance", "Proxy/Anonymizer"),
    Category("vpn", 61, "VPN Services", 59, "Proxy Avoidance", "Proxy/Anonymizer"),
    Category("chat", 9, "Chat", 68, "Web Chat", "Chat"),
    Category("selfharm", 46, "Self Harm", 4, "Illegal or Unethical", "Self-Harm"),
    Category("extremist", 21, "Extreme", 12, "Extremist Groups", "Violence/Hate"),
    Category("drugs", 19, "Drugs", 1, "Drug Abuse", "Drugs"),
    Category("dating", 13, "Dating", 15, "Dating", "Dating"),
    Category("infrastructure", 31, "Infrastructure", 82, "Content Servers", ""),
    Category("advertising", 3, "Advertising", 17, "Advertising", ""),
    Category("uncategorised", 0, "Uncategorized", 90, "Newly Observed Domain", ""),
)
CATEGORY_BY_KEY = {c.key: c for c in CATEGORIES}

# Who is blocked from what. Pupils in years 7-11 sit behind Netsweeper; the sixth form behind e2guardian
# (social media allowed, as many sixth forms do); staff behind the FortiGate web filter.
BLOCKED: dict[str, frozenset[str]] = {
    "pupil": frozenset(
        {"social", "games", "adult", "gambling", "proxy", "vpn", "chat", "selfharm", "extremist", "drugs", "dating"}
    ),
    "sixth": frozenset({"games", "adult", "gambling", "proxy", "vpn", "chat", "selfharm", "extremist", "drugs"}),
    "staff": frozenset({"adult", "gambling", "proxy", "vpn", "selfharm", "extremist", "drugs"}),
}
# Netsweeper warns (and lets pupils proceed) rather than blocks on these.
WARNED: dict[str, frozenset[str]] = {"pupil": frozenset({"streaming"}), "sixth": frozenset(), "staff": frozenset()}


@dataclass(frozen=True)
class Site:
    """A host, its category, where it is visited (weights per context) and page templates (`{id}` varies)."""

    host: str
    category: str
    weights: dict[str, float]
    pages: tuple[str, ...]
    asset_host: str = ""
    dst_ip: str = ""


def _s(host: str, cat: str, pages: tuple[str, ...], asset: str = "", **weights: float) -> Site:
    return Site(host, cat, weights, pages, asset)


# Context keys: one per school subject (lessons), `free` (pupils at break, lunch, after school), `staff`,
# `night` (unattended machines). A subject lesson also draws from `lesson` (general learning sites).
SITES: tuple[Site, ...] = (
    _s(
        "www.bbc.co.uk",
        "education",
        ("/bitesize/guides/z{id}/revision/1", "/bitesize/topics/z{id}", "/bitesize/subjects/z{id}", "/news/uk-{id}"),
        "static.files.bbci.co.uk",
        lesson=9,
        science=6,
        history=5,
        geography=5,
        english=4,
        free=2,
        staff=3,
    ),
    _s(
        "classroom.google.com",
        "education",
        ("/u/0/c/{id}", "/u/0/c/{id}/a/{id}/details", "/u/0/h"),
        "ssl.gstatic.com",
        lesson=10,
        free=2,
        staff=6,
    ),
    _s(
        "login.microsoftonline.com",
        "productivity",
        ("/common/oauth2/v2.0/authorize", "/kmsi"),
        lesson=3,
        staff=6,
        free=0.5,
    ),
    _s(
        "www.office.com",
        "productivity",
        ("/", "/launch/word", "/launch/powerpoint"),
        "res.cdn.office.net",
        lesson=5,
        staff=8,
        english=2,
        computing=2,
    ),
    _s(
        "outlook.office.com",
        "productivity",
        ("/mail/", "/mail/inbox/id/{id}", "/calendar/view/week"),
        staff=14,
        lesson=1,
        free=1,
    ),
    _s("teams.microsoft.com", "productivity", ("/_#/school/conversations/{id}", "/v2/"), staff=6, lesson=2),
    _s(
        "docs.google.com",
        "productivity",
        ("/document/d/{id}/edit", "/presentation/d/{id}/edit", "/spreadsheets/d/{id}/edit"),
        lesson=5,
        staff=5,
        free=1,
    ),
    _s(
        "app.senecalearning.com",
        "education",
        ("/classroom/course/{id}/section/{id}/session", "/dashboard/courses"),
        lesson=5,
        science=4,
        history=2,
        geography=2,
        free=0.5,
    ),
    _s("www.kahoot.it", "education", ("/", "/challenge/{id}"), lesson=3, languages=2),
    _s("app.sparxmaths.uk", "education", ("/student/package/{id}", "/student/homework"), maths=12, free=0.8),
    _s("www.corbettmaths.com", "education", ("/contents/", "/{id}/", "/wp-content/uploads/{id}.pdf"), maths=5),
    _s("www.mathsgenie.co.uk", "education", ("/gcse.php", "/resources/{id}.pdf"), maths=3),
    _s(
        "www.thenational.academy",
        "education",
        ("/pupils/lessons/{id}/video", "/teachers/lessons/{id}"),
        lesson=4,
        staff=2,
    ),
    _s(
        "www.physicsandmathstutor.com",
        "education",
        ("/physics-revision/gcse-aqa/", "/pdf-pages/?pdf={id}"),
        science=3,
        maths=2,
    ),
    _s(
        "www.w3schools.com",
        "technology",
        ("/python/python_lists.asp", "/html/html_forms.asp", "/sql/sql_join.asp", "/js/js_loop_for.asp"),
        computing=8,
    ),
    _s("docs.python.org", "technology", ("/3/tutorial/index.html", "/3/library/functions.html"), computing=4),
    _s("stackoverflow.com", "technology", ("/questions/{id}", "/questions/tagged/python"), computing=3, staff=0.5),
    _s("replit.com", "technology", ("/@class/{id}", "/~"), computing=3),
    _s("www.wordreference.com", "reference", ("/fren/{id}", "/esen/{id}"), languages=6),
    _s("www.languagesonline.org.uk", "education", ("/Hotpotatoes/Index.html", "/French/{id}.htm"), languages=4),
    _s("www.duolingo.com", "education", ("/learn", "/lesson"), languages=3, free=0.5),
    _s(
        "en.wikipedia.org",
        "reference",
        ("/wiki/Special:Random", "/wiki/{id}"),
        "upload.wikimedia.org",
        lesson=5,
        history=4,
        science=2,
        free=1,
        staff=1,
    ),
    _s("www.britannica.com", "reference", ("/topic/{id}", "/event/{id}"), history=3, re=2),
    _s("www.tate.org.uk", "education", ("/art/artworks/{id}", "/art/art-terms"), art=6),
    _s("www.musictheory.net", "education", ("/lessons/{id}", "/exercises"), music=6),
    _s("digimap.edina.ac.uk", "education", ("/roam/map/os", "/api/{id}"), geography=4),
    _s("www.nhs.uk", "health", ("/conditions/{id}/", "/live-well/"), pshe=4, science=1, free=0.3),
    _s("www.childline.org.uk", "charity", ("/info-advice/", "/get-support/"), pshe=3),
    _s(
        "www.youtube.com",
        "video",
        ("/watch?v={id}", "/", "/shorts/{id}"),
        "i.ytimg.com",
        lesson=4,
        music=3,
        free=9,
        staff=1.5,
    ),
    _s("www.google.com", "search", ("/", "/maps/@51.5{id}"), lesson=1, free=1, staff=1),
    _s("www.gov.uk", "government", ("/guidance/{id}", "/government/publications/{id}"), staff=3, pshe=0.5),
    _s("www.arbor-education.com", "productivity", ("/school/student/{id}", "/school/registers"), staff=8),
    _s("www.cpoms.co.uk", "productivity", ("/incident/{id}", "/dashboard"), staff=2),
    _s("www.tes.com", "education", ("/teaching-resource/{id}", "/jobs/"), staff=3),
    _s("www.theguardian.com", "news", ("/uk-news/{id}", "/education/{id}"), staff=3, free=0.3),
    _s("www.bbc.com", "news", ("/sport/football/{id}", "/news/articles/c{id}"), free=2, staff=2),
    _s("www.skysports.com", "sport", ("/football/news/{id}", "/premier-league-table"), free=2.5, staff=0.5),
    _s("open.spotify.com", "music", ("/track/{id}", "/playlist/{id}"), free=2, staff=0.5),
    _s("www.twitch.tv", "streaming", ("/{id}", "/directory"), free=1.2),
    _s("www.netflix.com", "streaming", ("/browse", "/watch/{id}"), free=0.6),
    _s("www.tiktok.com", "social", ("/foryou", "/@{id}/video/{id}"), free=4),
    _s("www.instagram.com", "social", ("/", "/reels/{id}/", "/direct/inbox/"), free=3, staff=0.3),
    _s("www.snapchat.com", "social", ("/web", "/add/{id}"), free=2),
    _s("discord.com", "chat", ("/channels/@me", "/channels/{id}/{id}"), free=1),
    _s("poki.com", "games", ("/en/g/{id}", "/"), free=3),
    _s("www.crazygames.com", "games", ("/game/{id}", "/"), free=2),
    _s("www.roblox.com", "games", ("/games/{id}", "/home"), free=2),
    _s("www.coolmathgames.com", "games", ("/0-{id}", "/"), free=1.5),
    _s("www.amazon.co.uk", "shopping", ("/dp/B0{id}", "/gp/cart/view.html"), free=0.8, staff=1.5),
    _s("www.asos.com", "shopping", ("/women/{id}", "/men/{id}"), free=0.8),
    _s("www.pornhub.com", "adult", ("/", "/view_video.php?viewkey={id}"), free=0.015),
    _s("www.bet365.com", "gambling", ("/", "/#/AS/B{id}/"), free=0.012, staff=0.01),
    _s("www.paddypower.com", "gambling", ("/football", "/bet/{id}"), free=0.01),
    _s("www.msftconnecttest.com", "infrastructure", ("/connecttest.txt",), night=6, lesson=0.5, staff=0.3),
    _s("ctldl.windowsupdate.com", "infrastructure", ("/msdownload/update/v3/static/trustedr/en/{id}.cab",), night=5),
    _s("clients2.google.com", "infrastructure", ("/time/1/current", "/service/update2/json"), night=3, lesson=0.5),
    _s("ocsp.digicert.com", "infrastructure", ("/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ{id}",), night=2, staff=0.3),
    _s("securepubads.g.doubleclick.net", "advertising", ("/gampad/ads?iu={id}",), free=1, staff=0.3),
)

# Search engines: (host, path, query parameter, share of searches).
ENGINES: tuple[tuple[str, str, str, float], ...] = (
    ("www.google.co.uk", "/search", "q", 0.50),
    ("www.google.com", "/search", "q", 0.10),
    ("www.youtube.com", "/results", "search_query", 0.20),
    ("www.bing.com", "/search", "q", 0.10),
    ("duckduckgo.com", "/", "q", 0.05),
    ("www.ecosia.org", "/search", "q", 0.05),
)


# Destination address per registered site, stable and synthetic (documentation ranges are not routable, so
# 203.0.113.0/24, 198.51.100.0/24 and 192.0.2.0/24 stand in for the internet).
def dst_ip_for(index: int) -> str:
    """A stable documentation-range address for the site at `index`."""
    block = ("203.0.113", "198.51.100", "192.0.2")[index % 3]
    return f"{block}.{10 + index % 240}"


USER_AGENTS: dict[str, tuple[str, ...]] = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
    ),
    "chromebook": (
        "Mozilla/5.0 (X11; CrOS x86_64 16033.58.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36",
    ),
    "phone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Mobile Safari/537.36",
    ),
    "machine": ("Microsoft-CryptoAPI/10.0", "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.71"),
}
