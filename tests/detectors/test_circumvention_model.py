"""The domain model: the TLD-only guard, training from lists, save/load, severity cap in the detector."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from detectors.base import DetectContext
from detectors.circumvention import CircumventionDetector
from detectors.circumvention_config import BehaviourConfig, CircumventionConfig
from detectors.domain_model import DomainModel, fit, train
from detectors.lists import import_lists, lists_for

_spec = importlib.util.spec_from_file_location("circ_helpers", Path(__file__).parent / "circ_helpers.py")
assert _spec and _spec.loader
helpers = importlib.util.module_from_spec(_spec)
sys.modules["circ_helpers"] = helpers
_spec.loader.exec_module(helpers)
event, table = helpers.event, helpers.table

WORDS = ["river", "maple", "stone", "cloud", "amber", "north", "pixel", "lunar", "cedar", "coral", "delta", "ember"]


def test_model_cannot_learn_the_tld_alone() -> None:
    # Labels perfectly separated by TLD, names drawn from the same pool: a TLD-feature model would score 1.0.
    names = [f"{a}{b}{i}" for i, (a, b) in enumerate((a, b) for a in WORDS for b in WORDS)]
    hosts = [f"{n}.tk" for n in names[::2]] + [f"{n}.co.uk" for n in names[1::2]]
    labels = [1] * len(names[::2]) + [0] * len(names[1::2])
    coef, icpt = fit(hosts, labels)
    model = DomainModel(coef, icpt, 0.5, {})
    probe = ["amberriver77", "cedarcloud5", "pixellunar900"]
    for suffix_a, suffix_b in [("tk", "co.uk"), ("tk", "com"), ("vercel.app", "ac.uk")]:
        a = model.score([f"{p}.{suffix_a}" for p in probe])
        b = model.score([f"{p}.{suffix_b}" for p in probe])
        assert np.allclose(a, b)


def _synthetic_lists(root: Path) -> Path:
    src = root / "src"
    pos = [f"{w}{k}.{t}" for w in ("proxy", "unblock", "vpn", "bypass", "hideme", "anonsurf") for k in
           ("fast", "free", "best", "school", "pro", "now", "web", "go") for t in ("tk", "com", "info")]
    neg = [f"{w}{k}.{t}" for w in WORDS for k in ("shop", "news", "sports", "bank", "travel", "garden", "music")
           for t in ("com", "co.uk", "fr")]
    for cat, names in (("redirector", pos), ("shopping", neg)):
        (src / cat).mkdir(parents=True)
        (src / cat / "domains").write_text("\n".join(names) + "\n")
    return src


def test_train_save_load_and_detector_cap(tmp_path: Path) -> None:
    import_lists(_synthetic_lists(tmp_path), tmp_path / "lists", "synth")
    lists = lists_for(tmp_path / "lists")
    model, meta = train(lists)
    assert meta["train_positive"] > 0 and meta["train_negative"] > 0
    path = tmp_path / "models" / "circumvention.npz"
    model.save(path)
    loaded = DomainModel.load(path)
    hosts = ["superproxyfast.xyz", "riverbakery.co.uk"]
    assert np.allclose(loaded.score(hosts), model.score(hosts), atol=1e-5)
    assert loaded.score(["megaunblockfree.lol"])[0] > loaded.score(["cedargardening.com"])[0]
    cfg = CircumventionConfig(model_threshold=0.5, behaviour=BehaviourConfig(enabled=False))
    det = CircumventionDetector(config=cfg, lists=lists, model=loaded)
    one = det.detect(table([event(0, url="https://megaunblockfree.lol/")]), DetectContext())
    assert [(a.rule, a.severity) for a in one] == [("model:domain", 2)]
    many = [event(i, url=f"https://{h}/") for i, h in
            enumerate(["megaunblockfree.lol", "proxyschoolgo.site", "vpnfastnow.top", "www.google.com"])]
    (alert,) = det.detect(table(many), DetectContext())
    assert alert.severity == 3 and len(alert.evidence["hosts"]) == 3  # repeated model-only hits: 3, never more
