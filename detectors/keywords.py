"""KeywordDetector: safeguarding phrases in searches (and page addresses), graded, folded into episodes.

Pipeline over one Arrow batch (vectorised until the few candidate rows):
1. unwrap proxied URLs (translate.goog, ?url=, Ultraviolet) and extract the inner search terms;
2. collapse autocomplete keystroke prefixes into the final query per user;
3. cheap pre-filter: one case-insensitive Aho-Corasick pass (`str.contains_any`) over search terms and
   URLs, plus a regex that sends evasive-looking terms (leet, homoglyphs, spacing, repeats) to step 4;
4. detail, only for candidates: full normalisation, word-boundary phrase match, context and allow-lists;
5. grade with the risk model (candidates only), cohort suppression, episodes (`detectors.episodes`).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import polars as pl
import pyarrow as pa

from detectors.base import Alert, DetectContext
from detectors.config import DetectionConfig, detection_config
from detectors.episodes import fold_episodes
from detectors.grading import grade
from detectors.normalise import display_view, url_decode
from detectors.phrases import Library, PhraseHit, compile_library
from detectors.riskmodel import load_model
from detectors.searchterms import extract_frame
from detectors.unwrap import HINT_LITERALS, unwrap_expr, wrapper_kind
from parsers.urls import split_url

# Converted for every row (the cheap path); LATE columns only for hit and context rows (`with_late`).
COLUMNS = ("ts", "user", "client_ip", "url", "host", "registered_domain", "search_terms")
LATE = ("school", "client_host", "action", "origin")

# Terms that may hide a phrase from the plain pre-filter: non-ASCII, symbols or digits inside words,
# word-initial symbols, word-final leet, spaced-out letters, letters repeated three times or more.
EVASION_HINT = (
    r"(?i)[^\x00-\x7F]|\p{L}[0-9@$!|€]+\p{L}|(?:^|[\s#])[@$0-9]\p{L}{2}|\p{L}{3}[0134](?:\W|$)"
    r"|(?:^|\s)\p{L}(?:[\s.\-_*]\p{L}){3,}(?:\s|$)|" + "|".join(f"{c}{{3,}}" for c in string.ascii_lowercase)
)


@dataclass(frozen=True)
class Hit:
    """One graded phrase hit on one event row."""

    row: int
    category: str
    severity: int
    rule_severity: int
    phrase_id: str
    matched: str
    text: str
    from_url: bool
    help_seeking: bool
    p_concern: float
    reasons: tuple[str, ...]
    source: str


def prepare(events: pa.Table, lib: Library | None = None) -> pl.DataFrame:
    """The columns the detector needs, with unwrapped URLs and inner search terms coalesced in."""
    present = [c for c in COLUMNS if c in events.schema.names]
    df = pl.from_arrow(events.select(present))
    assert isinstance(df, pl.DataFrame)
    for c in COLUMNS:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    # One Aho-Corasick pass over the URLs marks rows that may be wrapped or carry a phrase (`_url_maybe`);
    # both finer checks then run on those few rows only.
    literals = sorted({*HINT_LITERALS, *(lib.url_prefilter if lib is not None else ())})
    df = df.with_row_index("_row").with_columns(
        pl.col("url").str.contains_any(literals, ascii_case_insensitive=True).fill_null(False).alias("_url_maybe"),
        pl.coalesce(pl.col("user"), pl.col("client_ip"), pl.lit("unknown")).alias("subject"),
    )
    df = df.with_columns(unwrap_expr(pl.when(pl.col("_url_maybe")).then(pl.col("url"))).alias("inner_url"))
    wrapped = df.filter(pl.col("inner_url").is_not_null())
    inner_terms = pl.repeat(None, df.height, dtype=pl.String, eager=True).alias("inner_terms")
    if wrapped.height:
        parts = wrapped.select(split_url(pl.col("inner_url")).alias("u")).unnest("u")
        found = extract_frame(parts)["search_terms"]
        inner_terms = inner_terms.scatter(wrapped["_row"], found)
    return df.with_columns(pl.coalesce(pl.col("search_terms"), inner_terms).alias("terms"))


def with_late(df: pl.DataFrame, events: pa.Table) -> pl.DataFrame:
    """Add the LATE columns for just these rows (taken from the Arrow batch by `_row`)."""
    present = [c for c in LATE if c in events.schema.names]
    late = pl.from_arrow(events.select(present).take(df["_row"].cast(pl.UInt64).to_arrow()))
    assert isinstance(late, pl.DataFrame)
    for c in LATE:
        if c not in late.columns:
            late = late.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    return df.hstack(late.select(LATE))


def collapse_prefixes(df: pl.DataFrame, seconds: int) -> pl.DataFrame:
    """Mark search rows whose terms are a keystroke prefix of the same subject's next search (`_prefix`)."""
    if seconds <= 0:
        return df.with_columns(pl.lit(False).alias("_prefix"))
    s = df.filter(pl.col("terms").is_not_null()).sort("subject", "ts", "_row").select("_row", "subject", "ts", "terms")
    nxt = s.with_columns(
        pl.col("subject").shift(-1).alias("_ns"),
        pl.col("ts").shift(-1).alias("_nt"),
        pl.col("terms").shift(-1).alias("_nq"),
    )
    prefix = nxt.filter(
        (pl.col("_ns") == pl.col("subject"))
        & ((pl.col("_nt") - pl.col("ts")).dt.total_seconds() <= seconds)
        & (pl.col("_nq").str.to_lowercase().str.starts_with(pl.col("terms").str.to_lowercase()))
        & (pl.col("_nq").str.len_chars() > pl.col("terms").str.len_chars())
    )["_row"]
    return df.with_columns(pl.col("_row").is_in(prefix.implode()).alias("_prefix"))


