"""The keyword risk model: shipped file loads, training is deterministic, held-out split is honest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detectors.riskmodel import MODEL_PATH, fit, load_model
from detectors.trainingdata import QUERIES_CSV, generate, read_csv


def test_shipped_model_separates_senses() -> None:
    model = load_model(MODEL_PATH)
    p, sev = model.score(["how to kill myself tonight", "kill a process in linux", "romeo and juliet suicide scene"])
    assert p[0] > 0.9 and p[1] < 0.3 and p[2] < 0.3
    assert 4.5 <= sev[0] <= 5


def test_dataset_is_large_multilingual_and_reproducible() -> None:
    rows = read_csv(QUERIES_CSV)
    assert len(rows) >= 3000
    assert {r.language for r in rows} >= {"en", "cy", "pl", "ur", "pa", "ar", "es", "fr", "pt", "ro"}
    assert sum(r.benign for r in rows) >= 500
    regenerated = [(r.text, r.split) for r in generate()]
    assert regenerated == [(r.text, r.split) for r in rows], (
        "queries.csv is stale: run python -m detectors.trainingdata"
    )


def test_held_out_split_is_never_trained_on() -> None:
    rows = read_csv(QUERIES_CSV)
    train = {r.text for r in rows if r.split == "train"}
    test = {r.text for r in rows if r.split == "test"}
    assert test and not (train & test)
    model = load_model(MODEL_PATH)
    assert model.meta["rows"] == len(train)


def test_training_is_deterministic(tmp_path: Path) -> None:
    rows = [r for r in read_csv(QUERIES_CSV) if r.split == "train"][::4]
    probe = ["how to join isis", "isis goddess", "buy weed", "weed killer"]
    a = fit(rows).score(probe)
    b = fit(rows).score(probe)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
