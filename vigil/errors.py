"""The root of every error Vigil raises on purpose; the CLI prints these as one line, the API maps them."""


class VigilError(Exception):
    """A failure Vigil understands and can explain in one line (bad usage, bad config, I/O)."""

    exit_code = 2


class ConfigError(VigilError):
    """The configuration (vigil.toml, VIGIL_* or a flag) is invalid."""


class InputError(VigilError):
    """An input path cannot be read (missing, unreadable, a directory where a file was expected)."""
