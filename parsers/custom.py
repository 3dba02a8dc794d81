"""User-defined formats declared in vigil.toml (placeholder until the custom-format parser lands)."""

from parsers.base import Parser


def configured_custom_parsers() -> list[Parser]:
    """Parsers for the `[formats.<name>]` tables of the active configuration."""
    return []
