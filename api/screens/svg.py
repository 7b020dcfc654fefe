"""Small server-side SVG charts: lines over days and horizontal bars over categories, with axes,
labels and a legend. No JavaScript and nothing fetched: the page carries the drawing itself.

Every chart is an `<svg role="img">` named by its `<title>` and described by a `<desc>` (what it
shows, its range and largest value), so a screen reader announces it; the page puts the numbers in
a table next to it as well. Every text that came from data (a channel, a reason typed by a person)
is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#2456d3", "#d97706", "#067647", "#b42318", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")
DASHES = ("", "6 3", "2 3")
WIDTH = 760
LINE_HEIGHT = 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 150, 14, 36
BAR_ROW = 24
BAR_LABEL = 220
MOST_X_LABELS = 8
LONGEST_LABEL = 30

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    """One value per x label; None where there is nothing to draw (a gap in the line)."""


def plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def nice_ceiling(value: float) -> tuple[float, float]:
    """The top of the axis and its step: 1, 2 or 5 times a power of ten, four or five steps."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step), step


def _short(text: str) -> str:
    return text if len(text) <= LONGEST_LABEL else text[: LONGEST_LABEL - 1] + "…"


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def line_chart(
    chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series], fmt: Format = plain
) -> Markup:
    """One line per series over `x_labels` (days), y from zero to a round number above the largest value."""
    values = [v for s in series for v in s.values if v is not None]
    largest = max(values, default=0.0)
    top, step = nice_ceiling(largest)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    count = len(x_labels)

    def x(i: int) -> float:
        return MARGIN_LEFT + (plot_w * (i + 0.5) / count if count else 0)

    def y(v: float) -> float:
        return MARGIN_TOP + plot_h * (1 - v / top)

    span = f"from {x_labels[0]} to {x_labels[-1]}" if x_labels else "with no days"
    names = ", ".join(s.name for s in series) or "none"
    description = f"Line chart {span}; series: {names}; largest value {fmt(largest)}."
    parts = _open(chart_id, title, description, LINE_HEIGHT)
    parts.append('<g class="axes" stroke="#dfe3ea">')
    ticks = round(top / step)
    for n in range(ticks + 1):
        level = y(n * step)
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{level:.1f}" y2="{level:.1f}"/>')
    parts.append("</g>")
    parts.append('<g class="y-labels" fill="#5f6b7a" text-anchor="end">')
    for n in range(ticks + 1):
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y(n * step) + 4:.1f}">{escape(fmt(n * step))}</text>')
    parts.append("</g>")
    every = max(math.ceil(count / MOST_X_LABELS), 1)
    parts.append('<g class="x-labels" fill="#5f6b7a" text-anchor="middle">')
    for i, label in enumerate(x_labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{LINE_HEIGHT - MARGIN_BOTTOM + 16}">{escape(label[5:] or label)}</text>'
            )
    parts.append("</g>")
    for n, one in enumerate(series):
        colour, dash = PALETTE[n % len(PALETTE)], DASHES[(n // len(PALETTE)) % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="series" stroke="{colour}" fill="{colour}"><title>{escape(one.name)}</title>')
        run: list[str] = []
        for i, value in enumerate(one.values):
            if value is None:
                if len(run) > 1:
                    parts.append(f'<polyline fill="none" stroke-width="2"{dashed} points="{" ".join(run)}"/>')
                run = []
                continue
            run.append(f"{x(i):.1f},{y(value):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2"/>')
        if len(run) > 1:
            parts.append(f'<polyline fill="none" stroke-width="2"{dashed} points="{" ".join(run)}"/>')
        parts.append("</g>")
        legend_y = MARGIN_TOP + 6 + 16 * n
        legend_x = WIDTH - MARGIN_RIGHT + 12
        parts.append(
            f'<g class="legend"><line x1="{legend_x}" x2="{legend_x + 18}" y1="{legend_y}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="3"{dashed}/>'
            f'<text x="{legend_x + 24}" y="{legend_y + 4}" fill="#1d2433">{escape(_short(one.name))}</text></g>'
        )
    if not values:
        parts.append(
            f'<text x="{MARGIN_LEFT + plot_w / 2:.0f}" y="{MARGIN_TOP + plot_h / 2:.0f}" '
            'text-anchor="middle" fill="#5f6b7a">nothing in this window</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from data went through escape() above


def bar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float], fmt: Format = plain) -> Markup:
    """One horizontal bar per label (a location, a reason), longest scale at a round number."""
    largest = max(values, default=0.0)
    top, step = nice_ceiling(largest)
    height = MARGIN_TOP + BAR_ROW * max(len(labels), 1) + MARGIN_BOTTOM
    plot_w = WIDTH - BAR_LABEL - 80
    description = (
        f"Bar chart of {len(labels)} {'entry' if len(labels) == 1 else 'entries'}; largest value {fmt(largest)}."
    )
    parts = _open(chart_id, title, description, height)
    bottom = height - MARGIN_BOTTOM
    parts.append('<g class="axes" stroke="#dfe3ea">')
    ticks = round(top / step)
    for n in range(ticks + 1):
        at = BAR_LABEL + plot_w * n / ticks
        parts.append(f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{MARGIN_TOP}" y2="{bottom}"/>')
    parts.append('</g><g class="x-labels" fill="#5f6b7a" text-anchor="middle">')
    for n in range(ticks + 1):
        at = BAR_LABEL + plot_w * n / ticks
        parts.append(f'<text x="{at:.1f}" y="{bottom + 16}">{escape(fmt(n * step))}</text>')
    parts.append("</g>")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        top_y = MARGIN_TOP + BAR_ROW * i
        length = plot_w * value / top
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(fmt(value))}</title>'
            f'<text x="{BAR_LABEL - 8}" y="{top_y + 16}" text-anchor="end" fill="#1d2433">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{BAR_LABEL}" y="{top_y + 4}" width="{length:.1f}" height="{BAR_ROW - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{BAR_LABEL + length + 6:.1f}" y="{top_y + 16}" fill="#1d2433">{escape(fmt(value))}</text></g>'
        )
    if not labels:
        parts.append(
            f'<text x="{BAR_LABEL + plot_w / 2:.0f}" y="{MARGIN_TOP + 16}" text-anchor="middle" '
            'fill="#5f6b7a">nothing in this window</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from data went through escape() above
