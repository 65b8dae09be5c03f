"""A forest plot of a pooled result (`analysis.stats.meta.Pooled`), as SVG, PNG or PDF.

One row per study: its label, its counts, a square at its estimate sized by its weight
with its 95% CI as a line, and at the right its estimate [95% CI] and weight. Below, the
pooled estimate as a diamond spanning its CI, the 95% prediction interval as a bar, and
the heterogeneity line (I², τ² and its estimator, Q with its p). Proportions are drawn in
percent on a linear axis, odds and risk ratios on a log axis with a line at 1.

The rows keep a fixed height, so a plot of 60 studies is as legible as one of 6 (it grows
taller). Drawn as `analysis.stats.chart` draws: the Agg canvas without pyplot, text kept as
text in SVG, no dates in the files, so the same result gives the same bytes.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, Literal

from analysis.stats.chart import GRID, MUTED, PALETTE, TEXT
from analysis.stats.meta import Pooled
from analysis.stats.pvalues import p_statement
from reviewer.prisma.layout import font_family, quiet_missing_glyphs

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = ["FORMATS", "forest_plot"]

ForestFormat = Literal["svg", "png", "pdf"]
FORMATS: tuple[ForestFormat, ...] = ("svg", "png", "pdf")
#: Inches per row and around the rows.
ROW_HEIGHT = 0.24
MARGIN = 1.45
LABEL_LENGTH = 42
ACCENT = PALETTE[0]
SHORT_METHODS = {
    "glmm": "binomial-normal GLMM",
    "reml": "random effects (REML)",
    "dl": "random effects (DerSimonian–Laird)",
    "mh": "Mantel–Haenszel fixed effect",
}


def forest_plot(
    result: Pooled,
    fmt: ForestFormat = "svg",
    *,
    title: str = "",
    unit: str = "patients",
    groups: tuple[str, str] = ("group 1", "group 2"),
    dpi: int = 150,
) -> bytes:
    """The forest plot of `result` as SVG, PNG or PDF bytes; `unit` names the rows counted
    ("patients", "sites"), `groups` the two groups of a ratio (group 1 against group 2)."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"A forest plot is drawn as svg, png or pdf, not {fmt!r}.")
    heading = title or f"Pooled {result.measure_name}"
    buffer = io.BytesIO()
    rc: dict[RcKeyType, Any] = {
        "font.family": list(font_family()),
        "svg.fonttype": "none",
        "svg.hashsalt": "forest-plot",
    }
    with quiet_missing_glyphs(), matplotlib.rc_context(rc):
        figure = _figure(result, heading, unit, groups)
        if fmt == "svg":
            metadata: dict[str, Any] = {"Title": heading, "Date": None, "Creator": None}
        elif fmt == "pdf":
            metadata = {"Title": heading, "CreationDate": None, "Creator": None, "Producer": None}
        else:
            metadata = {"Title": heading, "Software": None}
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def _short(label: str, length: int = LABEL_LENGTH) -> str:
    """A label cut to fit its column (the plot only: tables and exports keep it whole)."""
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"


def _scale(result: Pooled) -> tuple[float, str]:
    """Multiplier and suffix of the numbers printed: percent for proportions."""
    return (100.0, "%") if result.is_proportion else (1.0, "")


def _interval(result: Pooled, estimate: float | None, low: float | None, high: float | None) -> str:
    if estimate is None or low is None or high is None:
        return "not estimable"
    factor, suffix = _scale(result)
    digits = 1 if result.is_proportion else 2
    return (
        f"{factor * estimate:.{digits}f}{suffix} "
        f"[{factor * low:.{digits}f}{suffix}, {factor * high:.{digits}f}{suffix}]"
    )


