"""Detection errors: bad `[detection]` configuration, unreadable licensed lists, a missing model."""

from vigil.errors import ConfigError, VigilError


class DetectionError(VigilError):
    """A detector cannot run as configured."""


class DetectionConfigError(ConfigError):
    """The `[detection]` section of vigil.toml (or a file it names) is invalid."""


class ModelError(DetectionError):
    """The risk model is missing, unreadable, or from an incompatible version."""
