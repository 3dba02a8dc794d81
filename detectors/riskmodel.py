"""The keyword risk model: character + word n-gram linear models that grade intent and context.

Two heads over one TF-IDF feature union of the match view (so evasions look like their plain form):
`concern` (binary: is this the concerning sense, or curriculum/everyday/look-alike) and `severity`
(1-5, trained on concerning rows only). Only candidate rows (a phrase already matched) are scored.
Deterministic: fixed seeds, sorted vocabulary, lbfgs. The fitted model is a versioned file in the repo.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from detectors.errors import ModelError
from detectors.normalise import match_view
from detectors.trainingdata import QUERIES_CSV, Row, read_csv

if TYPE_CHECKING:  # sklearn takes ~0.5 s to import: only fitting needs it (loading imports it itself)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

MODEL_PATH = Path(__file__).parent / "models" / "keyword_risk.joblib"
MODEL_VERSION = 1
SEED = 20261124


def _features() -> FeatureUnion:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=40_000,
                    dtype=np.float32,
                ),
            ),
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    min_df=1,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                    max_features=20_000,
                    dtype=np.float32,
                ),
            ),
        ]
    )


@dataclass
class RiskModel:
    """A fitted model: `score(texts)` -> (P(concerning sense), expected severity 1..5)."""

    features: FeatureUnion
    concern: LogisticRegression
    severity: LogisticRegression
    meta: dict[str, Any]

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probability of the concerning sense and the expected severity, per text."""
        if not texts:
            return np.zeros(0), np.zeros(0)
        x = self.features.transform([match_view(t) for t in texts])
        p = self.concern.predict_proba(x)[:, list(self.concern.classes_).index(1)]
        probs = self.severity.predict_proba(x)
        sev = probs @ self.severity.classes_.astype(float)
        return p, sev


def fit(rows: Sequence[Row]) -> RiskModel:
    """Fit both heads on the given rows (callers pass the train split only)."""
    from sklearn.linear_model import LogisticRegression

    texts = [match_view(r.text) for r in rows]
    features = _features()
    x = features.fit_transform(texts)
    y_concern = np.array([0 if r.benign else 1 for r in rows])
    concern = LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000, random_state=SEED)
    concern.fit(x, y_concern)
    mask = y_concern == 1
    severity = LogisticRegression(C=4.0, max_iter=2000, random_state=SEED)
    severity.fit(x[mask], np.array([r.severity for r in rows])[mask])
    meta = {"version": MODEL_VERSION, "rows": len(rows), "seed": SEED}
    return RiskModel(features, concern, severity, meta)


def evaluate(model: RiskModel, rows: Sequence[Row]) -> dict[str, Any]:
    """Held-out metrics of the model alone: concern precision/recall, severity accuracy (within one)."""
    p, sev = model.score([r.text for r in rows])
    y = np.array([0 if r.benign else 1 for r in rows])
    pred = (p >= 0.5).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    sev_true = np.array([r.severity for r in rows])[y == 1]
    within = float((np.abs(np.rint(sev[y == 1]) - sev_true) <= 1).mean()) if (y == 1).any() else 0.0
    exact = float((np.rint(sev[y == 1]) == sev_true).mean()) if (y == 1).any() else 0.0
    return {
        "rows": len(rows),
        "concern_precision": round(tp / max(tp + fp, 1), 4),
        "concern_recall": round(tp / max(tp + fn, 1), 4),
        "benign_false_concern_rate": round(fp / max(int((y == 0).sum()), 1), 4),
        "severity_exact": round(exact, 4),
        "severity_within_one": round(within, 4),
    }


def train(csv_path: Path = QUERIES_CSV, out_path: Path = MODEL_PATH) -> dict[str, Any]:
    """Train on the train split, evaluate on the held-out split, save the model; returns the metrics."""
    rows = read_csv(csv_path)
    train_rows = [r for r in rows if r.split == "train"]
    test_rows = [r for r in rows if r.split == "test"]
    model = fit(train_rows)
    metrics = {"train": evaluate(model, train_rows), "test": evaluate(model, test_rows)}
    model.meta["metrics"] = metrics
    out_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(
        {"features": model.features, "concern": model.concern, "severity": model.severity, "meta": model.meta},
        out_path,
        compress=3,
    )
    (out_path.with_suffix(".json")).write_text(json.dumps(model.meta, indent=2, sort_keys=True) + "\n")
    load_model.cache_clear()
    return metrics


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> RiskModel:
    """The fitted model from disk (cached)."""
    try:
        data = joblib.load(path)
    except FileNotFoundError as exc:
        raise ModelError(f"keyword risk model not found at {path}; run `vigil model train --keywords`") from exc
    except Exception as exc:  # a corrupt or incompatible pickle: say so in one line
        raise ModelError(f"keyword risk model at {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if data.get("meta", {}).get("version") != MODEL_VERSION:
        raise ModelError(
            f"keyword risk model at {path} is version {data.get('meta', {}).get('version')}, "
            f"expected {MODEL_VERSION}; run `vigil model train --keywords`"
        )
    return RiskModel(data["features"], data["concern"], data["severity"], data["meta"])
