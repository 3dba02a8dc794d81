"""Parse files without storing anything (`vigil parse`, `vigil detect`): per-file format, batch by batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from ingest.reader import read_batches, sample_lines
from ingest.sources.files import expand_paths
from parsers.base import ParseResult, SourceMeta
from parsers.pipeline import parse_batch
from parsers.registry import autodetect, get_parser
from vigil.errors import InputError
from vigil.settings import get_settings


def iter_parsed(files: list[str], *, fmt: str, school: str, tz: str | None) -> Iterator[ParseResult]:
    """Enriched events and rejects of every batch of every file, in order; stdin (`-`) needs a format."""
    settings = get_settings()
    zone = tz or settings.school_tz(school)
    fixed = None if fmt == "auto" else get_parser(fmt)  # an unknown name fails before any file is read
    paths = expand_paths(files)
    if not paths:
        raise InputError("no input files")
    for path in paths:
        if fixed is None:
            if str(path) == "-":
                raise InputError("--format is required when reading stdin (-)")
            parser = autodetect(sample_lines(path), what=str(path))
        else:
            parser = fixed
        meta = SourceMeta(school=school, tz=zone, origin_prefix=f"file:{path}", now=datetime.now(UTC))
        for batch in read_batches(path):
            yield parse_batch(batch.frame, parser, meta)
