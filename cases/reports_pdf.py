"""PDFs with fpdf2: the digest, the governors' report (charts drawn with fpdf2 rectangles) and shared helpers.

DejaVu Sans is used when the system has it (notes and evidence may be in any language); otherwise the PDF
core font with text reduced to Latin-1, so a PDF is always produced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from api.present import category_words
from cases.workflow import OUTCOMES

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
BAND_RGB = {"1-2": (127, 140, 141), "3": (183, 149, 11), "4-5": (176, 0, 32)}
_PUNCT = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "·": "-", "…": "..."})


class Doc(FPDF):
    """An A4 document with a running footer and a few layout helpers."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.set_title(title)
        self.set_creator("Vigil")
        self.set_auto_page_break(auto=True, margin=16)
        regular = next((d / "DejaVuSans.ttf" for d in FONT_DIRS if (d / "DejaVuSans.ttf").is_file()), None)
        bold = next((d / "DejaVuSans-Bold.ttf" for d in FONT_DIRS if (d / "DejaVuSans-Bold.ttf").is_file()), None)
        self.unicode = regular is not None and bold is not None
        if self.unicode:
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))
            self.family = "Body"
        else:
            self.family = "Helvetica"
        self.add_page()

    def footer(self) -> None:
        """Title and page number on every page."""
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.clean(f"{self.doc_title} - page {self.page_no()}"), align="C")
        self.set_text_color(0, 0, 0)

    def clean(self, text: Any) -> str:
        """Text the current font can draw."""
        value = "" if text is None else str(text)
        if self.unicode:
            return value
        return value.translate(_PUNCT).encode("latin-1", "replace").decode("latin-1")

    def h1(self, text: str) -> None:
        """Document heading."""
        self.set_font(self.family, "B", 17)
        self.multi_cell(0, 8, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def h2(self, text: str) -> None:
        """Section heading."""
        if self.get_y() > 250:
            self.add_page()
        self.ln(3)
        self.set_font(self.family, "B", 12.5)
        self.cell(0, 7, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)

    def para(self, text: str, size: float = 10, muted: bool = False) -> None:
        """A wrapped paragraph."""
        self.set_font(self.family, "", size)
        if muted:
            self.set_text_color(85, 85, 85)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def rows(self, header: Sequence[str], body: Sequence[Sequence[Any]], widths: Sequence[float]) -> None:
        """A simple table (header in bold, thin rules), breaking pages as needed."""
        self.set_font(self.family, "B", 9.5)
        for text, w in zip(header, widths, strict=True):
            self.cell(w, 6, self.clean(text), border="B")
        self.ln(6)
        self.set_font(self.family, "", 9.5)
        if not body:
            self.cell(sum(widths), 6, "None", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for row in body:
            if self.get_y() > 275:
                self.add_page()
            for text, w in zip(row, widths, strict=True):
                value = self.clean(text)
                while value and self.get_string_width(value) > w - 1.5:
                    value = value[:-1]
                self.cell(w, 5.5, value, border="B")
            self.ln(5.5)
        self.ln(1)

    def bars(self, values: Mapping[str, int], title: str) -> None:
        """A horizontal bar chart with the number at the end of each bar."""
        items = list(values.items())[:14]
        self.h2(title)
        if not items:
            self.para("None in this period.", muted=True)
            return
        peak = max(v for _, v in items) or 1
        label_w, bar_max, row = 62.0, 100.0, 6.0
        if self.get_y() + row * len(items) > 275:
            self.add_page()
        self.set_font(self.family, "", 9)
        for name, value in items:
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(label_w - 2, row, self.clean(name)[:40], align="R")
            self.set_fill_color(31, 95, 139)
            w = max(bar_max * value / peak, 0.6)
            self.rect(self.l_margin + label_w, y + 1, w, row - 2, style="F")
            self.set_xy(self.l_margin + label_w + w + 1.5, y)
            self.cell(20, row, str(value))
            self.set_xy(self.l_margin, y + row)
        self.ln(2)

    def weekly(self, per_week: Mapping[str, Mapping[str, int]], title: str) -> None:
        """Stacked columns per week in severity bands, with a legend."""
        self.h2(title)
        weeks = list(per_week.items())
        if not weeks:
            self.para("No alerts in this period.", muted=True)
            return
        height, width = 45.0, self.w - self.l_margin - self.r_margin - 10
        if self.get_y() + height + 16 > 275:
            self.add_page()
        top, left = self.get_y() + 2, self.l_margin + 10
        peak = max(sum(b.values()) for _, b in weeks) or 1
        col = width / len(weeks)
        self.set_font(self.family, "", 7)
        self.set_xy(self.l_margin, top - 1)
        self.cell(9, 4, str(peak), align="R")
        self.set_draw_color(60, 60, 60)
        self.line(left, top + height, left + width, top + height)
        for i, (monday, bands) in enumerate(weeks):
            x, y = left + i * col + 0.5, top + height
            for band in ("1-2", "3", "4-5"):
                h = bands.get(band, 0) / peak * height
                if h:
                    y -= h
                    self.set_fill_color(*BAND_RGB[band])
                    self.rect(x, y, max(col - 1, 0.4), h, style="F")
            if len(weeks) <= 16 or i % 2 == 0:
                self.set_xy(x, top + height + 0.5)
                self.cell(max(col - 1, 6), 4, monday[5:], align="C")
        self.set_xy(left, top + height + 6)
        for band in ("1-2", "3", "4-5"):
            self.set_fill_color(*BAND_RGB[band])
            self.rect(self.get_x(), self.get_y() + 1, 3, 3, style="F")
            self.set_x(self.get_x() + 4)
            self.cell(26, 5, f"severity {band}")
        self.set_xy(self.l_margin, top + height + 13)

    def bytes(self) -> bytes:
        """The finished PDF."""
        return bytes(self.output())


def _sev(counts: Mapping[str, int]) -> dict[str, int]:
    return {f"severity {k}": v for k, v in sorted(counts.items(), reverse=True)}


def digest_pdf(d: Mapping[str, Any]) -> bytes:
    """The weekly digest as PDF."""
    doc = Doc(f"Weekly safeguarding digest: {d['school_name']}")
    doc.h1(f"Weekly safeguarding digest: {d['school_name']}")
    doc.para(f"{d['period']['label']}. Alerts about pupils only; counts, no names or searches.", muted=True)
    med = d["response"]["median_minutes"]
    doc.para(
        f"Alerts raised: {d['raised']['total']}.  Open now: {d['open']['total']}.  "
        f"Low-severity (1-2) to review: {d['low_severity']['total']}.  "
        f"Closed: {sum(d['closed_by_outcome'].values())}.  "
        f"Median minutes to act on severity 4-5: {med if med is not None else '-'}."
    )
    doc.bars({category_words(k): v for k, v in d["raised"]["by_category"].items()}, "Alerts raised, by category")
    doc.bars(_sev(d["raised"]["by_severity"]), "Alerts raised, by severity")
    doc.bars(_sev(d["open"]["by_severity"]), "Open alerts, by severity")
    doc.h2("Closed this week, by outcome")
    doc.rows(["Outcome", "Alerts"], [[OUTCOMES.get(k, k), v] for k, v in d["closed_by_outcome"].items()], [140, 30])
    items = d["low_severity"].get("list")
    doc.h2("Low-severity alerts (1-2)")
    if items is None:
        doc.para(f"{d['low_severity']['total']} this week; the list is shown to the DSL and deputy only.")
    else:
        doc.rows(
            ["When (UTC)", "Category", "Severity", "Status", "Reference"],
            [
                [
                    i["ts"][:16].replace("T", " "),
                    category_words(i["category"]),
                    i["severity"],
                    i["status"],
                    i["id"][:12],
                ]
                for i in items
            ],
            [34, 70, 18, 22, 30],
        )
    return doc.bytes()


def governors_pdf(d: Mapping[str, Any]) -> bytes:
    """The termly governors' report as PDF (aggregates only)."""
    al, cov, resp = d["alerts"], d["coverage"], d["response"]
    doc = Doc(f"Governors' report: {d['school_name']}")
    doc.h1("Filtering and monitoring: report to governors")
    doc.para(
        f"{d['school_name']} - {d['period']['label']} ({d['period']['first_day']} to {d['period']['last_day']}). "
        "Aggregates only: no individual can be identified from this report.",
        muted=True,
    )
    doc.para(
        f"Safeguarding alerts: {al['total']} ({al['about_staff']} about staff); escalated to the head teacher: "
        f"{al['escalated_to_head']}. Severity 4-5: {resp['alerts']}, acted on {resp['acted_on']}, "
        f"{resp['within_15_minutes']} within 15 minutes"
        + (f", median {resp['median_minutes']} minutes." if resp["median_minutes"] is not None else ".")
    )
    doc.weekly(al["per_week"], "Alerts per week")
    doc.bars({category_words(k): v for k, v in al["by_category"].items()}, "Alerts by category")
    doc.bars(_sev(al["by_severity"]), "Alerts by severity")
    doc.bars({OUTCOMES.get(k, k): v for k, v in al["by_outcome"].items()}, "Closed alerts by outcome")
    checks = d.get("filter_checks")
    doc.h2("Filter checks")
    if checks and checks.get("runs"):
        doc.para(
            f"{checks['runs']} check runs ({checks['runs_passed']} fully passed), {checks['probes']} probes, "
            f"{checks['failures']} failures; last run {str(checks['last_run'])[:10]}."
        )
        doc.rows(
            ["Category", "Passed", "Failed"],
            [[k, v["passed"], v["failed"]] for k, v in checks["by_category"].items()],
            [110, 30, 30],
        )
    else:
        doc.para("No filter checks were recorded in this period.")
    doc.h2("Log coverage")
    doc.para(
        f"{cov['days_with_events']} of {cov['school_days']} weekdays so far in the period have logged events"
        + (f" ({cov['events']} events)." if "events" in cov else ".")
        + (f" Note: {cov['note']}." if cov.get("note") else "")
    )
    if cov.get("by_source"):
        doc.bars(cov["by_source"], "Logged events by source")
    return doc.bytes()
