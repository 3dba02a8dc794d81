"""Search-term extraction: the engine table, path-carried terms, autocomplete, and coverage against the
public Matomo (CC0) and Kagi bangs (MIT) lists in ../shared/samples/search-engines."""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import quote, quote_plus

import polars as pl
import pytest
import yaml

from detectors.searchterms import engine_rules, extract_frame, extract_url, rules_for_host, search_terms_expr

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "search-engines"


@pytest.mark.parametrize(
    ("url", "terms"),
    [
        ("https://www.google.co.uk/search?q=how+to+revise&oq=how", "how to revise"),
        ("https://www.google.com.br/search?hl=pt&q=quero+morrer", "quero morrer"),
        ("https://www.google.com/complete/search?client=chrome&q=how+to+k", "how to k"),
        ("https://suggestqueries.google.com/complete/search?client=firefox&q=sel", "sel"),
        ("https://www.bing.com/search?q=ks3+maths&form=QBLH", "ks3 maths"),
        ("https://api.bing.com/osjson.aspx?query=minec", "minec"),
        ("https://duckduckgo.com/?q=volcano+facts&ia=web", "volcano facts"),
        ("https://uk.search.yahoo.com/search?p=weather+leeds", "weather leeds"),
        ("https://www.ecosia.org/search?method=index&q=tree+facts", "tree facts"),
        ("https://search.brave.com/search?q=python+lists", "python lists"),
        ("https://www.startpage.com/do/dsearch?query=rivers", "rivers"),
        ("https://yandex.ru/search/?text=test", "test"),
        ("https://www.baidu.com/s?wd=panda", "panda"),
        ("https://www.youtube.com/results?search_query=minecraft+build", "minecraft build"),
        ("https://www.youtube.com/hashtag/shorts", "shorts"),
        ("https://www.tiktok.com/search?q=dance%20trend", "dance trend"),
        ("https://www.tiktok.com/tag/fyp", "fyp"),
        ("https://www.instagram.com/explore/tags/thinspo/", "thinspo"),
        ("https://www.reddit.com/r/teenagers/search/?q=exam+stress", "exam stress"),
        ("https://x.com/search?q=%23worldcup&src=typed_query", "#worldcup"),
        ("https://twitter.com/hashtag/maths", "maths"),
        ("https://www.pinterest.co.uk/search/pins/?q=cake%20ideas", "cake ideas"),
        ("https://cy.wikipedia.org/w/index.php?search=Owain+Glynd%C5%B5r", "Owain Glyndŵr"),
        ("https://en.wikipedia.org/wiki/Special:Search/photosynthesis", "photosynthesis"),
        ("https://www.amazon.co.uk/s?k=rope&ref=nb", "rope"),
        ("https://www.ebay.co.uk/sch/i.html?_nkw=knife", "knife"),
        ("https://open.spotify.com/search/sad%20songs", "sad songs"),
        ("https://www.twitch.tv/search?term=speedrun", "speedrun"),
        ("https://www.roblox.com/discover/?Keyword=obby", "obby"),
        ("https://www.qwant.com/?q=bees", "bees"),
        ("https://www.bbc.co.uk/search?q=bitesize+fractions", "bitesize fractions"),
        ("https://webcache.googleusercontent.com/search?q=cache:abc123:example.com/+hello+there", "hello there"),
        ("https://kiddle.co/s.php?q=dinosaurs", "dinosaurs"),
    ],
)
def test_engine_table(url: str, terms: str) -> None:
    assert extract_url(url) == terms


@pytest.mark.parametrize(
    "url",
    [
        "https://www.bbc.co.uk/news/uk-123?q=ignored",  # BBC only searches under /search
        "https://example.com/?q=not+an+engine",
        "https://www.google.com/maps/place/Leeds",
        "https://www.youtube.com/watch?v=abc",
        "https://www.google.com/search?q=",
    ],
)
def test_non_searches_give_nothing(url: str) -> None:
    assert extract_url(url) is None


def test_expression_is_row_aligned_and_vectorised() -> None:
    df = pl.DataFrame(
        {
            "host": ["www.google.com", "example.com", None, "www.bing.com", "www.google.com"],
            "path": ["/search", "/", None, "/search", "/complete/search"],
            "query": ["q=a+b", "q=x", None, "q=c%20d", "client=x&q=e"],
        }
    )
    out = df.select(search_terms_expr(pl.col("host"), pl.col("path"), pl.col("query")).alias("t"))["t"]
    assert out.to_list() == ["a b", None, None, "c d", "e"]
    kinds = extract_frame(df)["search_kind"].to_list()
    assert kinds == ["search", None, None, "search", "suggest"]


def test_country_domains_and_subdomains() -> None:
    assert rules_for_host("www.google.de")
    assert rules_for_host("news.google.co.uk")
    assert not rules_for_host("google.example.org")
    assert not rules_for_host("notgoogle.com")


def test_at_least_forty_engines_and_sites() -> None:
    names = {r.name.replace(" autocomplete", "") for r in engine_rules()}
    assert len(names) >= 40, sorted(names)


def _fill(template: str, query: str, rng: random.Random) -> str:
    encoded = quote_plus(query) if rng.random() < 0.5 else quote(query)
    return template.replace("{{{s}}}", encoded)


def test_kagi_bang_templates_for_claimed_engines() -> None:
    path = SAMPLES / "bangs.json"
    if not path.is_file():
        pytest.skip(f"Kagi bangs sample not found at {path} (../shared/samples/search-engines)")
    bangs = {b["t"]: b for b in json.loads(path.read_text())}
    rng = random.Random(7)
    claimed = [(rule.name, tag) for rule in engine_rules() for tag in rule.kagi]
    assert len({name for name, _ in claimed}) >= 40
    failures = []
    for name, tag in claimed:
        assert tag in bangs, f"{name}: bang {tag!r} not in bangs.json"
        for query in ("how to revise maths", "café au lait", "year 7 homework"):
            url = _fill(bangs[tag]["u"], query, rng)
            got = extract_url(url)
            if got != query:
                failures.append((name, tag, url, got))
    assert not failures, failures[:10]


def test_matomo_engines_for_claimed_engines() -> None:
    path = SAMPLES / "SearchEngines.yml"
    if not path.is_file():
        pytest.skip(f"Matomo sample not found at {path} (../shared/samples/search-engines)")
    engines = yaml.safe_load(path.read_text())
    failures = []
    checked = 0
    for rule in engine_rules():
        for name in rule.matomo:
            for config in engines[name]:
                params = [p for p in config.get("params", []) if not p.startswith("/")]
                if not params:
                    continue
                for host in config["urls"]:
                    if "/" in host or host.startswith("com.") or "{}" in host.split(".")[0]:
                        continue
                    if not rules_for_host(host.replace("{}", "co.uk")):
                        continue  # Matomo folds partner portals under a brand; we claim the brand's own hosts
                    url = f"https://{host.replace('{}', 'co.uk')}/search?{params[0]}=safe+search+test"
                    checked += 1
                    if extract_url(url) != "safe search test":
                        failures.append((name, url, extract_url(url)))
    assert checked >= 40
    assert not failures, failures[:10]
