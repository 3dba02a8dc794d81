"""`/api/holds`: legal holds on a pupil or an alert (the school's DSL only), their evidence and its checksums.

Holds themselves (list, place, review, release, evidence list and verification) need `retention.manage`
(DESIGN.md: legal holds are DSL-only). Downloading the held rows is a read of raw events, so it needs
`events.view_raw` (DSL and deputy DSL) and is audited by `retention.holds.read_evidence`. Every route that
takes a hold id answers 403 for a hold in another school and for a hold that does not exist alike.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Principal, check_alert, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep
from api.errors import Forbidden
from cases import schema as t
from cases.errors import InvalidInput, InvalidTransition
from cases.store import CaseStore
from retention import holds
from retention.tables import legal_holds

router = APIRouter(prefix="/api/holds", tags=["legal holds"])

HoldId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class EvidenceUnverified(InvalidTransition):
    """A hold's evidence failed its checksums, so it is not served (409) until someone investigates."""


class HoldIn(BaseModel):
    """Place a hold: on a pupil (`user`) or on an alert (`alert_id`), exactly one, with a reason."""

    user: str | None = Field(None, min_length=1, max_length=255, description="the pupil's user name")
    alert_id: str | None = Field(None, min_length=1, max_length=64)
    reason: str = Field(min_length=3, max_length=holds.MAX_REASON, description="why the data must be kept")
    review_at: date | None = Field(None, description="when the hold should next be reviewed (YYYY-MM-DD)")
    case_ref: str | None = Field(None, max_length=255, description="the case in CPOMS/MyConcern, police reference...")


class HoldReviewIn(BaseModel):
    """Record a review: the hold is still needed; when to look at it again."""

    note: str = Field(min_length=3, max_length=holds.MAX_REASON)
    next_review_at: date | None = None


class HoldReleaseIn(BaseModel):
    """Release a hold (its evidence is deleted by the next retention run)."""

    reason: str = Field(min_length=3, max_length=holds.MAX_REASON)


class HoldOut(BaseModel):
    """A hold as the API shows it."""

    id: int
    school: str
    kind: str
    user: str | None
    alert_id: str | None
    case_ref: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    review_at: datetime | None
    review_due: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class EvidenceFileOut(BaseModel):
    """One evidence file: a partition's held rows, with its SHA-256."""

    partition_date: str
    path: str
    sha256: str
    rows: int
    bytes: int
    created_at: datetime
    deleted_at: datetime | None


class EvidenceOut(BaseModel):
    """A hold and its evidence files."""

    hold: HoldOut
    files: list[EvidenceFileOut]


class FileCheck(BaseModel):
    """One file's verification: `ok`, `missing`, `mismatch` or `unlisted` (not in SHA256SUMS)."""

    path: str
    expected: str
    actual: str | None
    status: str


class VerificationOut(BaseModel):
    """A hold's evidence checked against the database checksums and the SHA256SUMS beside the files."""

    hold_id: int
    ok: bool
    checked_at: datetime
    files: list[FileCheck]


def review_day(day: date | None) -> datetime | None:
    """A review date as the start of that UTC day; a date in the past is refused."""
    if day is None:
        return None
    if day <= datetime.now(UTC).date():
        raise InvalidInput("the review date must be after today")
    return datetime.combine(day, time(0, 0), UTC)


