"""Durable per-file checkpoints: how far each file (by content identity) has been committed.

A checkpoint is written only after a batch's Parquet files (and its alerts) are durable, so a crash
at any point replays at most the last batch, which overwrites itself (batch ids come from positions).
Files are JSON, written to a temp name, fsynced and renamed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.errors import IngestError


@dataclass
class FileCheckpoint:
    """Committed position of one file: byte offset, next line number, and a generation bumped on truncation."""

    identity: str
    path: str
    offset: int = 0
    line: int = 1
    generation: int = 0

    @property
    def key(self) -> str:
        """Identity plus generation: what batch ids are derived from."""
        return f"{self.identity}g{self.generation}"


class CheckpointStore:
    """Checkpoints under `<data>/state/files/`, one JSON file per file identity."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "state" / "files"

    def _path(self, identity: str) -> Path:
        return self.dir / f"{identity}.json"

    def get(self, identity: str, path: Path) -> FileCheckpoint:
        """The stored checkpoint, or a fresh one at offset 0."""
        p = self._path(identity)
        if not p.exists():
            return FileCheckpoint(identity=identity, path=str(path))
        try:
            data = json.loads(p.read_text())
            return FileCheckpoint(**data)
        except (ValueError, TypeError) as exc:
            raise IngestError(f"checkpoint {p} is corrupt ({exc}); move it aside to re-ingest that file") from exc

    def commit(self, cp: FileCheckpoint) -> None:
        """Durably record a checkpoint."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        dest = self._path(cp.identity)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(cp), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)

    def forget(self, identity: str) -> None:
        """Drop a checkpoint (the next ingest of that file starts from the beginning)."""
        self._path(identity).unlink(missing_ok=True)
