"""The phrase library: data files, languages, context rules, school phrases, licensed-list slot."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from detectors.base import CATEGORIES
from detectors.config import DetectionConfig, parse_detection_config
from detectors.errors import DetectionConfigError
from detectors.phrases import PHRASE_DIR, builtin_phrases, compile_library

HIGH_SEVERITY = ("suicide_self_harm", "extremism", "sexual_exploitation", "abuse", "weapons_violence")
LANGUAGES = ("en", "cy", "pl", "ur", "pa", "ar", "es", "fr", "pt", "ro")


def test_one_file_per_category_and_valid_fields() -> None:
    files = {p.stem for p in PHRASE_DIR.glob("*.toml")}
    assert files == set(CATEGORIES)
    for ph in builtin_phrases():
        assert ph.category in CATEGORIES and 1 <= ph.severity <= 5 and ph.text.strip()


def test_high_severity_categories_cover_every_required_language() -> None:
    langs: dict[str, set[str]] = defaultdict(set)
    for ph in builtin_phrases():
        if ph.severity >= 4:
            langs[ph.category].add(ph.lang)
    for category in HIGH_SEVERITY:
        assert set(LANGUAGES) <= langs[category], (category, set(LANGUAGES) - langs[category])


def _ids(text: str, cfg: DetectionConfig | None = None) -> set[str]:
    return {h.phrase.id for h in compile_library(cfg or DetectionConfig()).match(text)}


def test_word_boundaries_prevent_scunthorpe() -> None:
    assert _ids("scunthorpe united") == set()
    assert _ids("grape juice and drapes") == set()
    assert _ids("rapeseed oil") == set()
    assert "abuse:en:rape" in _ids("what to do after rape")


def test_run_together_forms_match_only_long_phrases() -> None:
    assert "suicide_self_harm:en:kill myself" in _ids("howtokillmyself")
    assert _ids("skillsmyselfie") == set()


def test_excludes_and_requires() -> None:
    assert _ids("isis egyptian goddess") == set()
    assert "extremism:en:isis" in _ids("isis flag")
    cfg = DetectionConfig(
        phrases=(
            {
                "phrase": "behind the sports hall",
                "category": "bullying",
                "severity": 3,
                "requires_any": ["fight", "meet"],
            },
        )
    )  # type: ignore[arg-type]
    assert _ids("behind the sports hall", cfg) == set()
    assert "bullying:en:behind the sports hall" in _ids("fight behind the sports hall", cfg)


def test_school_exclusions_and_disabled_phrases() -> None:
    cfg = parse_detection_config({"exclude_terms": ["isis project"], "disabled_phrases": ["suicide_self_harm:en:kms"]})
    assert _ids("isis project join isis", cfg) == set()
    assert _ids("kms", cfg) == set()
    assert _ids("kms") == {"suicide_self_harm:en:kms"}


def test_bad_school_config_is_one_clear_error() -> None:
    with pytest.raises(DetectionConfigError, match="category"):
        parse_detection_config({"phrases": [{"phrase": "abc", "category": "nope"}]})
    with pytest.raises(DetectionConfigError, match="detection"):
        parse_detection_config({"unknown_key": 1})


def test_licensed_list_slot_loads_from_a_path(tmp_path: Path) -> None:
    listing = tmp_path / "licensed.txt"
    listing.write_text("# synthetic stand-in for a licensed list\nzzqx forbidden term\n")
    cfg = parse_detection_config({"licensed_lists": [{"path": str(listing), "name": "test"}]})
    lib = compile_library(cfg)
    hits = lib.match("zzqx forbidden term")
    assert [h.phrase.source for h in hits] == ["licensed:test"] and hits[0].phrase.always
    missing = parse_detection_config({"licensed_lists": [{"path": str(tmp_path / "absent.txt")}]})
    with pytest.raises(DetectionConfigError, match="cannot read"):
        compile_library(missing)


def test_help_seeking() -> None:
    lib = compile_library(DetectionConfig())
    assert lib.help_seeking("samaritans number")
    assert lib.help_seeking("childline i want to die")
    assert not lib.help_seeking("i want to die")
    assert lib.is_help_host("www.childline.org.uk", "childline.org.uk")


def test_detection_config_from_either_context_shape() -> None:
    from detectors.base import DetectContext
    from detectors.config import detection_config

    nested = DetectContext(options={"detection": {"cohort_min_users": 7}})
    flat = DetectContext(options={"cohort_min_users": 9, "circumvention": {"other": "detector"}})
    assert detection_config(nested).cohort_min_users == 7
    assert detection_config(flat).cohort_min_users == 9
