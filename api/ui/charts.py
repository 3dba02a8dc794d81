"""Server-side SVG charts (no JavaScript library): the ±60-minute activity timeline and simple bar charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

BLOCKED = {"blocked", "warned"}


def _ts(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def timeline_svg(
    events: Sequence[Mapping[str, Any]],
    centre: datetime,
    minutes: int,
    matched: set[str],
    tz: str = "Europe/London",
    width: int = 760,
    height: int = 190,
) -> Markup:
    """Activity per two-minute bucket around the alert: allowed (grey), blocked (red), matched events marked."""
    start = centre - timedelta(minutes=minutes)
    span = 2 * minutes * 60
    bucket_s = 120 if minutes <= 90 else 600
    n = max(1, span // bucket_s)
    allowed = [0] * n
    blocked = [0] * n
    marks: list[float] = []
    for e in events:
        ts = _ts(e.get("ts"))
        if ts is None:
            continue
        offset = (ts - start).total_seconds()
        if not 0 <= offset < span:
            continue
        i = int(offset // bucket_s)
        if e.get("action") in BLOCKED:
            blocked[i] += 1
        else:
            allowed[i] += 1
        if e.get("origin") in matched:
            marks.append(offset / span)
    left, right, top, bottom = 44, 26, 26, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([a + b for a, b in zip(allowed, blocked, strict=True)] + [1])
    bar_w = plot_w / n
    zone = ZoneInfo(tz)
    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-labelledby="tl-title tl-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="tl-title">Activity in the hour either side of the alert</title>',
        f'<desc id="tl-desc">{len(events)} events; {sum(blocked)} blocked or warned; {len(marks)} matched the '
        f"alert. Bars show events per {bucket_s // 60} minutes.</desc>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
    ]
    for frac in (0.5, 1.0):
        y = top + plot_h - frac * plot_h
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="label" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{round(peak * frac)}</text>'
        )
    for i in range(n):
        x = left + i * bar_w
        a_h = allowed[i] / peak * plot_h
        b_h = blocked[i] / peak * plot_h
        if a_h:
            parts.append(
                f'<rect class="allowed" x="{x + 0.5:.1f}" y="{top + plot_h - a_h:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{a_h:.1f}"/>'
            )
        if b_h:
            parts.append(
                f'<rect class="blocked" x="{x + 0.5:.1f}" y="{top + plot_h - a_h - b_h:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{b_h:.1f}"/>'
            )
    for k in range(0, 2 * minutes + 1, 15 if minutes <= 90 else 60):
        x = left + k * 60 / span * plot_w
        label = (start + timedelta(minutes=k)).astimezone(zone).strftime("%H:%M")
        parts.append(f'<line class="tick" x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}"/>')
        parts.append(f'<text class="label" x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{label}</text>')
    cx = left + plot_w / 2
    parts.append(f'<line class="centre" x1="{cx:.1f}" y1="{top - 6}" x2="{cx:.1f}" y2="{top + plot_h}"/>')
    parts.append(f'<text class="centre-label" x="{cx + 4:.1f}" y="{top - 10}">alert</text>')
    for frac in marks:
        x = left + frac * plot_w
        parts.append(f'<path class="match" d="M{x - 5:.1f},{top - 2} L{x + 5:.1f},{top - 2} L{x:.1f},{top + 6} Z"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars_svg(values: Mapping[str, int], title: str, width: int = 460) -> Markup:
    """A horizontal bar chart of counts (aggregates only) with an accessible title."""
    items = list(values.items())[:12]
    row = 24
    height = max(row * len(items) + 10, 34)
    label_w = 170
    peak = max([v for _, v in items] + [1])
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not items:
        parts.append('<text class="label" x="0" y="20">No data in this period</text>')
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        w = (width - label_w - 50) * value / peak
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(str(name))[:26]}</text>'
        )
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}"/>')
        parts.append(f'<text class="label" x="{label_w + w + 6:.1f}" y="{y + 15}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
