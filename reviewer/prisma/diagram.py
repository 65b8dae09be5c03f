"""The PRISMA 2020 flow diagram as SVG, PNG and PDF, drawn from a `PrismaCounts` alone.

One drawing path for the three formats: `reviewer.prisma.layout` places the boxes, and
matplotlib (pure wheels, with DejaVu Sans bundled) paints that layout on a `Figure` that is
saved as SVG, PNG or PDF, so the three look the same and need no system cairo or fonts.
pyplot is never imported, so no global figure state is kept between calls.

- SVG: text stays text (`svg.fonttype = "none"`): one `<text>` per line, escaped by
  matplotlib, `font-family` "DejaVu Sans" falling back to generic sans-serif, a `<title>`,
  width/height in points and a viewBox. No XML declaration or DOCTYPE, so the same string
  can be saved as a file or put inline in a page.
- PNG: any dpi, white background; the pixel size is the layout's size in points x dpi / 72.
- PDF: one page, TrueType subsets embedded (`pdf.fonttype = 42`) so the text can be
  selected and searched, non-Latin letters included.

Limitation: DejaVu Sans covers Latin, Greek and Cyrillic but not Chinese, Japanese or
Korean. The SVG keeps CJK characters as text, so browsers draw them with a system font; in
the PNG and PDF they are drawn from a CJK font only if the machine has one installed (see
`layout.font_family`), and as empty boxes otherwise. matplotlib's "Glyph … missing from
font(s)" warning for them is silenced here, since this docstring is where that is said.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from reviewer.prisma.layout import Box, Layout, font_family, layout, quiet_missing_glyphs
from reviewer.prisma.types import PrismaCounts

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch
    from matplotlib.typing import RcKeyType

__all__ = ["diagram_pdf", "diagram_png", "diagram_svg", "layout", "render_figure"]

# The app's palette (static/css/app.css): calm neutrals and one deep blue accent.
TEXT = "#1d2125"
MUTED = "#555c65"
BORDER = "#555c65"
GREY_BORDER = "#8a929b"
GREY_FILL = "#f1f3f5"
GREY_HEADER = "#e3e6e9"
GREY_HEADER_TEXT = "#454c54"
ACCENT = "#1c5a8a"
ACCENT_SOFT = "#e6eff7"
ACCENT_TEXT = "#1d4f7a"
ON_ACCENT = "#ffffff"
ARROW = "#454c54"
# the provisional banner: a warm, calm amber, dark enough text to read in print
WARNING_FILL = "#fff4dc"
WARNING_BORDER = "#a86800"

LINE_WIDTH = 0.8
HEAD_LENGTH = 6.0
HEAD_HALF_WIDTH = 3.2
ROUNDING = 5.0
# "fi" drawn as one glyph has no character of its own in the PDF, so a reader copying or
# searching the text would find "Identi?cation"
NO_LIGATURES = ("-liga",)
# ids in the SVG ("prisma-screened" for a box, "prisma-screened-0" for its first line), so
# the diagram can sit inline in a page without its ids clashing with the page's
ID_PREFIX = "prisma-"


def render_figure(plan: Layout) -> Figure:
    """Paint `plan` on a new matplotlib Figure whose data units are points."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    fig = Figure(figsize=(plan.width / 72, plan.height / 72), dpi=72, facecolor="#ffffff")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, plan.width)
    ax.set_ylim(plan.height, 0)  # y grows downwards, as in the layout
    ax.set_axis_off()
    for arrow in plan.arrows:
        xs = [p[0] for p in arrow.points]
        ys = [p[1] for p in arrow.points]
        # stop the line where the head starts, so its end does not poke through the tip
        (x0, y0), (x1, y1) = arrow.points[-2], arrow.points[-1]
        length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        xs[-1], ys[-1] = x1 - ux * HEAD_LENGTH * 0.8, y1 - uy * HEAD_LENGTH * 0.8
        ax.add_line(
            Line2D(
                xs,
                ys,
                color=ARROW,
                linewidth=LINE_WIDTH,
                solid_joinstyle="miter",
                zorder=1,
                clip_on=False,
            )
        )
        bx, by = x1 - ux * HEAD_LENGTH, y1 - uy * HEAD_LENGTH
        head = [
            (x1, y1),
            (bx - uy * HEAD_HALF_WIDTH, by + ux * HEAD_HALF_WIDTH),
            (bx + uy * HEAD_HALF_WIDTH, by - ux * HEAD_HALF_WIDTH),
        ]
        ax.add_patch(
            Polygon(head, closed=True, facecolor=ARROW, edgecolor="none", zorder=1, clip_on=False)
        )
    for box in plan.boxes:
        _draw_box(ax, box)
    return fig


