"""A grouped bar chart of a cross-tabulation, as SVG or PNG.

One group of bars per row level, one bar per column level; a bar's height is the
percentage of that row level's patients (so groups of different sizes compare), labelled
with its percentage, and each group's tick says how many patients it holds. Calm colours
from the app's palette, axis labels from the variables' labels, and the reported test in
the title's second line.

matplotlib draws on its Agg canvas (pyplot is never imported, so no global state is kept
between calls). SVG keeps text as text (so labels are searchable and selectable) and has
no date in it, so the same table gives the same bytes. Fonts are the PRISMA diagram's
(DejaVu Sans, with a CJK fallback when the machine has one: `reviewer.prisma.layout`).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Literal

from analysis.stats.crosstab import CrossTab
from analysis.stats.pvalues import p_statement
from reviewer.prisma.layout import font_family, quiet_missing_glyphs

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = ["PALETTE", "crosstab_chart"]

#: Bar colours in order: the app's deep blue, then calm blues and greys.
PALETTE = ("#1c5a8a", "#8fb3d1", "#555c65", "#c3ccd5", "#3f7fb0", "#a3a9b0", "#d9e6f2")
TEXT = "#1d2125"
MUTED = "#555c65"
GRID = "#e3e6e9"


def crosstab_chart(
    table: CrossTab, fmt: Literal["svg", "png"] = "svg", *, dpi: int = 200, title: str = ""
) -> bytes:
    """The chart of `table` as SVG or PNG bytes (`title` defaults to "column by row")."""
    import matplotlib

    if fmt not in ("svg", "png"):
        raise ValueError(f"A chart is drawn as svg or png, not {fmt!r}.")
    heading = title or f"{table.col_label} by {table.row_label}"
    buffer = io.BytesIO()
    rc: dict[RcKeyType, Any] = {
        "font.family": list(font_family()),
        "svg.fonttype": "none",
        "svg.hashsalt": "crosstab-chart",
    }
    with quiet_missing_glyphs(), matplotlib.rc_context(rc):
        figure = _figure(table, heading)
        if fmt == "svg":
            figure.savefig(
                buffer, format="svg", metadata={"Title": heading, "Date": None, "Creator": None}
            )
        else:
            figure.savefig(
                buffer, format="png", dpi=dpi, metadata={"Title": heading, "Software": None}
            )
    return buffer.getvalue()


def _figure(table: CrossTab, heading: str) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups, bars = len(table.row_levels), len(table.col_levels)
    figure = Figure(figsize=(max(6.0, 1.2 + groups * (0.45 * bars + 0.5)), 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / bars
    percentages = table.row_percentages
    for j, level in enumerate(table.col_levels):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(groups)]
        heights = [percentages[i][j] for i in range(groups)]
        drawn = axes.bar(
            xs, heights, width * 0.92, label=level, color=PALETTE[j % len(PALETTE)], zorder=2
        )
        axes.bar_label(
            drawn, labels=[f"{h:.0f}%" for h in heights], padding=2, fontsize=7, color=MUTED
        )
    axes.set_xticks(
        range(groups),
        [
            f"{level}\n(n = {n})"
            for level, n in zip(table.row_levels, table.row_totals, strict=True)
        ],
        fontsize=8,
        color=TEXT,
    )
    axes.set_xlabel(table.row_label, color=TEXT)
    axes.set_ylabel(f"% of patients in each {table.row_label} group", color=TEXT)
    axes.set_ylim(0, 112)
    axes.yaxis.grid(True, color=GRID, linewidth=0.8, zorder=0)
    axes.tick_params(axis="y", colors=MUTED, labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID)
    axes.legend(
        title=table.col_label,
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    axes.set_title(
        f"{heading}\n{table.reported_test_name}, {p_statement(table.reported_p)} (n = {table.n})",
        fontsize=10,
        color=TEXT,
        loc="left",
    )
    figure.tight_layout()
    return figure
