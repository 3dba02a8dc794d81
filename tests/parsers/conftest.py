"""Parser test options: `--update-goldens` rewrites golden outputs (invariants still checked)."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register `--update-goldens` (used by `make goldens`)."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/parsers/golden/*/*.expected.jsonl and *.rejects.jsonl from the parsers' output",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the `config(table)` marker used by parser configuration tests."""
    config.addinivalue_line("markers", "config(table): vigil.toml values activated by the `active` fixture")
