"""Generate docs/roles.md from the permission vocabulary (`python -m api.roles_doc` rewrites it)."""

from __future__ import annotations

import sys
from pathlib import Path

from api.auth import PERMISSIONS
from cases.users import ROLES

DOC = Path(__file__).parents[1] / "docs" / "roles.md"
HEADER = """# Roles and permissions

Generated from `api/auth.py` (`PERMISSIONS`) by `.venv/bin/python -m api.roles_doc`; `tests/api/test_roles_doc.py`
fails when this file and the code drift. Every route declares one of these permissions in its decorator;
a route without one stops the app from starting. Roles are held per school: a permission applies only in
the schools where the account holds a role that grants it, and anything in another school answers 403.
"""


def render() -> str:
    """The Markdown document."""
    roles = list(ROLES)
    lines = [HEADER, "## Roles", "", "| role | who |", "|---|---|"]
    lines += [f"| `{r}` | {ROLES[r]} |" for r in roles]
    lines += [
        "",
        "## Permission x role",
        "",
        "| permission | what it allows | " + " | ".join(roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for perm in PERMISSIONS.values():
        cells = ["yes" if r in perm.roles else "" for r in roles]
        lines.append(f"| `{perm.name}` | {perm.description} | " + " | ".join(cells) + " |")
    notes = [p for p in PERMISSIONS.values() if p.note]
    if notes:
        lines += ["", "## Object-level rules", ""]
        lines += [f"- `{p.name}`: {p.note}." for p in notes]
    lines += [
        "- An alert that does not exist and an alert in another school give the same 403, so nobody can probe",
        "  for the existence of alerts they may not see.",
        "- Every read of personal data (alert detail, timelines, raw events) writes an audit entry; the audit",
        "  table refuses UPDATE and DELETE at the database.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Rewrite docs/roles.md."""
    DOC.write_text(render())
    sys.stdout.write(f"wrote {DOC}\n")


if __name__ == "__main__":
    main()
