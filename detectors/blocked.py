"""BlockedAttemptDetector: repeated attempts on blocked safeguarding categories by one user in a short window.

DfE standards expect the filter to alert when harmful content is blocked. One blocked request is noise
(adverts, embedded trackers); `min_attempts` within `window_minutes` (default 5 in 10) is a pattern.
The filter's own category words (vendor wording, `;`-joined) and reason text map to Vigil categories.
Filter-bypass blocks (proxies, VPNs) are left to the circumvention detector. Severity 2, or 3 for the
high-harm categories and for three times the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa

from detectors.base import EPISODE_WINDOW, Alert, DetectContext
from detectors.config import detection_config
from detectors.grading import CATEGORY_LABELS

# Order matters: the first match wins (a "self-harm" category is not "violence").
CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("illegal_content", r"\biwf\b|csam|child (?:sexual )?abuse|ctiru|terrorist content|illegal"),
    ("suicide_self_harm", r"self.?harm|suicid"),
    ("eating_disorders", r"eating disorder|pro.?ana"),
    ("extremism", r"extrem|terror|radical|militan"),
    ("pornography", r"porn|adult|nudity|\bsex|xxx|erotic|explicit"),
    ("gambling", r"gambl|betting|casino|lotter|poker"),
    ("drugs", r"drug|narcotic|alcohol|tobacco|\bvap|cannabis|substance"),
    ("weapons_violence", r"weapon|violen|gore|firearm"),
    ("discrimination", r"hate|racis|discriminat|intoleran"),
)
BLOCK_CATEGORIES = frozenset(cat for cat, _ in CATEGORY_WORDS)
HIGH_HARM = frozenset({"illegal_content", "suicide_self_harm", "extremism", "weapons_violence"})
_COMPILED = tuple((cat, re.compile(rx, re.I)) for cat, rx in CATEGORY_WORDS)


def map_category(text: str) -> str | None:
    """The Vigil category for a filter's category/reason text, or None."""
    for cat, rx in _COMPILED:
        if rx.search(text):
            return cat
    return None