def public(row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A hold row with `review_due` (active and its review date has passed)."""
    now = now or datetime.now(UTC)
    due = row["released_at"] is None and row["review_at"] is not None and row["review_at"] <= now
    return {**row, "review_due": due}


def load_hold(
    principal: Principal, store: CaseStore, hold_id: int, permission: str = "retention.manage"
) -> dict[str, Any]:
    """The hold if the caller holds `permission` in its school; else 403, the same as for no such hold."""
    row = get_hold(store, hold_id)
    if row is None or not principal.can(permission, row["school"]):
        raise Forbidden("not permitted, or no such hold")
    return row


def active(row: dict[str, Any]) -> dict[str, Any]:
    """The hold, if it has not been released (409 otherwise)."""
    if row["released_at"] is not None:
        raise InvalidTransition(f"hold {row['id']} was already released")
    return row


def scope(principal: Principal, school: str | None) -> list[str]:
    """The caller's schools for holds, or just `school` (which `require` already checked)."""
    schools = principal.schools_for("retention.manage")
    if school:
        if school not in schools:
            raise Forbidden(f"not permitted: retention.manage in school {school}")
        return [school]
    return schools


def place(principal: Principal, store: CaseStore, school: str, body: HoldIn) -> dict[str, Any]:
    """Place a hold after the object checks: the alert must be one the caller sees, in this school."""
    if (body.user is None) == (body.alert_id is None):
        raise InvalidInput("a hold is on a pupil (user) or on an alert (alert_id): give exactly one")
    if not principal.can("retention.manage", school):
        raise Forbidden(f"not permitted: retention.manage in school {school}")
    if body.alert_id is not None:
        alert = check_alert(principal, store.get_alert(body.alert_id))
        if alert["school"] != school:
            raise Forbidden("not permitted, or no such alert")
    user = body.user.strip().lower() if body.user is not None else None
    for h in holds.list_holds(store, [school], user=user):
        same_alert = body.alert_id is not None and h["alert_id"] == body.alert_id
        if same_alert or (user is not None and h["kind"] == "pupil"):
            what = "this alert" if body.alert_id else f"pupil {user}"
            raise InvalidTransition(f"{what} is already under legal hold {h['id']}")
    row = holds.place_hold(
        store,
        school=school,
        actor=principal.name,
        reason=body.reason,
        user=user,
        alert_id=body.alert_id,
        case_ref=(body.case_ref or "").strip() or None,
        review_at=review_day(body.review_at),
        schools=[school],
    )
    return public(get_hold(store, int(row["id"])) or row)


def get_hold(store: CaseStore, hold_id: int) -> dict[str, Any] | None:
    """One hold row, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(legal_holds).where(legal_holds.c.id == hold_id)).first()
    return t.row_dict(row) if row is not None else None


def review(principal: Principal, store: CaseStore, hold_id: int, body: HoldReviewIn) -> dict[str, Any]:
    """Record a review of an active hold in the caller's school."""
    row = active(load_hold(principal, store, hold_id))
    out = holds.review_hold(
        store,
        hold_id,
        actor=principal.name,
        note=body.note,
        next_review_at=review_day(body.next_review_at),
        schools=[row["school"]],
    )
    return public(out)


def release(principal: Principal, store: CaseStore, hold_id: int, body: HoldReleaseIn) -> dict[str, Any]:
    """Release an active hold in the caller's school."""
    row = active(load_hold(principal, store, hold_id))
    return public(holds.release_hold(store, hold_id, actor=principal.name, reason=body.reason, schools=[row["school"]]))


def verification(store: CaseStore, data_dir: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Check a hold's live evidence files now (hashes only: no rows are read)."""
    report = holds.verify_evidence(store, data_dir, row["id"], schools=[row["school"]])
    return {"hold_id": row["id"], "ok": report.ok, "checked_at": datetime.now(UTC), "files": report.files}


@router.get("", dependencies=[require("retention.manage")], response_model=list[HoldOut])
def list_holds(
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["active", "released", "all"] = "active",
    user: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict[str, Any]]:
    """Holds in the caller's schools (or one), newest first; `status=all` includes released ones."""
    rows = holds.list_holds(store, scope(principal, school), active_only=status == "active", user=user)
    if status == "released":
        rows = [r for r in rows if r["released_at"] is not None]
    now = datetime.now(UTC)
    return [public(r, now) for r in rows]


@router.post("", dependencies=[require("retention.manage")], response_model=HoldOut, status_code=201)
def place_hold(
    body: HoldIn,
    principal: CurrentPrincipal,
    store: StoreDep,
    school: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    """Place a hold on a pupil or an alert in `school` (audited `retention.hold_place`)."""
    return place(principal, store, school, body)


@router.post("/{hold_id}/review", dependencies=[require("retention.manage")], response_model=HoldOut)
def review_hold(hold_id: HoldId, body: HoldReviewIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Record that the hold was reviewed and is still needed, with the next review date (audited)."""
    return review(principal, store, hold_id, body)


@router.post("/{hold_id}/release", dependencies=[require("retention.manage")], response_model=HoldOut)
def release_hold(hold_id: HoldId, body: HoldReleaseIn, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """Release the hold (audited); the next retention run deletes its evidence."""
    return release(principal, store, hold_id, body)


@router.get("/{hold_id}/evidence", dependencies=[require("retention.manage")], response_model=EvidenceOut)
def evidence(hold_id: HoldId, principal: CurrentPrincipal, store: StoreDep) -> dict[str, Any]:
    """The evidence files copied for a hold: partition day, path, SHA-256, rows (no row contents)."""
    row = load_hold(principal, store, hold_id)
    files = holds.evidence_for_hold(store, hold_id, schools=[row["school"]])
    return {"hold": public(row), "files": files}


@router.get("/{hold_id}/evidence/verify", dependencies=[require("retention.manage")], response_model=VerificationOut)
async def verify(
    hold_id: HoldId, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    """Check every live evidence file against both checksums now; `ok` false names each failing file."""
    row = await run_in_threadpool(load_hold, principal, store, hold_id)
    return await run_in_threadpool(verification, store, settings.data_dir, row)


def _download(principal: Principal, store: CaseStore, data_dir: Any, hold_id: int, fmt: str, why: str | None) -> bytes:
    row = load_hold(principal, store, hold_id, "events.view_raw")
    report = holds.verify_evidence(store, data_dir, hold_id, schools=[row["school"]])
    if not report.ok:
        bad = next(f for f in report.files if f["status"] != "ok")
        raise EvidenceUnverified(f"evidence of hold {hold_id} failed verification ({bad['path']}: {bad['status']})")
    table = holds.read_evidence(
        store, data_dir, hold_id, actor=principal.name, why=why or f"download as {fmt}", schools=[row["school"]]
    )
    buf = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, buf, compression="zstd")
    else:
        pacsv.write_csv(table, buf)
    return buf.getvalue()


@router.get("/{hold_id}/evidence/download", dependencies=[require("events.view_raw")], response_model=None)
async def download(
    hold_id: HoldId,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    format: Literal["csv", "parquet"] = "csv",
    why: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The held rows (verified first, audited `retention.evidence_read`) as CSV or Parquet; DSL and deputy."""
    body = await run_in_threadpool(_download, principal, store, settings.data_dir, hold_id, format, why)
    media = "application/vnd.apache.parquet" if format == "parquet" else "text/csv; charset=utf-8"
    name = f"hold-{hold_id}-evidence.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media, headers=headers)
