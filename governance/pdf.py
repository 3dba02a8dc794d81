"""PDF exports (fpdf2): the block/allow register and the annual review with charts drawn as vector bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from governance.review import SECTIONS, SLOTS

INK = (30, 41, 59)
BAR = (37, 99, 235)
WARN = (220, 38, 38)


def _txt(value: Any) -> str:
    """Text the PDF core fonts can print (Latin-1); anything else becomes '?' rather than an error."""
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else str(value)
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'").replace("\u2018", "'")
    return text.replace("\u201c", '"').replace("\u201d", '"').encode("latin-1", "replace").decode("latin-1")


class _Doc(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(title)
        self.set_creator("Vigil")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(100, 100, 100)
        self.cell(0, 5, _txt(f"{self.doc_title} - page {self.page_no()}"), align="C")

    def h1(self, text: str) -> None:
        self.set_font("Helvetica", "B", 16)
        self.set_text_color(*INK)
        self.multi_cell(0, 8, _txt(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def h2(self, text: str) -> None:
        if self.get_y() > 250:
            self.add_page()
        self.set_font("Helvetica", "B", 12)
        self.set_text_color(*INK)
        self.multi_cell(0, 7, _txt(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(self, text: str, size: int = 10) -> None:
        self.set_font("Helvetica", size=size)
        self.set_text_color(0, 0, 0)
        self.multi_cell(0, 5, _txt(text) or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def bars(self, title: str, values: Mapping[str, int | float], *, colour: tuple[int, int, int] = BAR) -> None:
        """A horizontal bar chart: one labelled bar per key, scaled to the largest value."""
        items = [(k, float(v)) for k, v in values.items()][:14]
        if self.get_y() + 10 + 6 * len(items) > 280:
            self.add_page()
        self.set_font("Helvetica", "B", 9)
        self.cell(0, 6, _txt(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if not items:
            self.para("(nothing recorded)", 9)
            return
        top = max(v for _, v in items) or 1.0
        self.set_font("Helvetica", size=8)
        x0, label_w, bar_w = self.l_margin, 55.0, 100.0
        for label, value in items:
            y = self.get_y()
            self.set_xy(x0, y)
            self.cell(label_w, 5, _txt(label)[:38])
            self.set_fill_color(*colour)
            self.rect(x0 + label_w, y + 0.8, max(0.5, bar_w * value / top), 3.4, style="F")
            self.set_xy(x0 + label_w + bar_w + 2, y)
            self.cell(20, 5, f"{value:g}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def stacked_columns(self, title: str, rows: Sequence[Mapping[str, Any]], keys: tuple[str, str]) -> None:
        """Vertical stacked columns over time (e.g. approved / unapproved AI use per week)."""
        if self.get_y() + 60 > 280:
            self.add_page()
        self.set_font("Helvetica", "B", 9)
        self.cell(0, 6, _txt(f"{title} (blue: {keys[0]}, red: {keys[1]})"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if not rows:
            self.para("(nothing recorded)", 9)
            return
        data = list(rows)[-30:]
        top = max(float(r[keys[0]]) + float(r[keys[1]]) for r in data) or 1.0
        x, base, height = self.l_margin, self.get_y() + 42, 40.0
        width = min(8.0, 170.0 / len(data))
        for r in data:
            low = height * float(r[keys[0]]) / top
            high = height * float(r[keys[1]]) / top
            self.set_fill_color(*BAR)
            self.rect(x, base - low, width * 0.8, max(low, 0.01), style="F")
            self.set_fill_color(*WARN)
            self.rect(x, base - low - high, width * 0.8, max(high, 0.01), style="F")
            x += width
        self.set_y(base + 1)
        self.set_font("Helvetica", size=7)
        self.cell(
            0,
            4,
            _txt(f"{data[0].get('week', '')} ... {data[-1].get('week', '')}; highest {top:g}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(2)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> None:
        """A simple table."""
        self.set_font("Helvetica", size=7)
        with self.table(
            col_widths=tuple(widths), text_align="LEFT", line_height=4, first_row_as_headings=True
        ) as table:
            head = table.row()
            for h in header:
                head.cell(_txt(h))
            for r in rows:
                row = table.row()
                for v in r:
                    row.cell(_txt(v)[:400])
        self.ln(2)


def register_pdf(rows: Sequence[Mapping[str, Any]], *, school: str, title: str = "Block/allow register") -> bytes:
    """The register: counts by decision and category as charts, then every request."""
    doc = _Doc(f"{title} - {school}")
    doc.add_page()
    doc.h1(f"{title}: {school}")
    doc.para(
        f"Generated {_txt(datetime.now().astimezone())}. {len(rows)} requests. Each decision records who "
        "decided, when, why and the filter change made; the follow-up column shows whether a filter test "
        "confirmed the change.",
        9,
    )
    by_status: dict[str, int] = {}
    by_cat: dict[str, int] = {}
    for r in rows:
        key = f"{r['kind']} {r['status']}"
        by_status[key] = by_status.get(key, 0) + 1
        by_cat[str(r["category"])] = by_cat.get(str(r["category"]), 0) + 1
    doc.bars("Requests by kind and decision", dict(sorted(by_status.items())))
    doc.bars("Requests by category", dict(sorted(by_cat.items(), key=lambda kv: -kv[1])))
    doc.h2("Requests")
    doc.grid(
        ("Request", "Site / group", "Asked by, why", "Decision, by, why", "Filter change", "Follow-up"),
        [
            (
                f"{r['id']}\n{r['kind']} ({r['category']})\n{_txt(r['requested_at'])}",
                f"{r['host']}\n{r['group_name']}",
                f"{r['requested_by']}: {r['reason']}",
                f"{r['status']} {_txt(r.get('decided_at'))}\n"
                f"{r.get('decided_by') or ''}: {r.get('decision_reason') or ''}",
                r.get("filter_change") or "",
                f"{r.get('followup_status')}\n{r.get('followup_detail') or ''}",
            )
            for r in rows
        ],
        (22, 26, 38, 40, 32, 32),
    )
    return bytes(doc.output())


def review_pdf(review: Mapping[str, Any]) -> bytes:
    """The annual review: figures with charts, every section's answer, actions and sign-offs."""
    fig = review.get("prefill") or {}
    title = f"Filtering and monitoring review {review['academic_year']}"
    doc = _Doc(f"{title} - {review['school']}")
    doc.add_page()
    doc.h1(f"{title}: {review['school']}")
    doc.para(
        f"DfE filtering and monitoring standards, standard 2: annual review by SLT, the DSL, IT and the "
        f"responsible governor. Status: {review['status']}. Figures computed "
        f"{_txt(fig.get('generated_at', ''))} for {fig.get('since', '')[:10]} to {fig.get('until', '')[:10]}.",
        9,
    )
    checks = fig.get("filter_checks", {})
    doc.h2("Checks carried out (filter tests)")
    doc.para(
        f"Runs: {checks.get('runs', 0)}; probes: {checks.get('probes', 0)}; failed probes: "
        f"{checks.get('failures', 0)} in {checks.get('failed_runs', 0)} runs; failures without a recorded "
        f"action: {checks.get('actions_outstanding', 0)}; last run: {checks.get('last_run') or 'never'}."
    )
    doc.bars(
        "Failed probes by test category",
        {k: v["failed"] for k, v in (checks.get("by_category") or {}).items()},
        colour=WARN,
    )
    alerts = fig.get("alerts", {})
    doc.h2("Monitoring: alert volumes")
    doc.para(f"Alerts: {alerts.get('total', 0)} (about staff: {alerts.get('about_staff', 0)}).")
    doc.bars("Alerts by category", alerts.get("by_category") or {})
    doc.bars("Closed alerts by outcome", alerts.get("by_outcome") or {})
    src = fig.get("sources", {})
    doc.h2("Log-source coverage")
    doc.para(f"Days with any log data: {src.get('days_with_data', 0)} of {src.get('days_in_period', 0)}.")
    doc.bars("Days with data per source", {s["source"]: s["days"] for s in src.get("sources", [])})
    dec = fig.get("decisions", {})
    doc.h2("Block/allow decisions")
    doc.bars("Requests by kind and decision", dec.get("by_kind_status") or {})
    doc.bars("Follow-up filter tests", dec.get("followups") or {})
    doc.bars("Staff-reported concerns by category", fig.get("concerns") or {})
    ai = fig.get("ai_use", {})
    doc.h2("Generative AI use")
    doc.para(
        f"Requests to AI services: {ai.get('events', 0)}, of which outside the AI policy: "
        f"{ai.get('unapproved_events', 0)}."
    )
    doc.bars("AI use by kind of service", ai.get("by_category") or {})
    doc.stacked_columns("AI use per week", ai.get("by_week") or [], ("approved", "unapproved"))
    answers = review.get("answers") or {}
    for key, (heading, prompt) in SECTIONS.items():
        doc.h2(heading)
        doc.para(f"({prompt})", 8)
        doc.para(answers.get(key) or "Not yet answered.")
    doc.h2("Actions")
    actions = review.get("actions") or []
    if actions:
        doc.grid(
            ("Action", "Owner", "Due", "Status"),
            [(a["text"], a["owner"], a.get("due") or "", a["status"]) for a in actions],
            (100, 35, 20, 20),
        )
    else:
        doc.para("No actions recorded.")
    doc.h2("Sign-off")
    signed = review.get("signoffs") or {}
    named = review.get("signatories") or {}
    doc.grid(
        ("Role", "Named", "Signed", "Note"),
        [
            (
                SLOTS[s][0],
                named.get(s, ""),
                _txt(signed[s]["signed_at"]) if s in signed else "not yet signed",
                signed[s]["note"] if s in signed else "",
            )
            for s in SLOTS
        ],
        (50, 35, 40, 50),
    )
    return bytes(doc.output())