def _host_categories(hosts: pl.Series, ctx: DetectContext) -> dict[str, str | None]:
    """For blocks without filter category words (e.g. Squid ACLs): the phrase library over the host's words."""
    from detectors.phrases import compile_library

    lib = compile_library(detection_config(ctx))
    out: dict[str, str | None] = {}
    for host in hosts.drop_nulls().unique().to_list():
        hits = [h for h in lib.match(host.replace(".", " ")) if h.phrase.category in BLOCK_CATEGORIES]
        out[host] = max(hits, key=lambda h: h.phrase.severity).phrase.category if hits else None
    return out


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class BlockedAttemptDetector:
    """Repeated blocked attempts on a safeguarding category by one user in a short window."""

    name: ClassVar[str] = "blocked_attempts"
    description: ClassVar[str] = "Repeated attempts on blocked categories (pornography, gambling, ...) by one user"

    def detect(self, events: pa.Table, ctx: DetectContext) -> Sequence[Alert]:
        """Alerts raised by this batch (one per subject, category and episode window)."""
        cfg = detection_config(ctx).blocked
        if not cfg.enabled or events.num_rows == 0:
            return []
        cols = [
            "ts",
            "school",
            "user",
            "client_ip",
            "action",
            "category",
            "reason",
            "url",
            "host",
            "search_terms",
            "origin",
        ]
        df = pl.from_arrow(events.select([c for c in cols if c in events.schema.names]))
        assert isinstance(df, pl.DataFrame)
        if "action" not in df.columns or df.filter(pl.col("action") == "blocked").height < cfg.min_attempts:
            return []
        df = df.filter(pl.col("action") == "blocked").with_columns(
            pl.concat_str([pl.col("category").fill_null(""), pl.col("reason").fill_null("")], separator=" ").alias(
                "_text"
            ),
            pl.coalesce(pl.col("user"), pl.col("client_ip"), pl.lit("unknown")).alias("subject"),
        )
        texts = df["_text"].unique().to_list()
        mapping = {t: map_category(t) for t in texts}
        by_host = _host_categories(
            df.filter(pl.col("_text").replace_strict(mapping, default=None, return_dtype=pl.String).is_null())["host"],
            ctx,
        )
        window_s = int(EPISODE_WINDOW.total_seconds())
        df = (
            df.with_columns(
                pl.coalesce(
                    pl.col("_text").replace_strict(mapping, default=None, return_dtype=pl.String),
                    pl.col("host").replace_strict(by_host, default=None, return_dtype=pl.String),
                ).alias("cat"),
                (pl.col("ts").dt.epoch("s") // window_s * window_s).alias("_window"),
            )
            .filter(pl.col("cat").is_not_null())
            .sort("subject", "cat", "ts")
        )
        if df.height < cfg.min_attempts:
            return []
        peaks = (
            df.rolling(index_column="ts", period=f"{cfg.window_minutes}m", group_by=["subject", "cat"])
            .agg(pl.len().alias("n"), pl.col("_window").last())
            .group_by("subject", "cat", "_window")
            .agg(pl.col("n").max().alias("peak"))
            .filter(pl.col("peak") >= cfg.min_attempts)
        )
        alerts = []
        for row in peaks.sort("subject", "cat", "_window").iter_rows(named=True):
            group = df.filter(
                (pl.col("subject") == row["subject"])
                & (pl.col("cat") == row["cat"])
                & (pl.col("_window") == row["_window"])
            ).to_dicts()
            alerts.append(self._alert(group, row["cat"], int(row["peak"]), cfg.min_attempts, cfg.window_minutes, ctx))
        return alerts

    def _alert(
        self, rows: list[dict[str, Any]], cat: str, peak: int, threshold: int, minutes: int, ctx: DetectContext
    ) -> Alert:
        first, last = rows[0], rows[-1]
        severity = 3 if cat in HIGH_HARM or peak >= 3 * threshold else 2
        label = CATEGORY_LABELS[cat]
        filter_words = sorted({r["category"] or r["reason"] or "" for r in rows} - {""})
        hosts = list(dict.fromkeys(r["host"] for r in rows if r["host"]))
        why = (
            f"{len(rows)} requests blocked by the filter as “{'; '.join(filter_words)[:120]}” "
            f"({label.lower()}), with up to {peak} within {minutes} minutes, "
            f"between {_aware(first['ts']):%H:%M} and {_aware(last['ts']):%H:%M} UTC, on "
            f"{len(hosts)} site(s) such as {', '.join(hosts[:3])}. Repeated attempts suggest the pupil is "
            "deliberately looking for this content; one-off blocks (adverts, embedded links) are ignored."
        )
        user = first["user"]
        terms = [r["search_terms"] for r in rows if r.get("search_terms")]
        evidence = {
            "url": first["url"],
            "host": first["host"],
            "search_terms": terms[0] if terms else None,
            "matched": "; ".join(filter_words),
            "why": why,
            "attempts": len(rows),
            "peak_in_window": peak,
            "window_minutes": minutes,
            "hosts": hosts[:50],
            "events": [
                {
                    "ts": _aware(r["ts"]).isoformat(),
                    "url": r["url"],
                    "host": r["host"],
                    "action": r["action"],
                    "category": r["category"],
                    "origin": r["origin"],
                }
                for r in rows[:200]
            ],
        }
        keys = tuple(sorted({r["origin"] or f"{self.name}:{_aware(r['ts']).isoformat()}:{r['url']}" for r in rows}))
        return Alert(
            school=first["school"] or "default",
            ts=_aware(first["ts"]),
            last_ts=_aware(last["ts"]),
            user=user,
            client_ip=first["client_ip"],
            detector=self.name,
            rule=f"blocked:{cat}",
            category=cat,
            severity=severity,
            title=f"Repeated blocked attempts: {label} ({len(rows)} blocked)",
            evidence=evidence,
            event_keys=keys,
            subject_kind="staff" if user and user in ctx.staff_users else ("pupil" if user else "unknown"),
        )
