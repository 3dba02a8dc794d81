"""Ingest errors."""

from vigil.errors import InputError, VigilError


class IngestError(VigilError):
    """Ingest cannot go on (a checkpoint is unreadable, a source misconfigured)."""


__all__ = ["IngestError", "InputError"]
