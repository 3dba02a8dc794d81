"""Filter-circumvention detection: proxies, VPNs, encrypted DNS, Tor, tunnels and unblocker sites.

Per event, the strongest of: a shipped signature (circumvention_rules), a blocklist hit (lists), the
filter's own category name meaning circumvention, and, for names nothing else knows, the domain model
(domain_model). Behaviour rules (behaviour) add sequences that need history. Hits fold into one alert per
user (or device) per episode window, with the reasons in words.

Severity: a signature's or list's own grade on an allowed request (4 for the strong ones); a blocked or
warned attempt one lower, at most 3; the model alone 2, or 3 when one user hits several model-only hosts;
the model and the behaviour rules never go above what their own evidence allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from detectors import behaviour
from detectors.base import Alert, DetectContext, episode_start
from detectors.circumvention_config import CircumventionConfig, load_config
from detectors.circumvention_rules import CompiledSignatures, Signature, category_hits, load_signatures
from detectors.domain_model import DomainModel, is_ordinary, load_model_cached
from detectors.lists import Lists, lists_for, match_hosts, match_urls

CATEGORY = "circumvention"
DETECTOR = "circumvention"
MAX_EVIDENCE_EVENTS = 50
BLOCKED = ("blocked", "warned", "error")
_COLUMNS = ("ts", "school", "source", "user", "user_group", "client_ip", "dst_ip", "dst_port", "action", "category",
            "method", "url", "host", "registered_domain", "path", "query", "content_type", "search_terms", "origin",
            "raw")
_HIT_SCHEMA = {"_row": pl.UInt32, "rule": pl.String, "base": pl.Int32, "title": pl.String, "why": pl.String,
               "matched": pl.String, "kind": pl.String}


def blocked_grade(severity: int) -> int:
    """A blocked or warned attempt is one grade lower than the same thing allowed, and at most 3."""
    return max(1, min(severity - 1, 3))


class CircumventionDetector:
    """Signatures, lists, filter categories, a domain model and behaviour, folded into per-user episodes."""

    name = DETECTOR
    description = "Filter circumvention: proxies, VPNs, encrypted DNS, Tor, tunnels, unblocker sites."

    def __init__(
        self,
        *,
        signatures: Sequence[Signature] | None = None,
        lists: Lists | None = None,
        model: DomainModel | None = None,
        config: CircumventionConfig | None = None,
        use_model: bool = True,
    ) -> None:
        self._signatures = tuple(signatures) if signatures is not None else None
        self._lists = lists
        self._model = model
        self._config = config
        self._use_model = use_model

    # --- resources (resolved per call so a re-import or re-train is picked up; all cached) -------------------

    def config(self, ctx: DetectContext) -> CircumventionConfig:
        """This call's configuration: explicit, else ctx.options['circumvention'], else [circumvention]."""
        if self._config is not None:
            return self._config
        section = ctx.options.get("circumvention") if isinstance(ctx.options, Mapping) else None
        if section is None:
            from vigil.settings import get_settings

            section = get_settings().section("circumvention")
        return load_config(section)

    @staticmethod
    def _data_dir() -> Path:
        from vigil.settings import get_settings

        return get_settings().data_dir

    def lists(self, cfg: CircumventionConfig) -> Lists:
        """Explicit lists, else those imported under the data directory."""
        if self._lists is not None:
            return self._lists
        return lists_for(cfg.lists_dir or self._data_dir() / "lists")

    def model(self, cfg: CircumventionConfig) -> DomainModel | None:
        """Explicit model, else the trained one under the data directory, else none."""
        if not self._use_model:
            return None
        if self._model is not None:
            return self._model
        return load_model_cached(cfg.model_path or self._data_dir() / "models" / "circumvention.npz")

    def compiled(self, cfg: CircumventionConfig) -> CompiledSignatures:
        """Signatures in priority order, without the disabled ones."""
        return CompiledSignatures.build(self._signatures or load_signatures(), cfg.disabled_signatures)

    # --- detection ---------------------------------------------------------------------------------------------

    def scan(self, events: pa.Table, ctx: DetectContext) -> pl.DataFrame:
        """One row per event that looks like circumvention: the event's columns plus rule, severity, why."""
        cfg = self.config(ctx)
        df = pl.from_arrow(events.select(list(_COLUMNS)))
        assert isinstance(df, pl.DataFrame)
        df = df.with_row_index("_row")
        if cfg.exempt_users or cfg.exempt_groups:
            df = df.filter(~pl.col("user").fill_null("").is_in(cfg.exempt_users)
                           & ~pl.col("user_group").fill_null("").is_in(cfg.exempt_groups))
        hits = self._deterministic_hits(df, cfg)
        model_hits = self._model_hits(df, hits, cfg, ctx)
        beh = behaviour.behaviour_hits(df, ctx, cfg.behaviour, cfg.allow_domains) if cfg.behaviour.enabled else None
        frames = [h for h in (hits, model_hits, beh) if h is not None and h.height]
        if not frames:
            return df.head(0).join(pl.DataFrame(schema=_HIT_SCHEMA), on="_row").with_columns(
                pl.lit(0, pl.Int32).alias("severity"))
        allh = pl.concat(frames, how="vertical_relaxed").cast(_HIT_SCHEMA)  # type: ignore[arg-type]
        blocked = pl.col("action").is_in(list(BLOCKED))
        out = allh.join(df, on="_row", how="inner").with_columns(
            pl.when(blocked).then(pl.max_horizontal(pl.lit(1), pl.min_horizontal(pl.col("base") - 1, pl.lit(3))))
            .otherwise(pl.col("base")).cast(pl.Int32).alias("severity")
        )
        # Strongest reason per event; ties broken by rule name so the choice is deterministic.
        out = out.sort(["_row", "severity", "rule"], descending=[False, True, False]).unique("_row", keep="first",
                                                                                          maintain_order=True)
        return out.sort("_row")

    def _deterministic_hits(self, df: pl.DataFrame, cfg: CircumventionConfig) -> pl.DataFrame:
        compiled = self.compiled(cfg)
        parts: list[pl.DataFrame] = []
        sig_hits = compiled.match(df)
        if sig_hits.height:
            sigs = compiled.signatures
            meta = pl.DataFrame({
                "sig": list(range(len(sigs))),
                "rule": [f"signature:{s.id}" for s in sigs],
                "base": [s.severity for s in sigs],
                "title": [s.title for s in sigs],
                "why": [s.explain for s in sigs],
            }, schema={"sig": pl.Int32, "rule": pl.String, "base": pl.Int32, "title": pl.String, "why": pl.String})
            sh = sig_hits.join(meta, on="sig").join(df.select("_row", "host", "url"), on="_row")
            sh = sh.with_columns(pl.coalesce("url", "host").alias("matched"), pl.lit("signature").alias("kind"))
            parts.append(self._upgrade_translate(sh, cfg).select(list(_HIT_SCHEMA)))
        lists = self.lists(cfg)
        if not lists.empty:
            parts.append(self._list_hits(df, lists, cfg))
        cats = category_hits(df, cfg)
        if cats.height:
            parts.append(cats.select(
                "_row", ("category:" + pl.col("cat_name")).alias("rule"), pl.col("cat_sev").alias("base"),
                pl.lit("The school filter classed a site as a proxy, VPN or anonymiser").alias("title"),
                ("The school filter put this site in its '" + pl.col("cat_name") + "' category: a service for "
                 "getting round the filter (web proxy, VPN, anonymiser or encrypted DNS).").alias("why"),
                pl.col("cat_name").alias("matched"), pl.lit("category").alias("kind"),
            ))
        if not parts:
            return pl.DataFrame(schema=_HIT_SCHEMA)
        return pl.concat(parts, how="vertical_relaxed").cast(_HIT_SCHEMA)  # type: ignore[arg-type]

    def _list_hits(self, df: pl.DataFrame, lists: Lists, cfg: CircumventionConfig) -> pl.DataFrame:
        keys = pl.concat([df["host"], df["dst_ip"]]).drop_nulls().unique()
        matched = match_hosts(keys, lists).filter(pl.col("alert") > 0)
        allowed = [h for h in matched["host"].to_list() if not is_ordinary(h, cfg.allow_domains)]
        matched = matched.filter(pl.col("host").is_in(allowed))
        rows = []
        for col in ("host", "dst_ip"):
            rows.append(df.select("_row", pl.col(col).alias("host")).join(matched, on="host", how="inner"))
        url_hits = match_urls(df, lists).filter(pl.col("alert") > 0)
        url_hits = url_hits.join(df.select("_row", "host"), on="_row")
        hits = pl.concat([*[r.select("_row", "host", "labels", "alert") for r in rows],
                          url_hits.select("_row", "host", "labels", "alert")], how="vertical_relaxed")
        return hits.select(
            "_row", ("list:" + pl.col("labels").str.split(";").list.first()).alias("rule"),
            pl.col("alert").alias("base"),
            pl.lit("Site on a circumvention blocklist").alias("title"),
            ("The site " + pl.col("host") + " is on a blocklist of proxy, VPN or filter-bypass services ("
             + pl.col("labels") + ").").alias("why"),
            pl.col("host").alias("matched"), pl.lit("list").alias("kind"),
        )

    def _upgrade_translate(self, sh: pl.DataFrame, cfg: CircumventionConfig) -> pl.DataFrame:
        """A translate proxy whose inner site is listed (or itself a proxy) is graded as that site."""
        is_tr = pl.col("rule").str.starts_with("signature:translate.")
        tr = sh.filter(is_tr)
        if tr.height == 0:
            return sh
        from detectors.unwrap import unwrap_url

        urls = tr["url"].drop_nulls().unique().to_list()
        inner = {u: unwrap_url(u) for u in urls}
        inner_host = {u: _host_of(i) for u, i in inner.items() if i}
        hits = match_hosts(pl.Series(list(set(inner_host.values())), dtype=pl.String), self.lists(cfg))
        bad = {h: lab for h, lab, v, a in hits.select("host", "labels", "vigil", "alert").iter_rows()
               if (a or 0) > 0 or (v or "") not in ("", CATEGORY)}
        up = {u: f"{h} ({bad[h]})" for u, h in inner_host.items() if h in bad}
        if not up:
            return sh
        flag = pl.col("url").replace_strict(up, default=None, return_dtype=pl.String)
        return sh.with_columns(
            pl.when(is_tr & flag.is_not_null()).then(pl.lit(4, pl.Int32)).otherwise(pl.col("base")).alias("base"),
            pl.when(is_tr & flag.is_not_null())
            .then(pl.col("why") + " The site inside is on a blocklist: " + flag + ".")
            .otherwise(pl.col("why")).alias("why"),
        )

    def _model_hits(self, df: pl.DataFrame, hits: pl.DataFrame, cfg: CircumventionConfig,
                    ctx: DetectContext) -> pl.DataFrame | None:
        model = self.model(cfg)
        if model is None:
            return None
        known = set(hits.join(df.select("_row", "host"), on="_row")["host"].drop_nulls().to_list())
        lists = self.lists(cfg)
        hosts = df["host"].drop_nulls().unique()
        hosts = hosts.filter(~hosts.str.contains(r"^\d{1,3}(\.\d{1,3}){3}$|:"))
        listed = set(match_hosts(hosts, lists)["host"].to_list()) if not lists.empty else set()
        cand = [h for h in hosts.sort().to_list()
                if h not in known and h not in listed and "." in h and not is_ordinary(h, cfg.allow_domains)]
        if not cand:
            return None
        threshold = cfg.model_threshold if cfg.model_threshold is not None else model.threshold
        scores = model.score(cand)
        flagged = {h: float(s) for h, s in zip(cand, scores, strict=True) if s >= threshold}
        start = df["ts"].min()
        if flagged and ctx.warehouse is not None and isinstance(start, datetime):
            for school in df["school"].drop_nulls().unique().to_list():
                seen = behaviour.seen_before(ctx.warehouse, str(school), list(flagged), start,
                                             cfg.behaviour.history_days)
                for h in seen:
                    flagged.pop(h, None)
        if not flagged:
            return None
        score_s = pl.DataFrame({"host": list(flagged), "score": list(flagged.values())})
        return df.select("_row", "host").join(score_s, on="host").select(
            "_row", pl.lit("model:domain").alias("rule"), pl.lit(2, pl.Int32).alias("base"),
            pl.lit("New site whose name looks like a proxy or VPN").alias("title"),
            ("The site " + pl.col("host") + " is not on any list, but its name looks like a proxy, unblocker or "
             "VPN site (model score " + pl.col("score").round(2).cast(pl.String) + "). Worth a check.").alias("why"),
            pl.col("host").alias("matched"), pl.lit("model").alias("kind"),
        )

    def detect(self, events: pa.Table, ctx: DetectContext) -> Sequence[Alert]:
        """Alerts for this batch, folded per user (or device) per episode window."""
        if events.num_rows == 0:
            return []
        cfg = self.config(ctx)
        if not cfg.enabled:
            return []
        found = self.scan(events, ctx)
        if found.height == 0:
            return []
        ranks: dict[str, float] = {}
        if cfg.behaviour.enabled:
            users = pl.from_arrow(events.select(["user", "action", "category", "host", "method"]))
            assert isinstance(users, pl.DataFrame)
            ranks = behaviour.rank_users(users)
        return fold(found, ctx, cfg, ranks)


