"""An alert's incident record for the school's safeguarding record system (CPOMS, MyConcern): PDF and CSV.

The record holds what happened, when, why the alert fired, an evidence summary, the triage history (from the
audit trail) and the notes: everything the DSL copies into the pupil's file. It is personal data, so the
routes allow only the DSL and deputy (`alerts.export`) and every export is audited (`alert.export`).
The subject-access export of everything held on one pupil is `retention.sar.export_subject`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from api.present import category_words, why_text
from cases import audit
from cases import schema as t
from cases.errors import NotPermitted
from cases.reports_pdf import Doc
from cases.store import CaseStore
from cases.workflow import OUTCOMES

HISTORY_WORDS = {
    "alert.triage": "acknowledged (triaged)",
    "alert.escalate": "escalated to the head teacher",
    "alert.auto_escalate": "escalated automatically (not acknowledged in time)",
    "alert.close": "closed",
    "alert.note": "note added",
    "alert.attach": "evidence attached",
    "alert.legal_hold": "legal hold placed",
    "alert.legal_hold_release": "legal hold released",
    "alert.export": "incident record exported",
}
MAX_EVIDENCE = 50
CSV_COLUMNS = (
    "reference",
    "school",
    "pupil",
    "subject",
    "device",
    "first_seen",
    "last_seen",
    "category",
    "severity",
    "status",
    "outcome",
    "why",
    "matched",
    "search_terms",
    "evidence",
    "history",
    "notes",
    "closing_note",
)


def incident_record(store: CaseStore, alert_id: str, tz: str) -> dict[str, Any]:
    """Everything the incident record shows, read from the store (times in the school's timezone)."""
    alert = store.get_alert(alert_id)
    if alert is None:
        raise NotPermitted("not permitted, or no such alert")
    zone = ZoneInfo(tz)

    def local(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""

    au = t.audit.c
    with store.engine.connect() as conn:
        history = [
            t.row_dict(r)
            for r in conn.execute(
                sa.select(t.audit)
                .where(au.object_type == "alert", au.object_id == alert_id, au.action.in_(list(HISTORY_WORDS)))
                .order_by(au.ts, au.id)
            )
        ]
    evidence = alert.get("evidence") or {}
    events = [e for e in evidence.get("events") or [] if isinstance(e, Mapping)][:MAX_EVIDENCE]
    return {
        "reference": alert["id"],
        "school": alert["school"],
        "pupil": alert.get("user") or "",
        "subject": alert.get("subject_kind") or "",
        "device": alert.get("client_ip") or "",
        "first_seen": local(alert["ts"]),
        "last_seen": local(alert["last_ts"]),
        "timezone": tz,
        "category": category_words(alert["category"]),
        "severity": int(alert["severity"]),
        "status": alert["status"],
        "outcome": OUTCOMES.get(alert.get("outcome") or "", alert.get("outcome") or ""),
        "why": why_text(alert),
        "detector": f"{alert['detector']} / {alert['rule']}",
        "count": int(alert["count"]),
        "matched": _join(evidence.get("matched")),
        "search_terms": _join(evidence.get("search_terms")),
        "evidence": [
            {
                "ts": str(e.get("ts") or ""),
                "action": str(e.get("action") or ""),
                "address": str(e.get("url") or e.get("host") or ""),
                "search": str(e.get("search_terms") or ""),
            }
            for e in events
        ],
        "history": [
            {
                "ts": local(h["ts"]),
                "who": h["actor"],
                "what": HISTORY_WORDS.get(h["action"], h["action"]),
                "detail": _detail(h),
            }
            for h in history
        ],
        "notes": [{"ts": local(n["ts"]), "who": n["author"], "body": n["body"]} for n in store.notes(alert_id)],
        "closing_note": alert.get("close_note") or "",
    }


def _join(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _detail(entry: Mapping[str, Any]) -> str:
    detail = entry.get("detail") or {}
    bits = [f"{k}: {v}" for k, v in detail.items() if k in ("from", "to", "outcome", "assignee", "stage", "format")]
    if entry.get("why") and entry["action"] in ("alert.escalate", "alert.close", "alert.auto_escalate"):
        bits.append(f"why: {entry['why']}")
    return "; ".join(bits)


def record_export(store: CaseStore, record: Mapping[str, Any], actor: str, fmt: str) -> None:
    """Audit an export of an incident record (personal data leaving Vigil)."""
    audit.record(
        store,
        actor=actor,
        action="alert.export",
        object_type="alert",
        object_id=record["reference"],
        school=record["school"],
        detail={"format": fmt},
    )


def _safe(value: Any) -> str:
    """Neutralise spreadsheet formulas: a search term like `=HYPERLINK(...)` must stay text in Excel."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def incident_csv(record: Mapping[str, Any]) -> bytes:
    """One header row and one incident row (multi-line cells quoted), UTF-8 with BOM for Excel."""
    flat = dict(record)
    flat["evidence"] = "\n".join(
        f"{e['ts']} {e['action']} {e['address']}" + (f" search: {e['search']}" if e["search"] else "")
        for e in record["evidence"]
    )
    flat["history"] = "\n".join(
        f"{h['ts']} {h['who']}: {h['what']}" + (f" ({h['detail']})" if h["detail"] else "") for h in record["history"]
    )
    flat["notes"] = "\n".join(f"{n['ts']} {n['who']}: {n['body']}" for n in record["notes"])
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow([_safe(flat[c]) for c in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def incident_pdf(record: Mapping[str, Any]) -> bytes:
    """The incident record as a PDF for the pupil's safeguarding file."""
    doc = Doc(f"Safeguarding incident record {record['reference'][:12]}")
    doc.h1(f"Safeguarding incident record: {record['category']}")
    doc.para("CONFIDENTIAL: safeguarding record. Store it in the pupil's safeguarding file only.", muted=True)
    doc.h2("What and when")
    doc.rows(
        ["", ""],
        [
            ["Reference", record["reference"]],
            ["School", record["school"]],
            ["Pupil (login)", record["pupil"] or "unidentified"],
            ["Subject", record["subject"]],
            ["Device", record["device"]],
            ["First seen", f"{record['first_seen']} ({record['timezone']})"],
            ["Last seen", record["last_seen"]],
            ["Category", record["category"]],
            ["Severity", record["severity"]],
            ["Hits", record["count"]],
            ["Status", record["status"]],
            ["Outcome", record["outcome"] or "-"],
        ],
        [40, 140],
    )
    doc.h2("Why the alert fired")
    doc.para(record["why"])
    doc.para(f"Detector and rule: {record['detector']}", muted=True)
    if record["matched"]:
        doc.para(f"Matched text: {record['matched']}")
    if record["search_terms"]:
        doc.para(f"Search terms: {record['search_terms']}")
    doc.h2("Evidence summary")
    doc.rows(
        ["Time (UTC)", "Action", "Address", "Search"],
        [[e["ts"][:19].replace("T", " "), e["action"], e["address"], e["search"]] for e in record["evidence"]],
        [34, 18, 80, 48],
    )
    doc.h2("Triage history")
    doc.rows(
        ["When", "Who", "What"],
        [[h["ts"], h["who"], h["what"] + (f" ({h['detail']})" if h["detail"] else "")] for h in record["history"]],
        [36, 34, 110],
    )
    doc.h2("Notes")
    if not record["notes"] and not record["closing_note"]:
        doc.para("No notes.", muted=True)
    for n in record["notes"]:
        doc.para(f"{n['ts']} - {n['who']}", size=9, muted=True)
        doc.para(n["body"])
    if record["closing_note"]:
        doc.para("Closing note", size=9, muted=True)
        doc.para(record["closing_note"])
    return doc.bytes()
