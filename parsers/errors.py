"""Parser errors: raised only for misconfiguration, never for a bad input line."""

from vigil.errors import ConfigError


class ParserConfigError(ConfigError):
    """A parser was configured wrongly (unknown format name, bad custom format, bad column list)."""


class UnknownFormatError(ParserConfigError):
    """No registered parser has the requested name, or auto-detection found no plausible parser."""
