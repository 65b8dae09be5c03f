"""The risk-of-bias figures journals expect, drawn as robvis draws them (McGuinness LA,
Higgins JPT. Risk-of-bias VISualization (robvis). Res Syn Meth 2021;12:55-61):

- the traffic-light plot: one row per study, one column per domain and the overall, a
  coloured circle with its symbol (+ low, − some concerns, × high, ! critical, ? no
  information), the domains named in a key below;
- the summary plot: one horizontal bar per domain, split by the share of studies at each
  level, weighted (by each study's number of patients when given) or not.

Plain data in (`Plotted`), bytes out; matplotlib on its Agg canvas (no pyplot state). SVG
keeps its text as `<text>` (`svg.fonttype` none) and carries no date, so the same
judgements give the same bytes; PDF embeds TrueType (fonttype 42).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from extraction.appraisal.tools import ALL_LEVELS, COLOURS, NA
from reviewer.prisma.layout import font_family, quiet_missing_glyphs

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

Format = Literal["svg", "png", "pdf"]
FORMATS: dict[str, str] = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}
#: The symbol on each judgement's circle, as robvis draws them (+ − × ! ?), as markers.
MARKERS = {"low": "+", "some": "_", "high": "x", "critical": "$!$", "ni": "$?$"}
TEXT = "#1d2125"
MUTED = "#555c65"
GRID = "#e3e6e9"


@dataclass(frozen=True)
class Plotted:
    """What a figure shows: the tool's domains (key, name), its level names, and per study
    its label, weight and levels by domain key ("overall" for the overall)."""

    title: str
    domains: Sequence[tuple[str, str]]
    level_names: dict[str, str]
    overall_names: dict[str, str]
    studies: Sequence[tuple[str, float, dict[str, str | None]]]
    weighted: bool = False


def _save(figure: Figure, fmt: Format, title: str, salt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "svg":
        figure.savefig(
            buffer, format="svg", metadata={"Title": title, "Date": None, "Creator": None}
        )
    elif fmt == "png":
        figure.savefig(buffer, format="png", dpi=200, metadata={"Title": title, "Software": None})
    elif fmt == "pdf":
        figure.savefig(
            buffer,
            format="pdf",
            metadata={"Title": title, "Creator": None, "Producer": None, "CreationDate": None},
        )
    else:
        raise ValueError(f"A figure is drawn as svg, png or pdf, not {fmt!r}.")
    return buffer.getvalue()


def _rc(salt: str) -> dict[RcKeyType, Any]:
    return {
        "font.family": list(font_family()),
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "pdf.fonttype": 42,
    }


def traffic_light(data: Plotted, fmt: Format = "svg") -> bytes:
    import matplotlib

    with quiet_missing_glyphs(), matplotlib.rc_context(_rc("rob-traffic-light")):
        return _save(_traffic_figure(data), fmt, data.title, "rob-traffic-light")


def summary(data: Plotted, fmt: Format = "svg") -> bytes:
    import matplotlib

    with quiet_missing_glyphs(), matplotlib.rc_context(_rc("rob-summary")):
        return _save(_summary_figure(data), fmt, data.title, "rob-summary")


def _levels_used(data: Plotted) -> list[str]:
    used = {level for _, _, levels in data.studies for level in levels.values() if level}
    named = set(data.level_names) | set(data.overall_names)
    return [level for level in ALL_LEVELS if level in used or (level in named and level != NA)]


def _traffic_figure(data: Plotted) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    columns = [*data.domains, ("overall", "Overall")]
    rows = len(data.studies)
    label_width = max([len(label) for label, _, _ in data.studies] + [8]) * 0.075 + 0.3
    cell = 0.34
    key_lines = len(columns) + 1
    gap = 0.6  # cells between the domains and the overall, so their headings never touch
    span = len(columns) + gap
    width = max(5.5, label_width + cell * span + 0.6)
    body = cell * max(rows, 1)
    height = body + 0.9 + 0.17 * key_lines + 0.5
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    top = 0.7 / height
    axes = figure.add_axes(
        (label_width / width, 1 - top - body / height, cell * span / width, body / height)
    )
    axes.set_xlim(0, span)

    def x(j: int) -> float:
        return j + 0.5 + (gap if j == len(columns) - 1 else 0)

    axes.set_ylim(max(rows, 1), 0)
    axes.set_axis_off()
    for j, (key, _) in enumerate(columns):
        axes.text(
            x(j),
            -0.25,
            key if key != "overall" else "Overall",
            ha="center",
            va="bottom",
            fontsize=8,
            color=TEXT,
            fontweight="bold",
        )
    # One collection per level for the circles and one for their symbols: drawing 1,650
    # patches and texts one by one took 17 s at 150 studies, collections take well under 1.
    stripes = [Rectangle((0, i), span, 1) for i in range(0, rows, 2)]
    axes.add_collection(
        PatchCollection(stripes, facecolor="#f6f7f8", edgecolor="none", zorder=0), autolim=False
    )
    cells: dict[str, tuple[list[float], list[float]]] = {}
    for i, (label, _, levels) in enumerate(data.studies):
        axes.text(-0.15, i + 0.5, label, ha="right", va="center", fontsize=8, color=TEXT)
        for j, (key, _) in enumerate(columns):
            level = levels.get(key)
            if level:
                xs, ys = cells.setdefault(level, ([], []))
                xs.append(x(j))
                ys.append(i + 0.5)
    diameter = 0.72 * cell * 72  # points
    for level, (xs, ys) in cells.items():
        axes.scatter(
            xs,
            ys,
            s=diameter**2,
            c=COLOURS.get(level, "#cccccc"),
            edgecolors="white" if level != NA else "#999999",
            linewidths=0.6,
            zorder=2,
        )
        marker = MARKERS.get(level)
        if marker:
            axes.scatter(
                xs,
                ys,
                s=(diameter * 0.42) ** 2,
                marker=marker,
                c="white" if level not in ("some", "ni") else TEXT,
                linewidths=1.6,
                zorder=3,
            )
    if not data.studies:
        axes.text(
            span / 2,
            0.5,
            "No final appraisal yet",
            ha="center",
            va="center",
            fontsize=9,
            color=MUTED,
        )
    axes.axvline(len(columns) - 1 + gap / 2, color=GRID, linewidth=1)
    figure.text(0.02, 1 - 0.2 / height, data.title, fontsize=10, color=TEXT, va="top")
    # the key: domain names, then the judgements
    y = (0.9 + 0.17 * key_lines) / height - 0.25 / height
    figure.text(0.02, y, "Domains:", fontsize=7.5, color=TEXT, fontweight="bold", va="top")
    for n, (key, name) in enumerate(data.domains, start=1):
        figure.text(
            0.02, y - n * 0.17 / height, f"{key}: {name}", fontsize=7.5, color=MUTED, va="top"
        )
    handles = [
        Patch(facecolor=COLOURS[level], edgecolor="none", label=_name(data, level))
        for level in _levels_used(data)
    ]
    figure.legend(
        handles=handles,
        title="Judgement",
        loc="lower right",
        fontsize=7.5,
        title_fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.98, 0.02),
    )
    return figure


def _name(data: Plotted, level: str) -> str:
    names = [data.level_names.get(level), data.overall_names.get(level)]
    shown = [n for n in dict.fromkeys(names) if n]
    return " / ".join(shown) or level


def _summary_figure(data: Plotted) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    columns = [*data.domains, ("overall", "Overall risk of bias")]
    levels = _levels_used(data)
    height = 1.3 + 0.38 * len(columns)
    figure = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.36, 0.9 / height, 0.6, (height - 1.5) / height))
    for i, (key, name) in enumerate(columns):
        totals: dict[str, float] = {}
        for _, weight, judged in data.studies:
            level = judged.get(key)
            if level:
                totals[level] = totals.get(level, 0.0) + (weight if data.weighted else 1.0)
        whole = sum(totals.values())
        left = 0.0
        for level in levels:
            share = 100 * totals.get(level, 0.0) / whole if whole else 0.0
            if share <= 0:
                continue
            axes.barh(
                i,
                share,
                left=left,
                height=0.7,
                color=COLOURS[level],
                edgecolor="white",
                linewidth=0.6,
            )
            left += share
        axes.text(
            -1.5,
            i,
            f"{key}: {name}" if key != "overall" else name,
            ha="right",
            va="center",
            fontsize=8,
            color=TEXT,
        )
    axes.set_xlim(0, 100)
    axes.set_ylim(len(columns) - 0.5, -0.5)
    axes.set_yticks([])
    axes.set_xticks(
        [0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=8, color=MUTED
    )
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    basis = "patients (studies weighted by size)" if data.weighted else "studies"
    axes.set_xlabel(f"Share of {basis}, n = {len(data.studies)} studies", fontsize=8, color=MUTED)
    figure.text(0.02, 1 - 0.15 / height, data.title, fontsize=10, color=TEXT, va="top")
    handles = [Patch(facecolor=COLOURS[level], label=_name(data, level)) for level in levels]
    figure.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 5),
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.6, 0.0),
    )
    return figure
