"""File and directory sources: expand paths, resolve per-file school/format, read from checkpoints."""

from __future__ import annotations

import fnmatch
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.reader import sample_lines
from parsers.base import Parser
from parsers.registry import autodetect, get_parser
from vigil.errors import InputError
from vigil.settings import Settings, SourceConfig

LOG_SUFFIXES = (".log", ".txt", ".gz", ".csv", ".tsv", ".json")


def expand_paths(paths: list[str]) -> list[Path]:
    """Files named, files inside directories (recursively, skipping hidden ones), and glob matches."""
    out: list[Path] = []
    for raw in paths:
        if raw == "-":
            out.append(Path("-"))
            continue
        matches = [Path(m) for m in sorted(glob.glob(raw))] if any(c in raw for c in "*?[") else [Path(raw)]
        if not matches:
            raise InputError(f"{raw}: no files match")
        for p in matches:
            if p.is_dir():
                out.extend(
                    sorted(
                        f
                        for f in p.rglob("*")
                        if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
                    )
                )
            elif p.exists():
                out.append(p)
            else:
                raise InputError(f"{p}: no such file")
    return out


@dataclass(frozen=True)
class ResolvedSource:
    """How to read one file: its parser, school, timezone and observer."""

    path: Path
    parser: Parser
    school: str
    tz: str
    observer: str | None
    name: str
    options: dict[str, Any] = field(default_factory=dict)


def source_config_for(path: Path, settings: Settings) -> SourceConfig | None:
    """The first configured source whose `path` glob matches this file."""
    for src in settings.sources:
        if src.path and (fnmatch.fnmatch(str(path), src.path) or fnmatch.fnmatch(str(path.resolve()), src.path)):
            return src
    return None


def resolve(path: Path, settings: Settings, fmt: str | None, school: str | None) -> ResolvedSource:
    """Pick parser and school for a file: flags win over the matching [[sources]] entry, then defaults."""
    cfg = source_config_for(path, settings)
    chosen_school = school or (cfg.school if cfg else None) or "default"
    chosen_fmt = fmt if fmt and fmt != "auto" else (cfg.format if cfg and cfg.format != "auto" else "auto")
    if chosen_fmt == "auto":
        parser = autodetect(sample_lines(path), what=str(path))
    else:
        parser = get_parser(chosen_fmt)
    tz = (cfg.tz if cfg and cfg.tz else None) or settings.school_tz(chosen_school)
    return ResolvedSource(
        path=path,
        parser=parser,
        school=chosen_school,
        tz=tz,
        observer=cfg.observer if cfg else None,
        name=cfg.name if cfg else str(path),
        options=dict(cfg.options) if cfg else {},
    )
