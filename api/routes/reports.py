"""Reports and exports: the weekly digest and governors' report (aggregates, every staff role), an alert's
incident record for CPOMS/MyConcern (DSL and deputy, audited) and the subject-access export (DSL, audited)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api.auth import Principal, check_alert, require
from api.deps import CurrentPrincipal, SettingsDep, StoreDep, WarehouseDep
from api.errors import Forbidden
from cases import exports, reports
from cases.errors import InvalidInput
from cases.reports_html import render_digest, render_governors
from cases.reports_pdf import digest_pdf, governors_pdf
from cases.schema import now
from cases.store import CaseStore
from vigil.settings import Settings

router = APIRouter(tags=["reports"])

School = Annotated[str, Query(min_length=1, max_length=64)]
Term = Annotated[str | None, Query(max_length=20, description="autumn-YYYY, spring-YYYY or summer-YYYY")]
Format = Literal["json", "html", "pdf"]


def _base_url(settings: Settings, request: Request) -> str:
    configured = settings.section("notify").get("base_url")
    return str(configured) if configured else str(request.base_url).rstrip("/")


def _with_items(principal: Principal, school: str) -> bool:
    """Only the DSL and deputy get the digest's list of low-severity alerts (links they can open)."""
    return principal.alert_visibility().get(school) in ("safeguarding", "all")


def _period(settings: Settings, school: str, term: str | None, since: date | None, until: date | None) -> Any:
    tz = settings.school_tz(school)
    if since or until:
        if not (since and until):
            raise InvalidInput("give both since and until, or a term")
        return reports.explicit_period(since, until, tz)
    return reports.term_period(term, now(), tz)


def _out(data: dict[str, Any], fmt: str, html: Any, pdf: Any, name: str) -> Response:
    if fmt == "html":
        return HTMLResponse(html(data))
    if fmt == "pdf":
        return Response(
            pdf(data), media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}.pdf"'}
        )
    return JSONResponse(data)


def _digest(
    request: Request, principal: Principal, store: CaseStore, settings: Settings, school: str
) -> dict[str, Any]:
    return reports.digest(
        store, settings, school, now(), with_items=_with_items(principal, school), base_url=_base_url(settings, request)
    )


@router.get("/api/reports/digest", dependencies=[require("reports.aggregate")], response_model=None)
async def digest_api(
    request: Request,
    principal: CurrentPrincipal,
    store: StoreDep,
    settings: SettingsDep,
    school: School,
    format: Format = "json",
) -> Response:
    """The weekly DSL digest: counts of the week's alerts, open alerts, outcomes; links for the DSL and deputy."""
    data = await run_in_threadpool(_digest, request, principal, store, settings, school)
    return _out(data, format, render_digest, digest_pdf, f"digest-{school}")


def _governors(
    store: CaseStore,
    settings: Settings,
    warehouse: Any,
    school: str,
    term: str | None,
    since: date | None,
    until: date | None,
) -> dict[str, Any]:
    return reports.governors(store, settings, warehouse, school, _period(settings, school, term, since, until), now())


@router.get("/api/reports/governors", dependencies=[require("reports.aggregate")], response_model=None)
async def governors_api(
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: School,
    term: Term = None,
    since: date | None = None,
    until: date | None = None,
    format: Format = "json",
) -> Response:
    """The termly governors' report: aggregates only (alerts, outcomes, response, checks, coverage)."""
    data = await run_in_threadpool(_governors, store, settings, warehouse, school, term, since, until)
    return _out(data, format, render_governors, governors_pdf, f"governors-{school}")


@router.get("/api/reports/governors.pdf", dependencies=[require("reports.aggregate")], response_model=None)
async def governors_pdf_api(
    store: StoreDep,
    settings: SettingsDep,
    warehouse: WarehouseDep,
    school: School,
    term: Term = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    """The governors' report as PDF."""
    data = await run_in_threadpool(_governors, store, settings, warehouse, school, term, since, until)
    return _out(data, "pdf", render_governors, governors_pdf, f"governors-{school}")


@router.get("/reports/digest", dependencies=[require("reports.aggregate")], include_in_schema=False)
async def digest_page(
    request: Request, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep, school: School
) -> HTMLResponse:
    """The digest as a page (the link in the weekly email)."""
    data = await run_in_threadpool(_digest, request, principal, store, settings, school)
    return HTMLResponse(render_digest(data))


@router.get("/reports/governors", dependencies=[require("reports.aggregate")], include_in_schema=False)
async def governors_page(
    store: StoreDep, settings: SettingsDep, warehouse: WarehouseDep, school: School, term: Term = None
) -> HTMLResponse:
    """The governors' report as a printable page."""
    data = await run_in_threadpool(_governors, store, settings, warehouse, school, term, None, None)
    return HTMLResponse(render_governors(data))


def _incident(principal: Principal, store: CaseStore, settings: Settings, alert_id: str, fmt: str) -> dict[str, Any]:
    """The record if the caller may export this alert (same 403 for missing, out of scope, or no right)."""
    alert = store.get_alert(alert_id[:64])
    check_alert(principal, alert)
    assert alert is not None
    if not principal.can("alerts.export", alert["school"]):
        raise Forbidden("not permitted, or no such alert")
    record = exports.incident_record(store, alert["id"], settings.school_tz(alert["school"]))
    exports.record_export(store, record, principal.name, fmt)
    return record


@router.get("/api/alerts/{alert_id}/export.pdf", dependencies=[require("alerts.export")], response_model=None)
async def incident_pdf(alert_id: str, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep) -> Response:
    """The incident record as PDF for the safeguarding record system (audited)."""
    record = await run_in_threadpool(_incident, principal, store, settings, alert_id, "pdf")
    body = await run_in_threadpool(exports.incident_pdf, record)
    name = f"incident-{record['reference'][:12]}.pdf"
    return Response(body, media_type="application/pdf", headers=_attachment(name))


@router.get("/api/alerts/{alert_id}/export.csv", dependencies=[require("alerts.export")], response_model=None)
async def incident_csv(alert_id: str, principal: CurrentPrincipal, store: StoreDep, settings: SettingsDep) -> Response:
    """The incident record as CSV (one row) for CPOMS/MyConcern import (audited)."""
    record = await run_in_threadpool(_incident, principal, store, settings, alert_id, "csv")
    name = f"incident-{record['reference'][:12]}.csv"
    return Response(exports.incident_csv(record), media_type="text/csv; charset=utf-8", headers=_attachment(name))


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/api/pupils/{user}/sar", dependencies=[require("retention.manage")], response_model=None)
async def subject_access(
    user: str,
    store: StoreDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    school: School,
    why: Annotated[str, Query(min_length=3, max_length=500, description="the request being answered")],
) -> Response:
    """Everything held on one pupil in one school, as a zip (the school's DSL only; audited)."""
    from retention.sar import export_subject

    workdir = Path(tempfile.mkdtemp(prefix="vigil-sar-"))
    dest = workdir / "sar.zip"

    def build() -> Any:
        return export_subject(
            store, settings.data_dir, school=school, user=user[:255], actor=principal.name, why=why, dest=dest
        )

    await run_in_threadpool(build)

    def cleanup() -> None:
        dest.unlink(missing_ok=True)
        os.rmdir(workdir)

    safe_user = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in user)[:60]
    return FileResponse(
        dest,
        media_type="application/zip",
        filename=f"subject-access-{school}-{safe_user}.zip",
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(cleanup),
    )
