"""Small inline SVG charts for the dashboard (no JavaScript, no network): bars and lines with axes.

Byte figures get one unit for the whole chart, chosen from the data (`byte_unit`): a chart of a few
hundred megabytes reads in MB, an account of petabytes in TB.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

UNITS = (("B", 1), ("KB", 1024), ("MB", 1024**2), ("GB", 1024**3), ("TB", 1024**4), ("PB", 1024**5))
COLORS = ("#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#57606a")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 250, 64, 48, 28


def byte_unit(values: Sequence[float]) -> tuple[str, float]:
    """(unit name, divisor) that shows the largest of `values` as a number from 1 to 1023."""
    largest = max((abs(v) for v in values), default=0.0)
    name, size = UNITS[0]
    for unit, divisor in UNITS:
        if largest >= divisor:
            name, size = unit, divisor
    return name, float(size)


def human_bytes(value: float) -> str:
    """`value` bytes in the unit that fits it, e.g. "1.5 GB", "730 MB"."""
    unit, size = byte_unit([value])
    number = value / size
    return f"{number:,.0f} {unit}" if unit == "B" or number >= 100 else f"{number:,.1f} {unit}"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _axis(top: float, unit: str) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * i / 4
        label = f"{value:,.4g}"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    parts.append(f'<text x="8" y="14" class="unit">{html.escape(unit)}</text>')
    return parts


def _svg(title: str, body: list[str], legend: Sequence[str] = ()) -> str:
    keys = [
        f'<rect x="{LEFT + i * 150}" y="{HEIGHT - 14}" width="10" height="10" '
        f'fill="{COLORS[i % len(COLORS)]}"/>'
        f'<text x="{LEFT + i * 150 + 14}" y="{HEIGHT - 5}">{html.escape(name)}</text>'
        for i, name in enumerate(legend)
    ]
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}">'
        f"<title>{html.escape(title)}</title>{''.join(body)}{''.join(keys)}</svg>"
    )


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    """One bar per label; `values` already in `unit`."""
    top = _nice_max(max(values, default=0.0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 8) / max(1, len(values))
    body = _axis(top, unit)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        x = LEFT + i * slot + slot * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{COLORS[0]}"><title>{html.escape(label)}: {value:,.4g} {html.escape(unit)}</title></rect>'
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"{html.escape(label)}</text>"
        )
    return _svg(title, body)


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], unit: str) -> str:
    """One line per series over the shared x labels (e.g. days); values already in `unit`."""
    top = _nice_max(max((v for values in series.values() for v in values), default=0.0))
    plot_h, plot_w = HEIGHT - BOTTOM - TOP, WIDTH - LEFT - 16
    n = max(1, len(labels) - 1)
    body = _axis(top, unit)
    for i, values in enumerate(series.values()):
        points = [
            (LEFT + 4 + plot_w * j / n, HEIGHT - BOTTOM - plot_h * value / top)
            for j, value in enumerate(values)
        ]
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in points)
    step = max(1, len(labels) // 6)
    for j in range(0, len(labels), step):
        x = LEFT + 4 + plot_w * j / n
        body.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"{html.escape(labels[j])}</text>"
        )
    return _svg(title, body, list(series))
