"""Parser test options and fixtures: `--update-goldens` rewrites golden outputs (invariants still checked)."""

from collections.abc import Iterator

import pytest

import vigil.settings as vigil_settings
from vigil.settings import Settings


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register `--update-goldens` (used by `make goldens`)."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/parsers/golden/*/*.expected.jsonl and *.rejects.jsonl from the parsers' output",
    )


@pytest.fixture
def clean_settings() -> Iterator[Settings]:
    """Default settings (no ./vigil.toml, no [netsweeper]/[formats]) active for the test, restored after."""
    previous = vigil_settings._active
    settings = Settings()
    vigil_settings.activate(settings)
    try:
        yield settings
    finally:
        vigil_settings._active = previous
        vigil_settings._cached_default.cache_clear()
