"""Exports of the filter-test record for the annual review and for governors: CSV (every probe) and PDF.

The PDF holds what the DfE standard asks a school to keep about its checks (when, who, what was tested,
the result, the resulting action), a pass/fail table per category and run, and every failure with its
action, in plain words, without any pupil data (probes run as test accounts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF

CSV_COLUMNS = (
    "run_id",
    "run_started",
    "actor",
    "trigger",
    "plan_name",
    "school",
    "check_name",
    "category",
    "kind",
    "group_name",
    "site",
    "url",
    "method",
    "expected",
    "observed",
    "detail",
    "seen_in_logs",
    "log_action",
    "log_category",
    "log_source",
    "monitoring_detail",
    "passed",
    "reason",
    "alert_id",
    "action_note",
    "action_by",
    "action_at",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """One CSV line per probe result, with its run's when, who and plan."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = [_cell(row.get(c)) for c in CSV_COLUMNS]
        # spreadsheet formula injection: a URL or note starting with = + - @ must stay text
        writer.writerow([("'" + c) if c[:1] in ("=", "+", "-", "@") else c for c in cells])
    return buf.getvalue()


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: replace what they cannot show instead of failing."""
    return (
        text.replace("\u2014", "-")
        .replace("\u2013", "-")
        .replace("\u2192", "->")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


class _Report(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, f"Vigil filter-test record - page {self.page_no()}", align="C")


def _runs(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    for r in rows:
        run = runs.setdefault(
            r["run_id"],
            {
                "id": r["run_id"],
                "started": r["run_started"],
                "actor": r["actor"],
                "trigger": r["trigger"],
                "plan": r["plan_name"],
                "school": r["school"],
                "cats": {},
                "failed": [],
            },
        )
        cat = run["cats"].setdefault(r["category"], [0, 0])
        cat[0 if r["passed"] else 1] += 1
        if not r["passed"]:
            run["failed"].append(r)
    return list(runs.values())


def to_pdf(rows: Sequence[dict[str, Any]], *, title: str, generated: datetime) -> bytes:
    """A PDF report of the runs in `rows` (results_for_export output)."""
    pdf = _Report(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    runs = _runs(rows)
    failures = sum(len(r["failed"]) for r in runs)
    pending = sum(1 for r in runs for f in r["failed"] if not f.get("action_note"))
    intro = (
        f"Generated {generated:%d %B %Y %H:%M} UTC. {len(runs)} run(s), {len(rows)} probe(s), {failures} failure(s), "
        f"{pending} failure(s) awaiting a resulting action. Each check records when it ran, who ran it, what was "
        "tested (category, user group, site, URL), the result seen by the user and by the monitoring, and the "
        "resulting action, as the DfE filtering and monitoring standards ask."
    )
    pdf.multi_cell(0, 5, _latin1(intro), new_x="LMARGIN", new_y="NEXT")
    for run in runs:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        head = f"Run {run['id']} - {run['started']:%d %b %Y %H:%M} UTC - school {run['school']}"
        pdf.multi_cell(0, 6, _latin1(head), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        who = "scheduled" if run["trigger"] == "schedule" else run["actor"]
        pdf.multi_cell(0, 5, _latin1(f"Plan: {run['plan']}. Run by: {who}."), new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(60, 25, 25, 30), text_align=("LEFT", "RIGHT", "RIGHT", "LEFT")) as table:
            table.row(["Category", "Passed", "Failed", "Result"])
            for cat, (ok, bad) in sorted(run["cats"].items()):
                table.row([_latin1(cat), str(ok), str(bad), "PASS" if bad == 0 else "FAIL"])
        for f in run["failed"]:
            pdf.set_font("Helvetica", "B", 9)
            line = f"FAIL {f['category']} / {f['group_name']} / {f['site']}: {f['url']}"
            pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(0, 5, _latin1(f"Why: {f['reason']}"), new_x="LMARGIN", new_y="NEXT")
            action = (
                f"Resulting action: {f['action_note']} ({f['action_by']}, {f['action_at']:%d %b %Y})"
                if f.get("action_note")
                else "Resulting action: NOT YET RECORDED"
            )
            pdf.multi_cell(0, 5, _latin1(action), new_x="LMARGIN", new_y="NEXT")
    if not runs:
        pdf.multi_cell(0, 6, "No filter tests recorded in this period.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
