"""Keyword hits -> alerts: cohort suppression, episode folding, repetition/escalation, evidence and context.

- Cohort: when `cohort_min_users` or more subjects hit the same rule in the same hour from the same room
  (client_host without its trailing number, else the client's /24), it is probably a lesson: grade -2.
- Episodes: one alert per (subject, category, aligned episode window, `detectors.base.episode_start`),
  `event_keys` = origins of every hit so the case store's union never double-counts a replay.
- Repetition (3+ different searches) or escalation (a later hit graded higher than the first) adds 1.
- Evidence carries the hits, the matched text, the search terms, the rule, the model score, `why` in plain
  words and the subject's in-batch browsing within +/- `context_minutes` (the UI adds the warehouse's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl
import pyarrow as pa

from detectors.base import EPISODE_WINDOW, Alert, DetectContext, SubjectKind
from detectors.config import DetectionConfig
from detectors.grading import CATEGORY_LABELS
from detectors.normalise import display_view

if TYPE_CHECKING:
    from detectors.keywords import Hit

CONTEXT_LIMIT = 200  # events of browsing context kept per alert (the UI reads the full timeline)


def room_expr() -> pl.Expr:
    """Where a device sits: its host name without the trailing number (ict3-pc12 -> ict3-pc), else the /24."""
    host_room = pl.col("client_host").str.to_lowercase().str.split(".").list.first().str.replace(r"[-_]?\d+$", "")
    ip_room = pl.col("client_ip").str.extract(r"^(\d+\.\d+\.\d+)\.\d+$", 1) + pl.lit(".0/24")
    v6_room = pl.col("client_ip").str.extract(r"^([0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*):", 1) + "::/64"
    return pl.coalesce(pl.when(host_room != "").then(host_room), ip_room, v6_room, pl.lit("unknown"))


def _iso(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def hits_frame(df: pl.DataFrame, hits: Sequence[Hit], cfg: DetectionConfig) -> pl.DataFrame:
    """Hits joined to their events, with cohort suppression applied."""
    hf = pl.DataFrame([asdict(h) for h in hits]).rename({"row": "_row"}).with_columns(pl.col("_row").cast(pl.UInt32))
    hf = hf.join(df.with_columns(pl.col("_row").cast(pl.UInt32)), on="_row", how="left")
    window_s = int(EPISODE_WINDOW.total_seconds())
    hf = hf.with_columns(
        room_expr().alias("room"),
        pl.col("ts").dt.truncate("1h").alias("_hour"),
        (pl.col("ts").dt.epoch("s") // window_s * window_s).alias("_window"),
    ).with_columns(
        pl.col("subject").n_unique().over("category", "phrase_id", "_hour", "room").alias("cohort_size"),
    )
    cohort = pl.col("cohort_size") >= cfg.cohort_min_users
    return hf.with_columns(
        cohort.alias("cohort"),
        pl.when(cohort).then((pl.col("severity") - 2).clip(1, 5)).otherwise(pl.col("severity")).alias("severity"),
    ).sort("subject", "category", "ts", "_row")


def contexts(
    events: pl.DataFrame, windows: list[tuple[int, str, datetime, datetime]]
) -> dict[int, list[dict[str, Any]]]:
    """Each window's (id, subject, start, end) in-batch browsing, in one join instead of one filter each."""
    if not windows:
        return {}
    w = pl.DataFrame(
        windows,
        schema={
            "_w": pl.Int64,
            "subject": pl.String,
            "_start": pl.Datetime("us", "UTC"),
            "_end": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
    ev = events.select("subject", "ts", "_row", "url", "host", "action", "terms").with_columns(
        pl.col("ts").dt.replace_time_zone("UTC") if events.schema["ts"] == pl.Datetime("us") else pl.col("ts")
    )
    near = (
        ev.join(w, on="subject")
        .filter(pl.col("ts").is_between(pl.col("_start"), pl.col("_end")))
        .sort("_w", "ts", "_row")
        .group_by("_w", maintain_order=True)
        .head(CONTEXT_LIMIT)
    )
    out: dict[int, list[dict[str, Any]]] = {i: [] for i, *_ in windows}
    # Python objects built in Rust (one struct column to_list), not row by row: contexts can be large.
    rows = (
        near.select(
            pl.struct(
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
                "url",
                "host",
                "action",
                pl.col("terms").alias("search_terms"),
            )
        )
        .to_series()
        .to_list()
    )
    for w, row in zip(near["_w"].to_list(), rows, strict=True):
        out[w].append(row)
    return out


def _why(top: dict[str, Any], rows: list[dict[str, Any]], bump: str | None, label: str) -> str:
    shown = display_view(top["text"])[:200]
    if top["from_url"]:
        what = f"Opened a page whose address reads “{shown}”"
    else:
        what = f"Searched for “{shown}”"
        host = urlsplit(top["inner_url"]).hostname if top.get("inner_url") else top["host"]
        if host:
            what += f" on {host}"
    if top.get("inner_url"):
        from detectors.keywords import describe_wrapper

        what += f" ({describe_wrapper(top['url']) or 'through a proxy'})"
    parts = [
        what + ".",
        f"It matched “{top['matched']}” from the {label.lower()} phrase list"
        f" ({top['phrase_id'].split(':')[1]}, graded {top['rule_severity']} there).",
        *(r[0].upper() + r[1:] + "." for r in top["reasons"]),
    ]
    if len(rows) > 1:
        distinct = len({r["text"] for r in rows})
        parts.append(f"{len(rows)} matching events in this episode ({distinct} different).")
    if bump:
        parts.append(f"Graded up one for {bump}.")
    if top["cohort"]:
        parts.append(
            f"{top['cohort_size']} pupils hit this in the same hour from the same room ({top['room']}): "
            "probably a lesson, so it was graded down two."
        )
    return " ".join(parts)


def _alert(
    rows: list[dict[str, Any]], context: list[dict[str, Any]], cfg: DetectionConfig, ctx: DetectContext, detector: str
) -> Alert | None:
    top = max(rows, key=lambda r: (r["severity"], r["rule_severity"], -r["ts"].timestamp()))
    first, last = rows[0], rows[-1]
    max_sev = int(top["severity"])
    distinct = len({r["text"] for r in rows})
    escalating = len(rows) > 1 and last["severity"] > first["severity"]
    bump = "repetition" if distinct >= 3 else ("escalation" if escalating else None)
    severity = min(5, max_sev + 1) if bump and max_sev >= 2 else max_sev
    if not bump:
        bump = None
    if severity < cfg.min_severity:
        return None
    label = CATEGORY_LABELS.get(top["category"], top["category"])
    user = first["user"]
    subject_kind: SubjectKind = "staff" if user and user in ctx.staff_users else ("pupil" if user else "unknown")
    shown = display_view(top["text"])
    terms = [display_view(t) for t in dict.fromkeys(r["terms"] for r in rows if r["terms"])]
    evidence: dict[str, Any] = {
        "url": top["url"],
        "host": top["host"],
        "search_terms": display_view(top["terms"]) if top["terms"] else None,
        "matched": top["matched"],
        "all_search_terms": terms,
        "all_matched": sorted({r["matched"] for r in rows}),
        "unwrapped_url": top["inner_url"],
        "rule": {
            "id": top["phrase_id"],
            "severity": top["rule_severity"],
            "source": top["source"],
            "ids": sorted({r["phrase_id"] for r in rows}),
        },
        "model_score": round(float(top["p_concern"]), 4),
        "help_seeking": bool(top["help_seeking"]),
        "cohort": {"size": int(top["cohort_size"]), "room": top["room"]} if top["cohort"] else None,
        "why": _why(top, rows, bump, label),
        "events": [
            {
                "ts": _iso(r["ts"]),
                "url": r["url"],
                "host": r["host"],
                "action": r["action"],
                "search_terms": r["terms"],
                "origin": r["origin"],
                "matched": r["matched"],
                "rule": r["phrase_id"],
                "severity": int(r["severity"]),
                "model_score": round(float(r["p_concern"]), 4),
            }
            for r in rows
        ],
        "context_minutes": cfg.context_minutes,
        "context": context,
    }
    title = f"{label}: “{shown[:80]}”" + (f" and {len(rows) - 1} more" if len(rows) > 1 else "")
    keys = tuple(sorted({r["origin"] or f"{detector}:{_iso(r['ts'])}:{r['url']}" for r in rows}))
    return Alert(
        school=first["school"] or "default",
        ts=_aware(first["ts"]),
        last_ts=_aware(last["ts"]),
        user=user,
        client_ip=first["client_ip"],
        detector=detector,
        rule=top["phrase_id"],
        category=top["category"],
        severity=severity,
        title=title,
        evidence=evidence,
        event_keys=keys,
        subject_kind=subject_kind,
    )


def fold_episodes(
    df: pl.DataFrame, hits: Sequence[Hit], cfg: DetectionConfig, ctx: DetectContext, detector: str, events: pa.Table
) -> list[Alert]:
    """One alert per subject, category and episode window (`events`: the batch, for late columns)."""
    from detectors.keywords import with_late

    rows_hit = pl.Series([h.row for h in hits], dtype=pl.UInt32)
    hf = hits_frame(with_late(df.filter(pl.col("_row").is_in(rows_hit.implode())), events), hits, cfg)
    records = hf.sort("subject", "category", "_window", "ts", "_row").to_dicts()
    groups = [list(g) for _, g in groupby(records, key=lambda r: (r["subject"], r["category"], r["_window"]))]
    span = timedelta(minutes=cfg.context_minutes)
    windows = [
        (i, g[0]["subject"], _aware(g[0]["ts"]) - span, _aware(g[-1]["ts"]) + span) for i, g in enumerate(groups)
    ]
    subjects = pl.Series(sorted({w[1] for w in windows}), dtype=pl.String)
    near = contexts(with_late(df.filter(pl.col("subject").is_in(subjects.implode())), events), windows)
    alerts: list[Alert] = []
    for i, rows in enumerate(groups):
        alert = _alert(rows, near[i], cfg, ctx, detector)
        if alert is not None:
            alerts.append(alert)
    return alerts
