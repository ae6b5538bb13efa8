"""Small inline SVG charts for the HTML report: no JavaScript, no CDN, readable when printed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 20, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.ceil(math.log10(value))
    for step in (0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= magnitude * step:
            return magnitude * step
    return magnitude


def _frame(chart_id: str, title: str, body: list[str], legend: Sequence[tuple[str, str]]) -> str:
    items = [
        f'<rect x="{WIDTH - RIGHT + 15}" y="{TOP + 18 * i}" width="12" height="12" fill="{c}"/>'
        f'<text x="{WIDTH - RIGHT + 32}" y="{TOP + 18 * i + 11}">{escape(name)}</text>'
        for i, (name, c) in enumerate(legend)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        + "".join(body)
        + "".join(items)
        + "</svg>"
    )


def _y_axis(top_value: float, fmt: str) -> list[str]:
    out = []
    for i in range(5):
        value = top_value * i / 4
        y = TOP + PLOT_H - PLOT_H * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt.format(value)}</text>'
        )
    return out


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    every = max(1, len(labels) // 10)
    return [
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{TOP + PLOT_H + 16}" '
        f'text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def stacked_bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
) -> str:
    """One bar per label, stacked by series (name, colour, values)."""
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    slot = PLOT_W / max(1, len(labels))
    body = _y_axis(top, "{:.0f}")
    for i, label in enumerate(labels):
        base = 0.0
        for name, colour, values in series:
            v = values[i]
            if v <= 0:
                continue
            h = PLOT_H * v / top
            y = TOP + PLOT_H - PLOT_H * (base + v) / top
            body.append(
                f'<rect x="{LEFT + slot * i + slot * 0.1:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.8:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)} {escape(name)}: {v:g}</title></rect>"
            )
            base += v
    body += _x_labels(labels, slot)
    return _frame(chart_id, title, body, [(n, c) for n, c, _ in series])


def lines(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    fmt: str = "{:.2f}",
) -> str:
    """One polyline per series over the labels."""
    top = _nice_max(max((v for s in series for v in s[2]), default=0))
    slot = PLOT_W / max(1, len(labels))
    body = _y_axis(top, fmt)
    for name, colour, values in series:
        points = " ".join(
            f"{LEFT + slot * (i + 0.5):.1f},{TOP + PLOT_H - PLOT_H * v / top:.1f}"
            for i, v in enumerate(values)
        )
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    body += _x_labels(labels, slot)
    return _frame(chart_id, title, body, [(n, c) for n, c, _ in series])


def intervals(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    points: Sequence[tuple[float, float, float] | None],
    target: float | None,
) -> str:
    """Point estimates with their interval as whiskers, on a scale zoomed to the data."""
    present = [p for p in points if p is not None]
    floor = min([p[1] for p in present] + ([target] if target is not None else []), default=0.9)
    floor = max(0.0, min(floor, 0.99) - 0.01)
    floor = int(floor * 100) / 100

    def y(v: float) -> float:
        return TOP + PLOT_H - PLOT_H * (v - floor) / (1 - floor)

    body = []
    for i in range(5):
        v = floor + (1 - floor) * i / 4
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{v:.1%}</text>'
        )
    if target is not None:
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="#c0392b" stroke-dasharray="6 4"><title>SLA {target:.2%}</title></line>'
        )
    slot = PLOT_W / max(1, len(labels))
    for i, p in enumerate(points):
        if p is None:
            continue
        value, low, high = p
        x = LEFT + slot * (i + 0.5)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(low):.1f}" y2="{y(high):.1f}" '
            f'stroke="#2c3e50" stroke-width="2"/>'
            f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="4" fill="#2980b9">'
            f"<title>{escape(labels[i])}: {value:.2%} ({low:.2%}–{high:.2%})</title></circle>"
        )
    body += _x_labels(labels, slot)
    legend = [("accuracy, 95% interval", "#2980b9")]
    if target is not None:
        legend.append(("SLA", "#c0392b"))
    return _frame(chart_id, title, body, legend)
