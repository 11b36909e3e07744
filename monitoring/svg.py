"""Charts for the PDF report as inline SVG, drawn on the server (no JavaScript
in a PDF). Plain functions: numbers and labels in, an SVG string out; every
label is escaped."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "Noto Sans CJK SC, sans-serif"
BLUE, GREEN, ORANGE, GREY = "#0b5394", "#2e7d32", "#e69138", "#888888"
LIGHT = {BLUE: "#b7cbe0", GREEN: "#b9d9bb"}


def _nice_max(value: float) -> float:
    """A round axis maximum split into four round steps."""
    if value <= 0:
        return 1.0
    raw = value / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            return 4 * step * magnitude
    return 40 * magnitude


def _number(value: float) -> str:
    if value >= 100_000_000:
        return f"{value / 100_000_000:g}亿"
    if value >= 10_000:
        return f"{value / 10_000:g}万"
    return f"{value:,.0f}"


def trend_chart(labels: list[str], lines: list[tuple[str, list, str]], bars: list[tuple[str, list, str]],
                *, width: int = 680, height: int = 250, line_unit: str = "元", bar_unit: str = "人次") -> SafeString:
    """Lines on the left axis (e.g. 次均费用), bars on the right axis (e.g. 人次)."""
    left, right, top, bottom = 58, 50, 30, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    line_values = [float(v) for _n, values, _c in lines for v in values if v is not None]
    bar_values = [float(v) for _n, values, _c in bars for v in values if v is not None]
    line_max = _nice_max(max(line_values, default=0))
    bar_max = _nice_max(max(bar_values, default=0))
    count = max(len(labels), 1)
    slot = plot_w / count
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="{FONT}" font-size="9">']
    for step in range(5):
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.6"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#333">{_number(line_max * step / 4)}</text>')
        if bars:
            parts.append(f'<text x="{left + plot_w + 4}" y="{y + 3:.1f}" fill="#333">{_number(bar_max * step / 4)}</text>')
    parts.append(f'<text x="{left - 4}" y="{top - 10}" text-anchor="end" fill="#333">{escape(line_unit)}</text>')
    if bars:
        parts.append(f'<text x="{left + plot_w + 4}" y="{top - 10}" fill="#333">{escape(bar_unit)}</text>')
    bar_w = slot * 0.7 / max(len(bars), 1)
    for index, (_name, values, color) in enumerate(bars):
        for position, value in enumerate(values):
            if not value:
                continue
            h = plot_h * float(value) / bar_max
            x = left + slot * position + slot * 0.15 + bar_w * index
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{LIGHT.get(color, color)}"/>')
    for _name, values, color in lines:
        points = [
            (left + slot * (position + 0.5), top + plot_h - plot_h * float(value) / line_max)
            for position, value in enumerate(values) if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{color}"/>' for x, y in points)
    for position, label in enumerate(labels):
        x = left + slot * (position + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 13}" text-anchor="middle" fill="#333">{escape(label[2:] if len(label) == 7 else label)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333" stroke-width="0.8"/>')
    legend_x = left
    for name, _values, color in lines:
        parts.append(f'<line x1="{legend_x}" y1="{height - 8}" x2="{legend_x + 16}" y2="{height - 8}" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{legend_x + 20}" y="{height - 5}" fill="#000">{escape(name)}</text>')
        legend_x += 24 + 10 * len(name)
    for name, _values, color in bars:
        parts.append(f'<rect x="{legend_x}" y="{height - 13}" width="12" height="9" fill="{LIGHT.get(color, color)}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{height - 5}" fill="#000">{escape(name)}</text>')
        legend_x += 22 + 10 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped


def bar_ranking(labels: list[str], values: list, *, color: str = BLUE, width: int = 330, unit: str = "万元",
                divisor: Decimal = Decimal(10000)) -> SafeString:
    """Horizontal bars, largest first, with the value at the end of each bar."""
    row_h, left, right, top = 17, 92, 56, 6
    height = top * 2 + row_h * max(len(labels), 1)
    scaled = [float(Decimal(v) / divisor) for v in values]
    peak = max(scaled, default=0) or 1
    plot_w = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="{FONT}" font-size="9">']
    for index, (label, value) in enumerate(zip(labels, scaled, strict=True)):
        y = top + row_h * index
        w = plot_w * value / peak
        text = label if len(label) <= 9 else label[:8] + "…"
        parts.append(f'<text x="{left - 4}" y="{y + 12}" text-anchor="end" fill="#000">{escape(text)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{row_h - 6}" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 3:.1f}" y="{y + 12}" fill="#333">{value:,.2f}</text>')
    parts.append(f'<text x="{width - 2}" y="{height - 1}" text-anchor="end" fill="#555">单位：{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - labels are escaped


def column_chart(labels: list[str], series: list[tuple[str, list, str]], *, width: int = 680, height: int = 210,
                 unit: str = "元") -> SafeString:
    """Grouped columns per label (e.g. each city's 次均费用, both directions)."""
    left, right, top, bottom = 58, 10, 22, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((float(v) for _n, values, _c in series for v in values if v is not None), default=0))
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.75 / max(len(series), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="{FONT}" font-size="9">']
    for step in range(5):
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.6"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#333">{_number(peak * step / 4)}</text>')
    parts.append(f'<text x="{left - 4}" y="{top - 9}" text-anchor="end" fill="#333">{escape(unit)}</text>')
    for index, (_name, values, color) in enumerate(series):
        for position, value in enumerate(values):
            if not value:
                continue
            h = plot_h * float(value) / peak
            x = left + slot * position + slot * 0.125 + bar_w * index
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}"/>')
    for position, label in enumerate(labels):
        parts.append(f'<text x="{left + slot * (position + 0.5):.1f}" y="{top + plot_h + 13}" text-anchor="middle" fill="#000">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333" stroke-width="0.8"/>')
    legend_x = left
    for name, _values, color in series:
        parts.append(f'<rect x="{legend_x}" y="{height - 13}" width="12" height="9" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{height - 5}" fill="#000">{escape(name)}</text>')
        legend_x += 22 + 10 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - labels are escaped
