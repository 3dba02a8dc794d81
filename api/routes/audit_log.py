"""`/api/audit`: the append-only audit log for the DSL and the head teacher of a school."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.auth import require
from api.deps import CurrentPrincipal, StoreDep
from api.errors import Forbidden
from cases import audit

router = APIRouter(prefix="/api", tags=["audit"])


@router.get("/audit", dependencies=[require("audit.view")])
def audit_entries(
    principal: CurrentPrincipal,
    store: StoreDep,
    response: Response,
    school: str | None = None,
    object_id: Annotated[str | None, Query(max_length=255)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Audit entries of the caller's schools, newest first (total in X-Total-Count)."""
    schools = principal.schools_for("audit.view")
    if school is not None:
        if school not in schools:
            raise Forbidden(f"not permitted: audit.view in school {school}")
        schools = [school]
    rows, total = audit.entries(store, schools, object_id=object_id, actor=actor, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return rows
