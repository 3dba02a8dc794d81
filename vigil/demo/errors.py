"""Errors of the demo generator and loader."""

from vigil.errors import VigilError


class DemoError(VigilError):
    """The demo cannot be generated, loaded or served (bad option, missing capability, I/O)."""
