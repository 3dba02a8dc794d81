"""Builds the keyword risk model's labelled dataset (`detectors/data/training/queries.csv`), deterministically.

Sources, all written for Vigil: every phrase of the phrase library (concerning, at the phrase's severity),
hand-written intent-bearing searches and benign look-alikes in `data/training/seeds.toml`. Expansion:
neutral per-language wrappers ("{p} reddit"), curriculum wrappers for benign rows ("{p} gcse"), and one
evasion variant per concerning row (leetspeak, spacing, repeats, homoglyphs, hashtags, zero-width).
Split: concerning rows by a hash of the query (unseen query strings), benign rows by a hash of the
*seed* (unseen look-alike topics), about one in five held out. Run `python -m detectors.trainingdata`.
"""

from __future__ import annotations

import csv
import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from detectors.phrases import builtin_phrases

TRAINING_DIR = Path(__file__).parent / "data" / "training"
SEEDS = TRAINING_DIR / "seeds.toml"
QUERIES_CSV = TRAINING_DIR / "queries.csv"
FIELDS = ("text", "category", "severity", "language", "benign", "split", "source")
_HOMO = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"})
_LEET = str.maketrans({"i": "1", "e": "3", "o": "0", "a": "4", "s": "5"})


@dataclass(frozen=True)
class Row:
    """One labelled query."""

    text: str
    category: str
    severity: int
    language: str
    benign: bool
    split: str
    source: str


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _split(key: str) -> str:
    return "test" if _h(key) % 5 == 0 else "train"


def evasion(text: str) -> tuple[str, str]:
    """One deterministic evasion variant of a query and the technique's name."""
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    kind = ("leet", "spaced", "repeat", "homoglyph", "hashtag", "zero_width")[_h(text) % 6]
    if not text.isascii() or len(word) < 4:
        kind = "repeat" if len(word) >= 2 else "none"
    if kind == "leet":
        core = word.rstrip("?!.,")
        words[longest] = core[0] + core[1:-1].translate(_LEET) + core[-1] + word[len(core) :]
    elif kind == "spaced":
        words[longest] = " ".join(word)
    elif kind == "repeat":
        words[longest] = word + word[-1] * 3
    elif kind == "homoglyph":
        words[longest] = word.translate(_HOMO)
    elif kind == "hashtag":
        return "#" + "".join(w.capitalize() for w in words), kind
    elif kind == "zero_width":
        words[longest] = word[:2] + "\u200b" + word[2:]
    return " ".join(words), kind


def generate() -> Iterator[Row]:
    """Every labelled row, in a stable order."""
    with SEEDS.open("rb") as fh:
        seeds = tomllib.load(fh)
    wrappers: dict[str, list[str]] = seeds["wrappers"]
    seen: set[str] = set()

    def emit(row: Row) -> Iterator[Row]:
        if row.text not in seen:
            seen.add(row.text)
            yield row

    for ph in builtin_phrases():
        for i, wrapper in enumerate(wrappers.get(ph.lang, ["{p}"])):
            text = wrapper.format(p=ph.text)
            split = _split(text)
            yield from emit(Row(text, ph.category, ph.severity, ph.lang, False, split, "phrase"))
            if i == 0 or _h(text) % 3 == 0:
                variant, kind = evasion(text)
                if kind != "none":
                    yield from emit(Row(variant, ph.category, ph.severity, ph.lang, False, split, f"evasion:{kind}"))
    for block in seeds["concern"]:
        for query in block["queries"]:
            for wrapper in wrappers[block["lang"]][:3]:
                text = wrapper.format(p=query)
                yield from emit(
                    Row(text, block["category"], int(block["severity"]), block["lang"], False, _split(text), "seed")
                )
    for block in seeds["benign"]:
        lang = block["lang"]
        forms = seeds["benign_wrappers"].get(lang, ["{p}"])
        for query in block["queries"]:
            split = _split(query)
            for wrapper in forms if block.get("topic") != "everyday" else ["{p}"]:
                text = wrapper.format(p=query)
                yield from emit(Row(text, "none", 0, lang, True, split, "benign:" + block.get("topic", "lookalike")))


def write_csv(path: Path = QUERIES_CSV) -> int:
    """Write the dataset; returns the row count."""
    rows = list(generate())
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow((r.text, r.category, r.severity, r.language, int(r.benign), r.split, r.source))
    return len(rows)


def read_csv(path: Path = QUERIES_CSV) -> list[Row]:
    """The dataset as rows."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            Row(
                r["text"], r["category"], int(r["severity"]), r["language"], r["benign"] == "1", r["split"], r["source"]
            )
            for r in csv.DictReader(fh)
        ]


if __name__ == "__main__":
    import sys

    sys.stdout.write(f"wrote {write_csv()} rows to {QUERIES_CSV}\n")