def _figure(result: Pooled, heading: str, unit: str, groups: tuple[str, str]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    k = len(result.studies)
    rows = k + 3  # the studies, a gap, the pooled diamond, the prediction interval
    two_groups = not result.is_proportion
    figure = Figure(figsize=(10.5, MARGIN + ROW_HEIGHT * (rows + 2)), dpi=100)
    FigureCanvasAgg(figure)
    top = 1 - 0.62 / figure.get_figheight()
    bottom = 0.9 / figure.get_figheight()
    grid = figure.add_gridspec(
        1, 3, width_ratios=(4.2, 3.6, 2.7), wspace=0.02, top=top, bottom=bottom, left=0.02
    )
    left, plot, right = (figure.add_subplot(grid[0, i]) for i in range(3))
    for axes in (left, plot, right):
        axes.set_ylim(-3.6, k + 0.9)
    for axes in (left, right):
        axes.set_xlim(0, 1)
        axes.axis("off")

    header_y = k + 0.6
    left.text(0, header_y, "Study", fontweight="bold", color=TEXT, fontsize=8, va="bottom")
    if two_groups:
        for x, name in ((0.76, groups[0]), (0.98, groups[1])):
            left.text(
                x, header_y, _short(name, 15), color=MUTED, fontsize=8, ha="right", va="bottom"
            )
    else:
        left.text(
            0.98, header_y, "events / total", color=MUTED, fontsize=8, ha="right", va="bottom"
        )
    right.text(
        0.02, header_y, "Estimate [95% CI]", fontweight="bold", color=TEXT, fontsize=8, va="bottom"
    )
    right.text(0.98, header_y, "Weight", color=MUTED, fontsize=8, ha="right", va="bottom")

    weights = [s.weight for s in result.studies if s.weight is not None]
    heaviest = max(weights) if weights else 1.0
    factor, _ = _scale(result)
    for i, study in enumerate(result.studies):
        y = k - i - 0.5
        left.text(0, y, _short(study.label), color=TEXT, fontsize=8, va="center")
        if two_groups:
            left.text(
                0.76,
                y,
                f"{study.events}/{study.total}",
                color=MUTED,
                fontsize=8,
                ha="right",
                va="center",
            )
            counts = f"{study.events_2}/{study.total_2}"
        else:
            counts = f"{study.events} / {study.total}"
        left.text(0.98, y, counts, color=MUTED, fontsize=8, ha="right", va="center")
        right.text(
            0.02,
            y,
            _interval(result, study.estimate, study.ci_low, study.ci_high),
            color=TEXT,
            fontsize=8,
            va="center",
        )
        weight = "—" if study.weight is None else f"{study.weight:.1f}%"
        right.text(0.98, y, weight, color=MUTED, fontsize=8, ha="right", va="center")
        if study.estimate is None or study.ci_low is None or study.ci_high is None:
            continue
        plot.plot(
            [factor * study.ci_low, factor * study.ci_high],
            [y, y],
            color=MUTED,
            linewidth=0.9,
            solid_capstyle="butt",
        )
        size = 3 + 7 * math.sqrt((study.weight or heaviest) / heaviest)
        plot.plot(factor * study.estimate, y, marker="s", markersize=size, color=ACCENT, zorder=3)

    pooled_y, pi_y = -1.2, -2.3
    label = f"Pooled: {SHORT_METHODS[result.method]}"
    left.text(0, pooled_y, label, fontweight="bold", color=TEXT, fontsize=8, va="center")

    fixed = result.method == "mh"
    pi_label = "95% prediction interval" + (": none (fixed effect)" if fixed else "")
    left.text(0, pi_y, pi_label, color=MUTED, fontsize=8, va="center")
    interval = _interval(result, result.estimate, result.ci_low, result.ci_high)
    right.text(0.02, pooled_y, interval, fontweight="bold", color=TEXT, fontsize=8, va="center")
    total_weight = "100%" if weights else "—"
    right.text(0.98, pooled_y, total_weight, color=MUTED, fontsize=8, ha="right", va="center")
    pi_text = _interval(result, result.estimate, result.pi_low, result.pi_high).split(" ", 1)[1]
    if not fixed:
        right.text(0.02, pi_y, pi_text, color=MUTED, fontsize=8, va="center")
    diamond = Polygon(
        [
            (factor * result.ci_low, pooled_y),
            (factor * result.estimate, pooled_y + 0.36),
            (factor * result.ci_high, pooled_y),
            (factor * result.estimate, pooled_y - 0.36),
        ],
        closed=True,
        facecolor=ACCENT,
        edgecolor=ACCENT,
        zorder=3,
    )
    plot.add_patch(diamond)
    if not fixed:
        plot.plot(
            [factor * result.pi_low, factor * result.pi_high],
            [pi_y, pi_y],
            color=PALETTE[1],
            linewidth=5,
            solid_capstyle="butt",
        )
    plot.axvline(factor * result.estimate, color=ACCENT, linewidth=0.7, linestyle=(0, (3, 3)))
    _axis(plot, result)

    tau2 = "not estimated (fixed effect)" if fixed else f"{result.tau2:.4g} ({result.estimator})"
    heterogeneity = (
        f"{result.k} studies, {result.n:,} {unit}. Heterogeneity: I² = {result.i2:.1f}%, "
        f"τ² = {tau2}, Q = {result.q:.2f} on {result.q_df} df, {p_statement(result.q_p)}"
    )
    if not weights:
        heterogeneity += "; the GLMM weighs studies by their likelihood, not by fixed weights"
    figure.text(0.02, 0.22 / figure.get_figheight(), heterogeneity, color=TEXT, fontsize=8)
    figure.text(
        0.02,
        1 - 0.36 / figure.get_figheight(),
        heading,
        color=TEXT,
        fontsize=11,
        fontweight="bold",
    )
    return figure


def _axis(plot: Axes, result: Pooled) -> None:
    from matplotlib.ticker import FuncFormatter

    studies = [
        v for s in result.studies for v in (s.ci_low, s.ci_high) if v is not None and v > 0
    ] + [result.pi_low, result.pi_high, result.ci_low, result.ci_high]
    for side in ("top", "right", "left"):
        plot.spines[side].set_visible(False)
    plot.spines["bottom"].set_color(GRID)
    plot.set_yticks([])
    plot.tick_params(axis="x", colors=MUTED, labelsize=8)
    plot.xaxis.grid(True, color=GRID, linewidth=0.6, zorder=0)
    if result.is_proportion:
        plot.set_xlim(0, 100)
        plot.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        plot.set_xlabel("Proportion (95% CI)", color=MUTED, fontsize=8)
        return
    low = min(min(studies), 0.5)
    high = max(max(studies), 2.0)
    plot.set_xscale("log")
    plot.set_xlim(max(low / 1.3, 1e-3), min(high * 1.3, 1e3))
    plot.axvline(1.0, color=MUTED, linewidth=0.8)
    plot.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    name = "Odds ratio" if result.measure == "OR" else "Risk ratio"
    plot.set_xlabel(f"{name} (95% CI, log scale)", color=MUTED, fontsize=8)
