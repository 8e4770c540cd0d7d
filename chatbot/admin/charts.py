"""Charts for the staff pages, drawn on the server as inline SVG: no script, no library, nothing fetched.

Geometry is plain attributes (x, y, width, height, points); colours and
strokes are classes styled in chatbot/web/static/admin.css, never a style
attribute, so the pages keep their strict CSP. Each chart is an image with a
<title> and <desc> for screen readers, each bar has a <title> (a tooltip with
its figures), and the page shows the same figures as text or a table.

    daily_chart(report.days, KIND_WORDS)   # questions per day stacked by reply kind, conversations as a line
    share_chart(report.kinds, KIND_WORDS)  # one bar per reply kind, its share of the questions
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from ..staff.usage import DayFigures

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28   # room for the axis labels
SHARE_ROW, SHARE_LABEL = 30, 190           # share chart: height of a row, width of its label column


def nice_ceiling(value: float) -> int:
    """The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^n) at or above `value`, at least 1:
    the top of an axis, so its half is a round number too."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(step * power) for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def daily_chart(days: Sequence[DayFigures], kind_words: dict[str, str]) -> Markup:
    """Questions per day as bars stacked by reply kind (`kind_words`: kind -> words, in stacking
    order) and the day's conversations as a line; an axis with 0, half and the top."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((d.questions for d in days), default=0))
    step = plot_width / max(len(days), 1)
    gap = 1 if step > 3 else 0

    def y(value: float) -> float:
        return TOP + plot_height * (1 - value / top)

    parts = []
    for fraction in (0, 0.5, 1):
        value = top * fraction
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    line = []
    for i, day in enumerate(days):
        x = LEFT + i * step
        bars, base = [], 0
        for kind in kind_words:
            count = day.kinds.get(kind, 0)
            if count:
                bars.append(f'<rect class="bar kind-{kind}" x="{x:.1f}" y="{y(base + count):.1f}" '
                            f'width="{max(step - gap, 0.5):.1f}" height="{y(base) - y(base + count):.1f}"/>')
                base += count
        detail = "; ".join(f"{kind_words[k]}: {day.kinds.get(k, 0)}" for k in kind_words)
        counts = f"{_plural(day.questions, 'question')} in {_plural(day.conversations, 'conversation')}"
        tip = f"{day.day}: {counts} ({detail})"
        parts.append(f"<g><title>{escape(tip)}</title>{''.join(bars)}"
                     f'<rect class="hit" x="{x:.1f}" y="{TOP}" width="{step:.1f}" height="{plot_height}"/></g>')
        line.append(f"{x + step / 2:.1f},{y(day.conversations):.1f}")
    if line:
        parts.append(f'<polyline class="line conversations" points="{" ".join(line)}"/>')
    for i in sorted({0, len(days) // 2, len(days) - 1}) if days else ():
        anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
        x = LEFT + i * step + (0 if anchor == "start" else step if anchor == "end" else step / 2)
        parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{days[i].day}</text>')
    total = sum(d.questions for d in days)
    summary = f"{_plural(total, 'question')} over {_plural(len(days), 'day')}"
    if days:
        summary += f", from {days[0].day} to {days[-1].day}; at most {max(d.questions for d in days)} a day"
    summary += ". Bars: questions, coloured by reply kind. Line: conversations."
    return _svg("daily", "Questions and conversations per day", summary, WIDTH, HEIGHT, parts)


def share_chart(kinds: dict[str, int], kind_words: dict[str, str]) -> Markup:
    """One horizontal bar per reply kind: its share of all the questions, with the figure beside it."""
    total = sum(kinds.values())
    height = SHARE_ROW * len(kind_words) + 4
    room = WIDTH - SHARE_LABEL - 90
    parts, words = [], []
    for row, (kind, label) in enumerate(kind_words.items()):
        count = kinds.get(kind, 0)
        share = count / total if total else 0
        y = row * SHARE_ROW + 4
        figure = f"{share:.0%} ({count})"
        words.append(f"{label}: {figure}")
        parts.append(f'<g><title>{escape(label)}: {figure}</title>'
                     f'<text class="label" x="{SHARE_LABEL - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
                     f'<rect class="bar kind-{kind}" x="{SHARE_LABEL}" y="{y}" width="{room * share:.1f}" '
                     f'height="{SHARE_ROW - 10}"/>'
                     f'<text class="figure" x="{SHARE_LABEL + room * share + 6:.1f}" y="{y + 16}">{figure}</text></g>')
    summary = (f"Of {_plural(total, 'question')}: " + "; ".join(words) + ".") if total else "No questions."
    return _svg("shares", "Share of each reply kind", summary, WIDTH, height, parts)


def _svg(name: str, title: str, summary: str, width: int, height: int, parts: list[str]) -> Markup:
    """The chart as an image; `name` makes its ids (one chart of each name on a page)."""
    n = name
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-labelledby="chart-{n}-title chart-{n}-desc" xmlns="http://www.w3.org/2000/svg">'
                  f'<title id="chart-{n}-title">{escape(title)}</title>'
                  f'<desc id="chart-{n}-desc">{escape(summary)}</desc>'
                  + "".join(parts) + "</svg>")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
