"""Text normalisation against evasion: a display view (what the DSL reads) and a match view (what rules see).

The match view is a deliberately lossy skeleton, the same function is applied to the phrase library and
to the text, so `su1c1de`, `ѕuісіdе` (Cyrillic), `s u i c i d e`, `#KillMyself`, `diiiie` and `self%2Dharm`
meet their phrase. Steps, in order (each one comments why):
URL decoding to a fixpoint (`+`, `%XX`, double encoding), HTML entities, hashtag/camelCase splitting, NFKC,
casefold, diacritics and invisible characters dropped, homoglyph skeleton, conservative in-token leetspeak,
punctuation to spaces, repeated letters squeezed to one, spaced-out letters joined.
Both views are idempotent (property-tested). Evidence always shows the original text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote, unquote_plus

__all__ = ["alt_view", "display_view", "match_texts", "match_view", "url_decode"]

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")


def url_decode(text: str, *, plus: bool = True) -> str:
    """Percent-decode until nothing changes (double encoding); `+` is a space in query strings."""
    # Every real decode shortens the text, so the loop ends; the fixpoint makes the function idempotent.
    if plus and "+" in text:
        text = text.replace("+", " ")
    while _PCT.search(text):
        decoded = unquote(text, errors="replace") if not plus else unquote_plus(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


# Confusable letters from other scripts -> Latin (a hand table from UTS #39 confusables for the scripts
# pupils actually use to dodge filters), plus letters NFD does not decompose (ł, ø, đ, ı), plus Arabic
# letter variants folded the way Arabic search engines fold them (alef forms, alef maqsura, taa marbuta).
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ɡ": "g",
    "ү": "y",
    "ӏ": "l",
    "п": "n",
    "г": "r",
    "ь": "b",
    "з": "3",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "u",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "ω": "w",
    "σ": "o",
    "ς": "c",
    # Latin letters without a decomposition
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ı": "i",
    "ŀ": "l",
    "ħ": "h",
    "ƚ": "l",
    "ɑ": "a",
    "ɩ": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    # Arabic folding
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ـ": "",
}
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)

# Conservative leetspeak: only runs inside a word (a letter on both sides), or at the start of a
# word followed by two letters, or 0/1/3/4 ending a word of 3+ letters. So `su1c1de` -> suicide and
# `$uicide` -> suicide, but `7 days`, `2024`,
# `covid19` and `year 7` are left alone. `1` is ambiguous (i or l): the main view reads i, `alt_view` l.
_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "€": "e",
}
_LEET_CHARS = re.escape("".join(_LEET))
_LETTER = r"[^\W\d_]"
_LEET_RE = re.compile(
    rf"(?<={_LETTER})[{_LEET_CHARS}]+(?={_LETTER})"  # inside a word: k1ll, su1c1de, v10l3nt
    rf"|(?<![^\s#])[{_LEET_CHARS}](?={_LETTER}{{2}})"  # word-initial: $uicide, 4nal
    rf"|(?<={_LETTER}{{3}})[0134](?![\w])"  # word-final after 3 letters: someon3 (not year7, mp3, covid19)
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[\W_]+")
_SQUEEZE = re.compile(r"([^\W\d_])\1+")
_SPACED = re.compile(rf"(?<!\S){_LETTER}(?: {_LETTER}){{3,}}(?!\S)")
_WS = re.compile(r"\s+")


def _leet(text: str, one: str) -> str:
    return _LEET_RE.sub(lambda m: "".join(one if c == "1" else _LEET[c] for c in m.group()), text)


def _strip_marks(text: str) -> str:
    # NFD then drop combining marks (diacritics, Arabic harakat) and format characters (zero-width
    # joiners, bidi controls, soft hyphen) that are invisible but split a word for naive matchers.
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) not in ("Mn", "Cf"))


def display_view(text: str) -> str:
    """What a person should read (text already URL-decoded): NFKC, invisible characters gone, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return _WS.sub(" ", text).strip()


def _view(text: str, one: str) -> str:
    text = html.unescape(url_decode(text))
    text = unicodedata.normalize("NFKC", text)
    text = _CAMEL.sub(" ", text)  # #KillMyself -> Kill Myself (before case folding loses the humps)
    text = _strip_marks(text.casefold()).translate(_HOMOGLYPH_TABLE)
    text = unicodedata.normalize("NFC", text)
    text = _leet(text, one)
    text = _NON_WORD.sub(" ", text)  # self-harm, self_harm, self.harm -> self harm
    text = _SQUEEZE.sub(r"\1", text)  # diiiie -> die; the phrase library is squeezed the same way
    text = _SPACED.sub(lambda m: m.group().replace(" ", ""), text)  # k i l l -> kill
    text = _SQUEEZE.sub(r"\1", text)
    return _WS.sub(" ", text).strip()


def _fixpoint(text: str, one: str) -> str:
    # Removing punctuation can expose a new word start (`@0ab` -> `0ab`), so repeat until stable.
    for _ in range(6):
        nxt = _view(text, one)
        if nxt == text:
            break
        text = nxt
    return text


@lru_cache(maxsize=200_000)
def match_view(text: str) -> str:
    """The skeleton rules match on (see module docstring); idempotent."""
    return _fixpoint(text, "i")


@lru_cache(maxsize=200_000)
def alt_view(text: str) -> str:
    """The match view reading an in-word `1` as `l` (se1f harm) instead of `i` (su1c1de)."""
    return _fixpoint(text, "l")


def match_texts(text: str) -> str:
    """The padded text the matcher scans: the match view, plus the `1`->`l` reading when it differs."""
    main = match_view(text)
    if "1" in text or "|" in text:
        alt = alt_view(text)
        if alt != main:
            return f" {main} \n {alt} "
    return f" {main} "
