"""HTML for the digest and the governors' report: one self-contained page each, charts as inline SVG."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.present import category_words
from cases.workflow import OUTCOMES

TEMPLATES = Path(__file__).parents[1] / "api" / "templates"
BAND_COLOURS = {"1-2": "#7f8c8d", "3": "#b7950b", "4-5": "#b00020"}


def bars(values: Mapping[str, int], title: str, width: int = 520) -> Markup:
    """Horizontal bars with the numbers written next to them (fills inline: the page has no stylesheet)."""
    items = list(values.items())[:14]
    row, label_w = 24, 200
    height = max(row * len(items) + 10, 34)
    peak = max([v for _, v in items] + [1])
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not items:
        parts.append('<text x="0" y="20" font-size="13" fill="#444">None in this period</text>')
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        w = (width - label_w - 50) * value / peak
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="#222">'
            f"{escape(str(name))[:30]}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" fill="#1f5f8b"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#222">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def weekly_columns(per_week: Mapping[str, Mapping[str, int]], title: str, width: int = 640) -> Markup:
    """Stacked columns per week (severity bands), for alerts over the term."""
    weeks = list(per_week.items())
    height, left, bottom, top = 220, 36, 40, 14
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([sum(v.values()) for _, v in weeks] + [1])
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>',
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" font-size="11">{peak}</text>',
    ]
    if not weeks:
        parts.append(f'<text x="{left + 8}" y="{top + 30}" font-size="13" fill="#444">No alerts in this period</text>')
    col = plot_w / max(len(weeks), 1)
    for i, (monday, bands) in enumerate(weeks):
        x, y = left + i * col + 2, float(top + plot_h)
        for band in ("1-2", "3", "4-5"):
            h = bands.get(band, 0) / peak * plot_h
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(col - 4, 1):.1f}" height="{h:.1f}" '
                    f'fill="{BAND_COLOURS[band]}"><title>{escape(monday)} severity {band}: {bands[band]}</title></rect>'
                )
        if len(weeks) <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{x + col / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">'
                f"{escape(monday[5:])}</text>"
            )
    for j, band in enumerate(("1-2", "3", "4-5")):
        lx = left + j * 110
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{BAND_COLOURS[band]}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="11">severity {band}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["category_words"] = category_words
    env.filters["outcome_words"] = lambda key: OUTCOMES.get(str(key), str(key))
    return env


def _words(counts: Mapping[str, int], fn: Any) -> dict[str, int]:
    return {fn(k): v for k, v in counts.items()}


def render_digest(data: Mapping[str, Any]) -> str:
    """The digest page."""
    charts = {
        "Alerts raised this week, by category": bars(
            _words(data["raised"]["by_category"], category_words), "Alerts this week by category"
        ),
        "Alerts raised this week, by severity": bars(
            {f"severity {k}": v for k, v in data["raised"]["by_severity"].items()}, "Alerts this week by severity"
        ),
    }
    return _env().get_template("report_digest.html").render(d=data, charts=charts)


def render_governors(data: Mapping[str, Any]) -> str:
    """The governors' report page."""
    al = data["alerts"]
    charts = {
        "Alerts per week": weekly_columns(al["per_week"], "Alerts per week by severity band"),
        "Alerts by category": bars(_words(al["by_category"], category_words), "Alerts by category"),
        "Alerts by severity": bars({f"severity {k}": v for k, v in al["by_severity"].items()}, "Alerts by severity"),
        "Closed alerts by outcome": bars(
            _words(al["by_outcome"], lambda k: OUTCOMES.get(k, k)), "Closed alerts by outcome"
        ),
    }
    cov = data["coverage"]
    if cov.get("by_source"):
        charts["Logged events by source"] = bars(cov["by_source"], "Events by source")
    return _env().get_template("report_governors.html").render(d=data, charts=charts)
