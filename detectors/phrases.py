"""The phrase library: built-in TOML files, the school's own phrases, and licensed lists, compiled once.

Compiled forms:
- `prefilter`: raw-text variants (separators ` - _ + %20`, run-together, percent-encoded UTF-8) for a
  case-insensitive Aho-Corasick scan over whole columns; a superset, never decisive.
- `url_prefilter`: the same for multi-word phrases only (single words in URLs are mostly noise).
- an automaton over padded match-view patterns (` kil myself `), word-boundary exact, for the few
  candidate rows; context rules (requires/excludes) and allow-lists are applied per hit.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import ahocorasick

from detectors.base import CATEGORIES
from detectors.config import DetectionConfig, LicensedList
from detectors.errors import DetectionConfigError
from detectors.normalise import match_texts, match_view

DATA_DIR = Path(__file__).parent / "data"
PHRASE_DIR = DATA_DIR / "phrases"
_SEPARATORS = (" ", "-", "_", "+", "%20", "%2B", ".")
_JOIN_MIN = 8  # run-together forms shorter than this are too likely inside ordinary words


@dataclass(frozen=True)
class Phrase:
    """One rule: a phrase, its category, severity 1-5, language and context words."""

    text: str
    category: str
    severity: int
    lang: str = "en"
    requires_any: tuple[str, ...] = ()
    excludes_any: tuple[str, ...] = ()
    joined: bool = False
    always: bool = False  # licensed lists: the model cannot suppress these
    source: str = "builtin"

    @property
    def id(self) -> str:
        """A stable rule id shown to the DSL and usable in `disabled_phrases`."""
        return f"{self.category}:{self.lang}:{self.text}"


@dataclass(frozen=True)
class PhraseHit:
    """A phrase found in a text, after context rules."""

    phrase: Phrase
    matched: str


@dataclass
class Library:
    """The compiled library (see module docstring)."""

    phrases: tuple[Phrase, ...]
    prefilter: list[str]
    url_prefilter: list[str]
    help_hosts: frozenset[str]
    help_patterns: tuple[str, ...]
    exclude_patterns: tuple[str, ...]
    curriculum_patterns: tuple[str, ...]
    playful_patterns: tuple[str, ...]
    _automaton: ahocorasick.Automaton = field(repr=False)

    def match(self, text: str) -> list[PhraseHit]:
        """Phrases in `text` that pass their context rules (word boundaries on the match view)."""
        padded = match_texts(text)
        if any(p in padded for p in self.exclude_patterns):
            return []
        hits: dict[str, PhraseHit] = {}
        for _end, (pattern, idxs) in self._automaton.iter(padded):
            for i in idxs:
                ph = self.phrases[i]
                if ph.id in hits:
                    continue
                if ph.excludes_any and any(f" {match_view(w)} " in padded for w in ph.excludes_any):
                    continue
                if ph.requires_any and not any(f" {match_view(w)} " in padded for w in ph.requires_any):
                    continue
                hits[ph.id] = PhraseHit(ph, pattern.strip())
        return list(hits.values())

    def help_seeking(self, text: str) -> bool:
        """Whether the text names a help service or asks for help."""
        padded = match_texts(text)
        return any(p in padded for p in self.help_patterns)

    def curriculum_context(self, text: str) -> str | None:
        """The first schoolwork/awareness context word in the text, if any."""
        padded = match_texts(text)
        return next((p.strip() for p in self.curriculum_patterns if p in padded), None)

    def playful_context(self, text: str) -> str | None:
        """The first humour/game/media context word in the text, if any."""
        padded = match_texts(text)
        return next((p.strip() for p in self.playful_patterns if p in padded), None)

    def is_help_host(self, host: str | None, registered_domain: str | None) -> bool:
        """Whether a host belongs to a help-seeking or allow-listed site."""
        return bool(host) and (host in self.help_hosts or (registered_domain or "") in self.help_hosts)


@lru_cache(maxsize=1)
def builtin_phrases() -> tuple[Phrase, ...]:
    """Every phrase in detectors/data/phrases/*.toml."""
    out: list[Phrase] = []
    for path in sorted(PHRASE_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        category = data["category"]
        if category not in CATEGORIES:
            raise DetectionConfigError(f"{path.name}: unknown category {category!r}")
        for entry in data.get("entry", []):
            for text in entry["phrases"]:
                out.append(
                    Phrase(
                        text=text,
                        category=category,
                        severity=int(entry["severity"]),
                        lang=entry.get("lang", "en"),
                        requires_any=tuple(entry.get("requires_any", ())),
                        excludes_any=tuple(entry.get("excludes_any", ())),
                        joined=bool(entry.get("joined", False)),
                    )
                )
    return tuple(out)


@lru_cache(maxsize=1)
def _allowlist() -> dict[str, tuple[str, ...]]:
    with (DATA_DIR / "allowlist.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return {k: tuple(v) for k, v in data.items()}


def load_licensed(spec: LicensedList) -> list[Phrase]:
    """Phrases from a licensed list file (one term per line, or csv term,category,severity)."""
    try:
        text = spec.path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DetectionConfigError(
            f"config: detection.licensed_lists: cannot read {spec.path}: {exc.strerror}"
        ) from exc
    out: list[Phrase] = []
    rows = csv.reader(text.splitlines()) if spec.format == "csv" else ([line] for line in text.splitlines())
    for row in rows:
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        category = row[1].strip() if len(row) > 1 and row[1].strip() else spec.category
        severity = int(row[2]) if len(row) > 2 and row[2].strip() else spec.severity
        if category not in CATEGORIES or not 1 <= severity <= 5:
            raise DetectionConfigError(f"config: {spec.path}: bad category or severity in row {row!r}")
        out.append(
            Phrase(
                row[0].strip(), category, severity, lang="any", joined=True, always=True, source=f"licensed:{spec.name}"
            )
        )
    return out


def _variants(phrase: Phrase, for_urls: bool) -> set[str]:
    base = " ".join(phrase.text.lower().split())
    words = base.split(" ")
    if for_urls and len(words) < 2:
        return set()  # single words in page addresses are mostly noise (ids, slugs, brand names)
    # Raw spellings as they appear in logs; URLs never carry a literal space or the squeezed skeleton.
    seps = ("-", "_", "+", "%20") if for_urls else (" ", "-", "_", "+", "%20", ".")
    out = {sep.join(words) for sep in seps}
    if not for_urls:
        out.add(match_view(phrase.text))
    joined = "".join(words)
    if (phrase.joined or len(words) > 1) and len(joined) >= _JOIN_MIN:
        out.add(joined)
    for v in list(out):
        if not v.isascii():
            out.add(quote(v))  # percent-encoded UTF-8 as it appears in URLs
    return {v for v in out if len(v) >= 3}


def compile_library(cfg: DetectionConfig) -> Library:
    """Builtin + school + licensed phrases, minus disabled ones, compiled for matching."""
    return _compile(cfg.model_dump_json())


@lru_cache(maxsize=8)
def _compile(cfg_json: str) -> Library:
    cfg = DetectionConfig.model_validate_json(cfg_json)
    phrases: list[Phrase] = list(builtin_phrases())
    phrases += [
        Phrase(p.phrase, p.category, p.severity, p.lang, p.requires_any, p.excludes_any, p.joined, source="school")
        for p in cfg.phrases
    ]
    for spec in cfg.licensed_lists:
        phrases += load_licensed(spec)
    disabled = set(cfg.disabled_phrases)
    phrases = [p for p in phrases if p.id not in disabled and p.category not in cfg.disabled_categories]
    by_pattern: dict[str, list[int]] = {}
    for i, ph in enumerate(phrases):
        mv = match_view(ph.text)
        if not mv:
            continue
        pats = {f" {mv} "}
        joined = mv.replace(" ", "")
        if (ph.joined or " " in mv) and len(joined) >= _JOIN_MIN:
            pats.add(joined)  # run-together (#killmyself, howtokillmyself): substring match
        for pat in pats:
            by_pattern.setdefault(pat, []).append(i)
    automaton = ahocorasick.Automaton()
    for pat, idxs in by_pattern.items():
        automaton.add_word(pat, (pat, tuple(idxs)))
    automaton.make_automaton()
    prefilter: set[str] = set()
    url_prefilter: set[str] = set()
    for ph in phrases:
        prefilter |= _variants(ph, for_urls=False)
        url_prefilter |= _variants(ph, for_urls=True)
    allow = _allowlist()
    help_hosts, help_phrases, curriculum = allow["help_hosts"], allow["help_phrases"], allow["curriculum_context"]
    return Library(
        phrases=tuple(phrases),
        prefilter=sorted(prefilter),
        url_prefilter=sorted(url_prefilter),
        help_hosts=frozenset((*help_hosts, *cfg.help_hosts, *cfg.allow_hosts)),
        help_patterns=tuple(f" {match_view(p)} " for p in help_phrases),
        exclude_patterns=tuple(f" {match_view(p)} " for p in cfg.exclude_terms),
        curriculum_patterns=tuple(f" {match_view(p)} " for p in (*curriculum, *cfg.curriculum_context)),
        playful_patterns=tuple(f" {match_view(p)} " for p in allow["playful_context"]),
        _automaton=automaton,
    )
