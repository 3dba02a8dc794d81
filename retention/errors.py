"""Errors raised by retention, legal holds and data-protection tooling."""

from vigil.errors import ConfigError, VigilError


class RetentionError(VigilError):
    """A retention failure Vigil can explain in one line."""


class RetentionConfigError(ConfigError, RetentionError):
    """`[retention]` in the configuration is invalid."""


class RetentionBusy(RetentionError):
    """Another retention run holds the lock."""


class HoldError(RetentionError):
    """A legal-hold request is invalid (unknown hold, already released, missing reason...)."""


class EvidenceError(RetentionError):
    """Evidence is missing or fails its checksum."""
