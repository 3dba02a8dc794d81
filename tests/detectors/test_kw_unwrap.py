"""Unwrapping proxied URLs so the real target is analysed."""

from __future__ import annotations

import polars as pl
import pytest

from detectors.unwrap import translate_goog_host, unwrap_expr, unwrap_url, uv_decode, uv_encode, wrapper_kind


def test_uv_codec_matches_the_published_signature() -> None:
    encoded = uv_encode("https://www.youtube.com/results?search_query=how to")
    assert encoded == "hvtrs8%2F-wuw%2Cymuvu%60e%2Ccmm-rgswlvs%3Dsgapcj_sugr%7B%3Djou%20vo"
    assert uv_decode(encoded) == "https://www.youtube.com/results?search_query=how to"


@pytest.mark.parametrize(
    ("label", "host"),
    [
        ("www-example-com", "www.example.com"),
        ("my--site-co-uk", "my-site.co.uk"),
        ("en-m-wikipedia-org", "en.m.wikipedia.org"),
    ],
)
def test_translate_goog_hostnames(label: str, host: str) -> None:
    assert translate_goog_host(label) == host


@pytest.mark.parametrize(
    ("url", "inner", "kind"),
    [
        (
            "https://www-reddit-com.translate.goog/r/x/?_x_tr_sl=auto&_x_tr_tl=en&a=1",
            "https://www.reddit.com/r/x/?a=1",
            "translate_goog",
        ),
        (
            "https://translate.google.com/translate?sl=auto&tl=en&u=https://www.google.com/search%3Fq%3Dkill%2Bmyself",
            "https://www.google.com/search?q=kill+myself",
            "google_translate",
        ),
        (
            "https://glype.example/browse.php?u=https%3A%2F%2Fwww.bing.com%2Fsearch%3Fq%3Dx&b=4",
            "https://www.bing.com/search?q=x",
            "webproxy_param",
        ),
        (
            "https://unblock.example/go?url=www.tiktok.com/search?q=y",
            "https://www.tiktok.com/search?q=y",
            "webproxy_param",
        ),
        (
            "https://sub.vercel.app/service/" + uv_encode("https://duckduckgo.com/?q=z"),
            "https://duckduckgo.com/?q=z",
            "webproxy_uv",
        ),
        (
            "https://webcache.googleusercontent.com/search?q=cache:AbC1:example.com/page+words",
            "https://example.com/page",
            "google_cache",
        ),
    ],
)
def test_wrappers(url: str, inner: str, kind: str) -> None:
    assert unwrap_url(url) == inner
    assert wrapper_kind(url) == kind


def test_nested_wrappers_unwrap_to_the_innermost() -> None:
    inner = "https://www.google.com/search?q=deep"
    uv = "https://p.example/service/" + uv_encode(inner)
    assert unwrap_url("https://t.example/browse.php?u=" + uv.replace(":", "%3A").replace("/", "%2F")) == inner


@pytest.mark.parametrize(
    "url",
    [
        "https://www.google.com/search?q=https://example.com",  # a search for a URL is still a search
        "https://www.bbc.co.uk/news",
        "https://example.com/?u=alice",
    ],
)
def test_ordinary_urls_are_not_wrapped(url: str) -> None:
    assert unwrap_url(url) is None


def test_vectorised_expr_only_touches_hinted_rows() -> None:
    urls = ["https://www.bbc.co.uk/", None, "https://www-bbc-co-uk.translate.goog/news?_x_tr_sl=en"]
    out = pl.DataFrame({"u": urls}).select(unwrap_expr(pl.col("u")))["u"].to_list()
    assert out == [None, None, "https://www.bbc.co.uk/news"]
