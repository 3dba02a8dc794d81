"""A lexical model for first-seen hosts: does this name look like a proxy/VPN/unblocker site?

Features are hashed character 2-5-grams of the host's *label* (the part left of the public suffix,
private suffixes such as vercel.app or github.io included) and of its subdomain, plus four shape
features. The public suffix itself is never a feature, so the model cannot learn "`.tk` is bad": a name
scores the same under every suffix (tested). Linear model: logistic regression, class-balanced.
Training data are whatever lists were imported: circumvention categories that alert (redirector, vpn,
doh, residential proxies, remote control) against every other category plus Vigil's shipped ordinary
school domains. Deduplicated by label, so 30 `blade*.nodes.gen4.ninja` rows count once per label.

Stored as `<data>/models/circumvention.npz` (coefficients, intercept, threshold, metadata): plain arrays,
no pickle, so loading a model file can never execute code. The threshold is set at a 0.1% false-positive
rate on held-out ordinary domains. The model never alerts above severity 2 on its own (circumvention.py).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import tldextract

from detectors.lists import DATA_DIR, Lists, list_category_map
from vigil.errors import InputError

if TYPE_CHECKING:  # scikit-learn and scipy load lazily: `vigil` starts fast when no model is used
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**20
TARGET_FPR = 0.001
MODEL_VERSION = 1
_DENSE = 4


@lru_cache(maxsize=1)
def _extract() -> tldextract.TLDExtract:
    # Private suffixes (vercel.app, github.io, appspot.com) count as suffixes: the label is the site's own name.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=200_000)
def split_host(host: str) -> tuple[str, str, str]:
    """(subdomain, label, suffix) of a host, lower-cased; `www` and similar prefixes dropped from the subdomain."""
    r = _extract()(host.lower().strip("."))
    sub = r.subdomain
    for prefix in ("www.", "m."):
        sub = sub.removeprefix(prefix)
    if sub in ("www", "m"):
        sub = ""
    return sub, r.domain, r.suffix


@lru_cache(maxsize=1)
def ordinary_domains() -> frozenset[str]:
    """Vigil's shipped list of ordinary school domains (written for Vigil; see data/circumvention/README.md)."""
    lines = (DATA_DIR / "ordinary_domains.txt").read_text().splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def is_ordinary(host: str, extra: Sequence[str] = ()) -> bool:
    """True when the host is, or is under, a shipped or configured ordinary domain."""
    names = ordinary_domains() | {e.lower() for e in extra}
    parts = host.lower().split(".")
    return any(".".join(parts[i:]) in names for i in range(len(parts) - 1))


def _vectorizer() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char", ngram_range=(2, 5), n_features=N_FEATURES, alternate_sign=False,
                             norm="l2", lowercase=True)


def _dense(label: str) -> list[float]:
    n = max(len(label), 1)
    counts: dict[str, int] = {}
    for c in label:
        counts[c] = counts.get(c, 0) + 1
    entropy = -sum(k / n * math.log2(k / n) for k in counts.values())
    return [min(len(label), 40) / 40, sum(c.isdigit() for c in label) / n, min(label.count("-"), 5) / 5, entropy / 5]


def features(hosts: Sequence[str]) -> sp.csr_matrix:
    """The model's feature matrix for host names (suffix excluded by construction)."""
    import scipy.sparse as sp

    parts = [split_host(h) for h in hosts]
    texts = [f"<{label}> [{sub}]" if sub else f"<{label}>" for sub, label, _ in parts]
    grams = _vectorizer().transform(texts)
    dense = sp.csr_matrix(np.array([_dense(label) for _, label, _ in parts], dtype=np.float64).reshape(-1, _DENSE))
    return sp.hstack([grams, dense], format="csr")


@dataclass(frozen=True)
class DomainModel:
    """Coefficients plus the alert threshold; `score` is a probability-like 0..1."""

    coef: np.ndarray
    intercept: float
    threshold: float
    meta: dict[str, Any]

    def score(self, hosts: Sequence[str]) -> np.ndarray:
        """Scores for host names (0..1)."""
        if not hosts:
            return np.zeros(0)
        z = features(hosts) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def save(self, path: Path) -> None:
        """Write as .npz (arrays + JSON metadata), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez_compressed(tmp, coef=self.coef.astype(np.float32), intercept=np.array([self.intercept]),
                            threshold=np.array([self.threshold]), meta=np.array(json.dumps(self.meta)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DomainModel:
        """Read a model written by `save` (never unpickles)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["coef"].astype(np.float64), float(z["intercept"][0]), float(z["threshold"][0]),
                           json.loads(str(z["meta"])))
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"model: cannot read {path}: {exc}") from exc


_MODEL_CACHE: dict[tuple[str, float], DomainModel] = {}


