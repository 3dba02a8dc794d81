"""Documentation stays true: every setting, command and parser is documented (a Datasette habit)."""

from __future__ import annotations

from pathlib import Path

from parsers.registry import BUILTIN_PARSERS
from vigil.cli import app
from vigil.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_core_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in doc]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_every_parser_is_documented() -> None:
    doc = (ROOT / "docs" / "formats.md").read_text()
    missing = [p.name for p in BUILTIN_PARSERS if f"## {p.name}" not in doc and f"`{p.name}`" not in doc]
    assert not missing, f"parsers missing from docs/formats.md: {missing}"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    names = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    missing = [n for n in names if n and f"vigil {n}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