def _host_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower() or None
    except ValueError:
        return None


def _iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat() if ts else None


def fold(found: pl.DataFrame, ctx: DetectContext, cfg: CircumventionConfig,
         ranks: Mapping[str, float] | None = None) -> list[Alert]:
    """Group hits into episodes: one alert per (school, user or device, episode window)."""
    found = found.with_columns(pl.coalesce("user", "client_ip").alias("_subject"))
    found = found.sort(["school", "_subject", "ts", "origin"], nulls_last=True)
    alerts: list[Alert] = []
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    # Episode hits are few (rows that already matched); the per-row Python here never sees the whole batch.
    for row in found.iter_rows(named=True):
        key = (row["school"] or "default", row["_subject"], episode_start(row["ts"]))
        groups.setdefault(key, []).append(row)
    for (school, _subject, _window), rows in groups.items():
        alerts.append(_episode(school, rows, ctx, cfg, ranks or {}))
    return alerts


def _episode(school: str, rows: list[dict[str, Any]], ctx: DetectContext, cfg: CircumventionConfig,
             ranks: Mapping[str, float]) -> Alert:
    strongest = max(rows, key=lambda r: (r["severity"], r["kind"] != "model", r["rule"]))
    severity = int(strongest["severity"])
    kinds = {r["kind"] for r in rows}
    model_hosts = {r["host"] for r in rows if r["kind"] == "model"}
    if kinds == {"model"}:
        # The model alone: 2, or 3 when one pupil keeps reaching several new proxy-looking sites.
        severity = 3 if len(model_hosts) >= cfg.model_repeat_hosts else min(severity, 2)
    reasons: list[str] = []
    for r in sorted(rows, key=lambda r: (-r["severity"], r["rule"])):
        if r["why"] not in reasons:
            reasons.append(r["why"])
    rules: dict[str, int] = {}
    for r in rows:
        rules[r["rule"]] = rules.get(r["rule"], 0) + 1
    user = strongest["user"]
    evidence: dict[str, Any] = {
        "why": " ".join(reasons[:5]),
        "reasons": reasons,
        "matched": strongest["matched"],
        "url": strongest["url"],
        "host": strongest["host"],
        "search_terms": next((r["search_terms"] for r in rows if r["search_terms"]), None),
        "rules": dict(sorted(rules.items())),
        "hosts": sorted({r["host"] for r in rows if r["host"]}),
        "blocked": sum(1 for r in rows if r["action"] in BLOCKED),
        "allowed": sum(1 for r in rows if r["action"] not in BLOCKED),
        # IsolationForest rank of this user within the batch: for ordering a review list, never a reason.
        "anomaly_rank": ranks.get(user) if user else None,
        "events": [
            {"ts": _iso(r["ts"]), "url": r["url"], "host": r["host"], "action": r["action"], "method": r["method"],
             "dst_ip": r["dst_ip"], "dst_port": r["dst_port"], "category": r["category"],
             "search_terms": r["search_terms"], "rule": r["rule"], "severity": r["severity"], "origin": r["origin"],
             "raw": r["raw"]}
            for r in rows[:MAX_EVIDENCE_EVENTS]
        ],
    }
    return Alert(
        school=school,
        ts=rows[0]["ts"],
        last_ts=rows[-1]["ts"],
        user=user,
        client_ip=strongest["client_ip"],
        detector=DETECTOR,
        rule=strongest["rule"],
        category=CATEGORY,
        severity=severity,
        title=strongest["title"],
        evidence=evidence,
        event_keys=tuple(sorted({r["origin"] for r in rows if r["origin"]})),
        subject_kind="staff" if user and user in ctx.staff_users else ("pupil" if user else "unknown"),
    )