def load_model_cached(path: Path) -> DomainModel | None:
    """The model at path (cached by mtime), or None when there is none."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = (str(path), mtime)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = DomainModel.load(path)
    return _MODEL_CACHE[key]


# --- training data -------------------------------------------------------------------------------------------


def positive_categories() -> frozenset[str]:
    """List categories the model learns as circumvention (those that alert)."""
    return frozenset(n for n, m in list_category_map().items() if m.vigil == "circumvention" and m.alert > 0)


def training_frame(lists: Lists) -> pl.DataFrame:
    """`host`, `label` (1 = circumvention), `group` (the label text, for dedupe and grouped splits), `suffix`."""
    pos = positive_categories()
    doms = lists.domains.select(
        "domain", pl.col("categories").list.eval(pl.element().is_in(list(pos))).list.any().alias("is_pos"),
        pl.col("vigil").fill_null("").alias("vigil"), "alert",
    )
    # Annotate-only circumvention categories (translation, dynamic-dns) are neither positive nor ordinary.
    doms = doms.filter(pl.col("is_pos") | (pl.col("vigil") != "circumvention"))
    ordinary = pl.DataFrame({"domain": sorted(ordinary_domains()), "is_pos": False})
    frame = pl.concat([doms.select("domain", "is_pos"), ordinary], how="vertical_relaxed")
    hosts = frame["domain"].to_list()
    parts = [split_host(h) for h in hosts]
    frame = frame.with_columns(
        pl.Series("group", [f"{sub}|{label}" for sub, label, _ in parts]),
        pl.Series("suffix", [s for _, _, s in parts]),
        pl.Series("lbl", [label for _, label, _ in parts]),
    ).filter(pl.col("lbl") != "")
    # One row per (subdomain, label): positives win a tie, so a name listed anywhere as a proxy is a proxy.
    frame = frame.sort(["group", "is_pos"], descending=[False, True]).unique("group", keep="first",
                                                                          maintain_order=True)
    return frame.select(pl.col("domain").alias("host"), pl.col("is_pos").cast(pl.Int8).alias("label"), "group",
                        "suffix")


def stable_fraction(text: str) -> float:
    """A deterministic 0..1 value per string (for reproducible splits)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def fit(hosts: Sequence[str], labels: Sequence[int], *, c: float = 4.0) -> tuple[np.ndarray, float]:
    """Fit the logistic regression; returns (coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2:
        raise InputError("model: training needs both circumvention and ordinary domains (import lists first)")
    clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=200)
    clf.fit(features(hosts), np.asarray(labels))
    return clf.coef_.ravel().astype(np.float64), float(clf.intercept_[0])


def threshold_at_fpr(neg_scores: np.ndarray, fpr: float = TARGET_FPR) -> float:
    """The smallest score above which at most `fpr` of these negatives fall."""
    if neg_scores.size == 0:
        return 0.5
    return float(np.quantile(neg_scores, 1.0 - fpr, method="higher")) + 1e-9


def train(lists: Lists, *, max_per_class: int = 80_000, seed_split: float = 0.2) -> tuple[DomainModel, dict[str, Any]]:
    """Train from imported lists; the threshold comes from a held-out 20% of ordinary domains (grouped)."""
    frame = training_frame(lists)
    frame = frame.with_columns(pl.col("group").map_elements(stable_fraction, return_dtype=pl.Float64).alias("_f"))
    calib = frame.filter(pl.col("_f") < seed_split)
    fit_rows = frame.filter(pl.col("_f") >= seed_split)
    fit_rows = pl.concat([
        part.sort("_f").head(max_per_class) for part in fit_rows.partition_by("label", maintain_order=True)
    ])
    coef, intercept = fit(fit_rows["host"].to_list(), fit_rows["label"].to_list())
    model = DomainModel(coef, intercept, 0.5, {})
    neg = calib.filter(pl.col("label") == 0)["host"].to_list()
    pos = calib.filter(pl.col("label") == 1)["host"].to_list()
    neg_scores, pos_scores = model.score(neg), model.score(pos)
    threshold = threshold_at_fpr(neg_scores)
    recall = float((pos_scores >= threshold).mean()) if len(pos) else 0.0
    meta = {
        "version": MODEL_VERSION,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "lists": [s.get("name") for s in lists.sets],
        "train_positive": int(fit_rows["label"].sum()),
        "train_negative": int((fit_rows["label"] == 0).sum()),
        "calibration_negative": len(neg),
        "calibration_positive": len(pos),
        "target_fpr": TARGET_FPR,
        "calibration_recall": round(recall, 4),
    }
    return DomainModel(coef, intercept, threshold, meta), meta


def train_and_save(lists: Lists, path: Path) -> dict[str, Any]:
    """`vigil model train --circumvention`: train from the imported lists and write the model file."""
    if lists.empty:
        raise InputError("model: no lists imported (run `vigil lists import DIR` first)")
    model, meta = train(lists)
    model.save(path)
    _MODEL_CACHE.clear()
    return {"path": str(path), **meta}


def train_default(out: Path | None = None) -> dict[str, Any]:
    """Train from the lists imported under the active data directory; write `<data>/models/circumvention.npz`.

    This is what `vigil model train --circumvention` calls (`--out` overrides the path).
    """
    from detectors.circumvention_config import load_config
    from detectors.lists import lists_for
    from vigil.settings import get_settings

    settings = get_settings()
    cfg = load_config(settings.section("circumvention"))
    lists = lists_for(cfg.lists_dir or settings.data_dir / "lists")
    target = out or cfg.model_path or settings.data_dir / "models" / "circumvention.npz"
    return {"model": "circumvention", **train_and_save(lists, target)}
