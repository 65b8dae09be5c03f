"""The progress chart: relevant records found against records screened. Pure code.

Plain data in (for each line, the 0/1 relevance of the records in the order they were
screened), plain data out (points in the chart's pixel space, axis ticks); the template
draws the SVG. A line keeps at most `MAX_POINTS` points, so a 20,000-record review
still makes a small page: a step chart thinned evenly, its last point always kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_POINTS = 400
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40  # margins for the axes and their labels


@dataclass(frozen=True)
class Line:
    label: str
    css: str  # the CSS class of the line (its colour and dash)
    screened: int
    relevant: int
    points: str  # "x,y x,y ..." for <polyline points>
    end_x: float
    end_y: float


@dataclass(frozen=True)
class Tick:
    value: int
    position: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_max: int
    y_max: int

    @property
    def empty(self) -> bool:
        return not any(line.screened for line in self.lines)


def cumulative(labels_in_order: Sequence[bool | int]) -> list[tuple[int, int]]:
    """(screened, relevant found) after each record, starting from (0, 0)."""
    points = [(0, 0)]
    found = 0
    for n, label in enumerate(labels_in_order, start=1):
        found += int(bool(label))
        points.append((n, found))
    return points


def thin(points: list[tuple[int, int]], limit: int = MAX_POINTS) -> list[tuple[int, int]]:
    """At most `limit` points, evenly spaced, the first and last kept."""
    if len(points) <= limit:
        return points
    step = (len(points) - 1) / (limit - 1)
    picked = [points[round(i * step)] for i in range(limit - 1)]
    return [*picked, points[-1]]


def nice_ticks(maximum: int, count: int = 5) -> list[int]:
    """Round tick values from 0 to at least `maximum` (1, 2 or 5 times a power of ten apart)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, int(step))
    top = math.ceil(maximum / step) * step
    return list(range(0, top + 1, step))


def chart(series: Sequence[tuple[str, str, Sequence[bool | int]]]) -> Chart:
    """A chart of `series`: (label, css class, labels in screening order) per line."""
    cumulated = [(label, css, cumulative(labels)) for label, css, labels in series]
    x_ticks = nice_ticks(max((pts[-1][0] for _, _, pts in cumulated), default=0))
    y_ticks = nice_ticks(max((pts[-1][1] for _, _, pts in cumulated), default=0))
    x_max, y_max = x_ticks[-1], y_ticks[-1]
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x(value: float) -> float:
        return round(LEFT + (right - LEFT) * value / x_max, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - TOP) * value / y_max, 1)

    lines = []
    for label, css, points in cumulated:
        kept = thin(points)
        last_x, last_y = points[-1]
        lines.append(
            Line(
                label=label,
                css=css,
                screened=last_x,
                relevant=last_y,
                points=" ".join(f"{x(px)},{y(py)}" for px, py in kept),
                end_x=x(last_x),
                end_y=y(last_y),
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        lines=lines,
        x_ticks=[Tick(value, x(value)) for value in x_ticks],
        y_ticks=[Tick(value, y(value)) for value in y_ticks],
        x_max=x_max,
        y_max=y_max,
    )