def candidates(df: pl.DataFrame, lib: Library) -> pl.DataFrame:
    """Rows worth a detailed look, with the text to analyse and where it came from."""
    is_search = pl.col("terms").is_not_null() & ~pl.col("_prefix")
    search_hit = is_search & (
        pl.col("terms").str.contains_any(lib.prefilter, ascii_case_insensitive=True)
        | pl.col("terms").str.contains(EVASION_HINT)
    )
    maybe = pl.col("_url_maybe") if "_url_maybe" in df.columns else pl.lit(True)
    few = df.filter(search_hit.fill_null(False) | (pl.col("terms").is_null() & maybe))
    help_host = pl.col("host").is_in(list(lib.help_hosts)) | pl.col("registered_domain").is_in(list(lib.help_hosts))
    page = pl.coalesce(pl.col("inner_url"), pl.col("url"))
    url_hit = (
        pl.col("terms").is_null()
        & ~help_host.fill_null(False)
        & page.str.contains_any(lib.url_prefilter, ascii_case_insensitive=True).fill_null(False)
    )
    return few.filter(pl.col("terms").is_not_null() | url_hit).with_columns(
        pl.when(pl.col("terms").is_not_null()).then(pl.col("terms")).otherwise(page).alias("_text"),
        pl.col("terms").is_null().alias("_from_url"),
        help_host.fill_null(False).alias("_help_host"),
    )


def _url_words(url: str) -> str:
    # A page address as words: decoded, scheme and punctuation gone (the matcher splits on non-letters).
    return url_decode(url.split("://", 1)[-1], plus=True)


def find_hits(cand: pl.DataFrame, lib: Library, cfg: DetectionConfig) -> list[Hit]:
    """Detailed matching, model scoring and grading for candidate rows."""
    pending: list[tuple[int, str, bool, bool, PhraseHit]] = []
    for row, text, from_url, help_host in cand.select("_row", "_text", "_from_url", "_help_host").iter_rows():
        analysed = _url_words(text) if from_url else text
        for hit in lib.match(analysed):
            pending.append((row, analysed, from_url, help_host, hit))
    if not pending:
        return []
    texts = sorted({p[1] for p in pending})
    if cfg.use_model:
        model = load_model(cfg.model_path) if cfg.model_path else load_model()
        p, sev = model.score(texts)
        scores = {t: (float(a), float(b)) for t, a, b in zip(texts, p, sev, strict=True)}
    else:
        scores = {}
    hits: list[Hit] = []
    for row, text, from_url, help_host, hit in pending:
        ph = hit.phrase
        p_concern, m_sev = scores.get(text, (1.0, float(ph.severity)))
        helping = help_host or lib.help_seeking(text)
        g = grade(
            ph.severity,
            always=ph.always,
            p_concern=p_concern,
            model_severity=m_sev,
            help_seeking=helping,
            from_url=from_url,
            curriculum=lib.curriculum_context(text),
            playful=lib.playful_context(text),
            category=ph.category,
        )
        if g.severity is None:
            continue
        hits.append(
            Hit(
                row,
                ph.category,
                g.severity,
                ph.severity,
                ph.id,
                ph.text,
                text,
                from_url,
                helping,
                p_concern,
                g.reasons,
                ph.source,
            )
        )
    best: dict[tuple[int, str], Hit] = {}
    for h in hits:  # one hit per row and category: the highest graded, then the most specific rule
        key = (h.row, h.category)
        cur = best.get(key)
        if cur is None or (h.severity, h.rule_severity, len(h.matched)) > (
            cur.severity,
            cur.rule_severity,
            len(cur.matched),
        ):
            best[key] = h
    return sorted(best.values(), key=lambda h: (h.row, h.category))


class KeywordDetector:
    """Safeguarding phrases in what pupils search for and open, graded 1-5 and folded into episodes."""

    name: ClassVar[str] = "keywords"
    description: ClassVar[str] = (
        "Safeguarding phrases in searches and page addresses (10 languages, evasion-aware), graded by a "
        "risk model, with help-seeking, cohort and repetition context, folded into per-pupil episodes"
    )

    def detect(self, events: pa.Table, ctx: DetectContext) -> Sequence[Alert]:
        """Alerts raised by this batch (already folded into episodes within the batch)."""
        if events.num_rows == 0:
            return []
        cfg = detection_config(ctx)
        lib = compile_library(cfg)
        df = collapse_prefixes(prepare(events, lib), cfg.autocomplete_seconds)
        hits = find_hits(candidates(df, lib), lib, cfg)
        if not hits:
            return []
        return fold_episodes(df, hits, cfg, ctx, detector=self.name, events=events)


def describe_wrapper(url: str | None) -> str | None:
    """Plain words for a proxy wrapper, for evidence."""
    kind = wrapper_kind(url) if url else None
    return {
        "translate_goog": "through Google Translate's proxy",
        "google_translate": "through Google Translate",
        "google_cache": "through Google's cache",
        "webproxy_uv": "through a web proxy (Ultraviolet-style encoded address)",
        "webproxy_param": "through a web proxy",
    }.get(kind or "")


__all__ = [
    "EVASION_HINT",
    "Hit",
    "KeywordDetector",
    "candidates",
    "collapse_prefixes",
    "describe_wrapper",
    "display_view",
    "find_hits",
    "prepare",
]