def _draw_box(ax: Axes, box: Box) -> None:
    from matplotlib.patches import Rectangle

    if box.kind == "bar":
        ax.add_patch(_rounded(box, ACCENT, ACCENT))
        ax.text(
            box.center_x,
            box.center_y,
            box.lines[0].text,
            rotation=90,
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=box.font_size,
            fontweight="bold",
            family=[*font_family(), "sans-serif"],
            color=ON_ACCENT,
            parse_math=False,
            fontfeatures=NO_LIGATURES,
            gid=f"{ID_PREFIX}{box.key}-0",
        )
        return
    if box.kind == "header":
        fill, edge, color = (
            (ACCENT_SOFT, ACCENT, ACCENT_TEXT)
            if box.style == "accent"
            else (GREY_HEADER, GREY_BORDER, GREY_HEADER_TEXT)
        )
        ax.add_patch(_rounded(box, fill, edge))
    elif box.kind == "banner":
        ax.add_patch(
            Rectangle(
                (box.x, box.y),
                box.width,
                box.height,
                facecolor=WARNING_FILL,
                edgecolor=WARNING_BORDER,
                linewidth=LINE_WIDTH * 1.5,
                gid=f"{ID_PREFIX}{box.key}",
                zorder=2,
                clip_on=False,
            )
        )
        color = TEXT
    elif box.kind == "box":
        fill, edge = ("#ffffff", BORDER) if box.style == "main" else (GREY_FILL, GREY_BORDER)
        ax.add_patch(
            Rectangle(
                (box.x, box.y),
                box.width,
                box.height,
                facecolor=fill,
                edgecolor=edge,
                linewidth=LINE_WIDTH,
                gid=f"{ID_PREFIX}{box.key}",
                zorder=2,
                clip_on=False,
            )
        )
        color = TEXT
    else:  # the footnotes
        color = MUTED
    pad = (box.height - len(box.lines) * box.line_height) / 2
    for i, line in enumerate(box.lines):
        ax.text(
            box.x + line.x,
            box.y + pad + (i + 0.5) * box.line_height,
            line.text,
            ha="left",
            va="center_baseline",
            fontsize=box.font_size,
            fontweight="bold" if box.bold or line.bold else "normal",
            family=[*font_family(), "sans-serif"],
            color=color,
            parse_math=False,  # a "$" in a database name is a dollar, not TeX
            fontfeatures=NO_LIGATURES,
            gid=f"{ID_PREFIX}{box.key}-{i}",
            zorder=3,
        )


def _rounded(box: Box, fill: str, edge: str) -> FancyBboxPatch:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(
        (box.x, box.y),
        box.width,
        box.height,
        boxstyle=f"round,pad=0,rounding_size={ROUNDING}",
        facecolor=fill,
        edgecolor=edge,
        linewidth=LINE_WIDTH,
        gid=f"{ID_PREFIX}{box.key}",
        zorder=2,
        clip_on=False,
    )


@contextmanager
def _drawing(rc: dict[RcKeyType, Any] | None = None) -> Iterator[None]:
    import matplotlib

    with quiet_missing_glyphs(), matplotlib.rc_context(rc):
        yield


_PROLOGUE = re.compile(r"\A\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def diagram_svg(
    counts: PrismaCounts, *, footnotes: bool = True, provisional: Sequence[str] = ()
) -> str:
    """The diagram as an SVG document (text as text; see the module docstring), with the
    provisional banner when `provisional` has its lines."""
    plan = layout(counts, footnotes=footnotes, provisional=provisional)
    fig = render_figure(plan)
    buffer = io.StringIO()
    with _drawing({"svg.fonttype": "none", "svg.hashsalt": "prisma-flow-diagram"}):
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Title": plan.title, "Date": None, "Creator": None},
        )
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    return svg.replace("<svg ", '<svg role="img" ', 1)


def diagram_png(
    counts: PrismaCounts,
    dpi: int = 300,
    *,
    footnotes: bool = True,
    provisional: Sequence[str] = (),
) -> bytes:
    """The diagram as a PNG at `dpi` (300 and 600 are what journals ask for)."""
    plan = layout(counts, footnotes=footnotes, provisional=provisional)
    fig = render_figure(plan)
    buffer = io.BytesIO()
    with _drawing():
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Title": plan.title, "Software": None})
    return buffer.getvalue()


def diagram_pdf(
    counts: PrismaCounts, *, footnotes: bool = True, provisional: Sequence[str] = ()
) -> bytes:
    """The diagram as a one-page PDF, fonts embedded."""
    plan = layout(counts, footnotes=footnotes, provisional=provisional)
    fig = render_figure(plan)
    buffer = io.BytesIO()
    with _drawing({"pdf.fonttype": 42}):
        fig.savefig(
            buffer,
            format="pdf",
            metadata={"Title": plan.title, "Creator": None, "Producer": None, "CreationDate": None},
        )
    return buffer.getvalue()
