"""docs/roles.md is generated from the permission vocabulary; this fails when they drift."""

from __future__ import annotations

from api.auth import PERMISSIONS
from api.roles_doc import DOC, render


def test_roles_doc_matches_the_vocabulary() -> None:
    assert DOC.read_text() == render(), "docs/roles.md is stale: run .venv/bin/python -m api.roles_doc"


def test_every_permission_is_documented_with_a_description() -> None:
    text = DOC.read_text()
    for name, perm in PERMISSIONS.items():
        assert f"`{name}`" in text and perm.description in text
