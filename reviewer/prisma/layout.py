"""Where every box, line of text and arrow of the PRISMA 2020 flow diagram goes.

The geometry is plain data (points, 1/72 inch, y growing downwards as in SVG), so tests can
check it and `reviewer.prisma.diagram` only has to paint it. Text is wrapped by its measured
width in DejaVu Sans, the font matplotlib bundles and draws with, so the same metrics drive
the SVG, PNG and PDF and a line never runs out of its box.

The layout, wording and arrows follow the PRISMA 2020 templates "for new systematic reviews
which included searches of databases, registers and other sources" and "for updated
systematic reviews": the other-methods column is drawn only when the review used other
methods, the previous-studies column only for an update.

A provisional diagram (a review not finished, `reviewer.prisma.provisional`) gets a banner
across its top: the "Provisional — …" headline in bold, then why, one line per step that
waits. It is part of the figure, so no crop of the boxes loses it without losing the
column headers too.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from reviewer.prisma.types import PrismaCounts

# matplotlib is imported inside the functions that use it: loading Django (every web
# process, worker and manage.py command) must not pay for it (tests/test_startup.py).
if TYPE_CHECKING:
    from matplotlib.textpath import TextToPath

# Fonts with CJK glyphs that matplotlib falls back to when the system has one installed;
# DejaVu Sans (bundled with matplotlib) has Latin, Greek and Cyrillic but no CJK.
_CJK_FALLBACKS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
)


@cache
def font_family() -> tuple[str, ...]:
    """The font family every figure draws with: DejaVu Sans, then the CJK fallbacks this
    machine has (looked up once, on the first figure)."""
    from matplotlib.font_manager import fontManager

    installed = {font.name for font in fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in _CJK_FALLBACKS if name in installed))


FONT_SIZE = 8.0  # box text
HEADER_SIZE = 9.0  # column headers and side labels, bold
FOOTNOTE_SIZE = 7.0
LINE_HEIGHT = 1.3  # times the font size

MARGIN = 12.0
BOX_WIDTH = 200.0
PAD_X = 7.0
PAD_Y = 6.0
HANG = 8.0  # extra indent of a wrapped item's continuation lines
SUB_INDENT = 10.0  # per-database lines under "Databases (n = …)"
H_GAP = 34.0  # between a column's main box and its side box (a horizontal arrow)
GROUP_GAP = 22.0  # between the previous / databases / other-methods columns
V_GAP = 22.0  # between rows (a vertical arrow)
HEADER_GAP = 12.0
BAR_WIDTH = 22.0  # the rotated Identification / Screening / Included labels
BAR_GAP = 10.0
WRAP_SLACK = 0.97  # wrap a little short of the box: hinting at low dpi widens text a hair

FOOTNOTE_IDENTIFIED = (
    "*Consider, if feasible to do so, reporting the number of records identified from each "
    "database or register searched (rather than the total number across all "
    "databases/registers)."
)
FOOTNOTE_EXCLUDED = (
    "**If automation tools were used, indicate how many records were excluded by a human "
    "and how many were excluded by automation tools."
)


@dataclass(frozen=True)
class Line:
    """One line of text; `x` is its offset from the box's left edge, `width` its measured
    width; `bold` for a bold line in a box that is not bold as a whole."""

    text: str
    x: float
    width: float
    bold: bool = False


@dataclass(frozen=True)
class Box:
    """A box of the diagram. `kind` is "box" (a count), "header" (a column title), "bar"
    (a rotated stage label), "note" (the footnotes, drawn without a frame) or "banner" (the
    provisional statement); `style` picks the colours: "main", "grey", "accent" or
    "warning"."""

    key: str
    kind: str
    style: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[Line, ...]
    font_size: float
    bold: bool = False

    @property
    def text(self) -> str:
        """The box's text as one string, lines joined by spaces (what a reader reads)."""
        return " ".join(line.text for line in self.lines)

    @property
    def line_height(self) -> float:
        return self.font_size * LINE_HEIGHT

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Arrow:
    """A polyline from `points[0]`, with an arrowhead at `points[-1]`."""

    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def box(self, key: str) -> Box:
        for box in self.boxes:
            if box.key == key:
                return box
        raise KeyError(key)


@cache
def _measure() -> TextToPath:
    from matplotlib.textpath import TextToPath

    return TextToPath()


@lru_cache(maxsize=8192)
def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """The advance width of `text` in points, from the font files matplotlib draws with."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(
        family=list(font_family()), size=size, weight="bold" if bold else "normal"
    )
    with quiet_missing_glyphs():
        width, _height, _descent = _measure().get_text_width_height_descent(
            text, prop, ismath=False
        )
    return float(width)


@contextmanager
def quiet_missing_glyphs() -> Iterator[None]:
    """Silence matplotlib's "Glyph … missing from font(s)" for CJK without a CJK font: the
    limitation is documented in `reviewer.prisma.diagram`, and the drawing goes on."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning
        )
        yield


def count(n: int | None) -> str:
    """ "(n = 1,985)": the template's count, with thousands separators."""
    return f"(n = {n or 0:,})"


def clean(text: str) -> str:
    """One line of plain text: whitespace runs collapsed, control characters dropped (they
    are not allowed in XML and mean nothing on a diagram)."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) != "Cc"
    )
    return " ".join(kept.split())


@dataclass(frozen=True)
class _Item:
    """A paragraph of a box: a label, its count, and how far it is indented."""

    label: str
    n: int | None = None
    has_count: bool = True
    indent: float = 0.0


def _item(label: str, n: int | None, indent: float = 0.0) -> _Item:
    return _Item(label=label, n=n, indent=indent)


def _heading(label: str) -> _Item:
    return _Item(label=label, has_count=False)


def _split_long(token: str, avail: float, size: float, bold: bool) -> list[str]:
    """Break a single word wider than the box (a long URL or database code) by characters."""
    pieces: list[str] = []
    current = ""
    for ch in token:
        if current and text_width(current + ch, size, bold) > avail:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(
    tokens: list[str], avail: float, size: float, bold: bool = False, hang: float = HANG
) -> list[tuple[str, float]]:
    """Greedy word wrap by measured width: [(line, indent)], continuation lines hanging."""
    lines: list[tuple[str, float]] = []
    current: list[str] = []

    def room() -> float:
        return avail - hang if lines else avail

    def push(text: str) -> None:
        lines.append((text, hang if lines else 0.0))

    for token in tokens:
        if text_width(" ".join([*current, token]), size, bold) <= room():
            current.append(token)
            continue
        if current:
            push(" ".join(current))
            current = []
        while token and text_width(token, size, bold) > room():
            pieces = _split_long(token, room(), size, bold)
            push(pieces[0])
            token = "".join(pieces[1:])
        current = [token] if token else []
    if current or not lines:
        push(" ".join(current))
    return lines


@dataclass
class _Pending:
    """A box whose text is wrapped, waiting for its place."""

    key: str
    style: str
    width: float
    lines: list[Line]
    height: float
    x: float = 0.0
    y: float = 0.0
    kind: str = "box"
    font_size: float = FONT_SIZE
    bold: bool = False

    def done(self) -> Box:
        return Box(
            key=self.key,
            kind=self.kind,
            style=self.style,
            x=self.x,
            y=self.y,
            width=self.width,
            height=self.height,
            lines=tuple(self.lines),
            font_size=self.font_size,
            bold=self.bold,
        )


def _pending(key: str, items: list[_Item], style: str = "main") -> _Pending:
    """A count box: each paragraph wrapped to the box's width, counts kept whole."""
    lines: list[Line] = []
    for item in items:
        tokens = clean(item.label).split()
        if item.has_count:
            tokens.append(count(item.n))
        avail = (BOX_WIDTH - 2 * PAD_X - item.indent) * WRAP_SLACK
        for text, indent in wrap(tokens, avail, FONT_SIZE):
            x = PAD_X + item.indent + indent
            lines.append(Line(text=text, x=x, width=text_width(text, FONT_SIZE)))
    height = len(lines) * FONT_SIZE * LINE_HEIGHT + 2 * PAD_Y
    return _Pending(key=key, style=style, width=BOX_WIDTH, lines=lines, height=height)


def _identified_items(counts: PrismaCounts, star: str) -> list[_Item]:
    items = [_heading(f"Records identified from{star}:")]
    items.append(_item("Databases", counts.database_results))
    if len(counts.database_specific_results) > 1:
        items += [_item(name, n, SUB_INDENT) for name, n in counts.database_specific_results]
    items.append(_item("Registers", counts.register_results))
    if len(counts.register_specific_results) > 1:
        items += [_item(name, n, SUB_INDENT) for name, n in counts.register_specific_results]
    return items


def _excluded_items(reasons: tuple[tuple[str, int], ...]) -> list[_Item]:
    total = sum(n for _, n in reasons)
    return [_item("Reports excluded:", total)] + [_item(reason, n) for reason, n in reasons]


def _header(key: str, text: str, style: str, x: float, width: float) -> _Pending:
    """A column title, bold and centred."""
    avail = (width - 2 * PAD_X) * WRAP_SLACK
    lines = []
    for line, _ in wrap(text.split(), avail, HEADER_SIZE, bold=True, hang=0.0):
        line_width = text_width(line, HEADER_SIZE, True)
        lines.append(Line(text=line, x=(width - line_width) / 2, width=line_width))
    height = len(lines) * HEADER_SIZE * LINE_HEIGHT + 2 * PAD_Y
    return _Pending(
        key=key,
        style=style,
        width=width,
        lines=lines,
        height=height,
        x=x,
        kind="header",
        font_size=HEADER_SIZE,
        bold=True,
    )


def _banner(lines: Sequence[str], x: float, width: float) -> _Pending:
    """The provisional statement across the top: its first line bold, each line wrapped."""
    avail = (width - 2 * PAD_X) * WRAP_SLACK
    placed: list[Line] = []
    for i, text in enumerate(lines):
        bold = i == 0
        for line, indent in wrap(clean(text).split(), avail, FONT_SIZE, bold=bold, hang=0.0):
            placed.append(Line(line, PAD_X + indent, text_width(line, FONT_SIZE, bold), bold))
    height = len(placed) * FONT_SIZE * LINE_HEIGHT + 2 * PAD_Y
    return _Pending(
        key="provisional",
        style="warning",
        width=width,
        lines=placed,
        height=height,
        x=x,
        y=MARGIN,
        kind="banner",
    )


def layout(
    counts: PrismaCounts, *, footnotes: bool = True, provisional: Sequence[str] = ()
) -> Layout:
    """Place every box and arrow of the diagram for `counts`.

    With `footnotes`, the two template footnotes are printed under the diagram and the
    "Records identified from*" / "Records excluded**" asterisks that point to them are kept;
    without, both go (a dangling asterisk would point at nothing). `provisional`, the lines
    of `Waiting.lines()`, puts the banner saying the review is not finished across the top
    (nothing when empty: a final diagram).
    """
    star1, star2 = ("*", "**") if footnotes else ("", "")
    new = "new " if counts.previous else ""

    # columns, left to right
    x = MARGIN + BAR_WIDTH + BAR_GAP
    x_prev = x
    if counts.previous:
        x += BOX_WIDTH + GROUP_GAP
    x_main = x
    x_side = x_main + BOX_WIDTH + H_GAP
    x = x_side + BOX_WIDTH
    x_other = x + GROUP_GAP
    x_other_side = x_other + BOX_WIDTH + H_GAP
    if counts.other_methods:
        x = x_other_side + BOX_WIDTH
    right = x

    # headers
    headers = [
        _header(
            "header_databases",
            f"Identification of {new}studies via databases and registers",
            "accent",
            x_main,
            x_side + BOX_WIDTH - x_main,
        )
    ]
    if counts.other_methods:
        headers.append(
            _header(
                "header_other",
                f"Identification of {new}studies via other methods",
                "grey",
                x_other,
                x_other_side + BOX_WIDTH - x_other,
            )
        )
    if counts.previous:
        headers.append(_header("header_previous", "Previous studies", "grey", x_prev, BOX_WIDTH))

    # the boxes, row by row: (box, x)
    rows: list[tuple[str, list[tuple[_Pending, float]]]] = []
    identification = [
        (_pending("identified", _identified_items(counts, star1)), x_main),
        (
            _pending(
                "removed",
                [
                    _heading("Records removed before screening:"),
                    _item("Duplicate records removed", counts.duplicates),
                    _item(
                        "Records marked as ineligible by automation tools",
                        counts.excluded_automatic,
                    ),
                    _item("Records removed for other reasons", counts.excluded_other),
                ],
            ),
            x_side,
        ),
    ]
    if counts.other_methods:
        other_identified = [
            _heading("Records identified from:"),
            _item("Websites", counts.website_results),
            _item("Organisations", counts.organisation_results),
            _item("Citation searching", counts.citations_results),
        ]
        identification.append((_pending("other_identified", other_identified, "grey"), x_other))
    if counts.previous:
        previous = [
            _item("Studies included in previous version of review", counts.previous_studies),
            _item(
                "Reports of studies included in previous version of review",
                counts.previous_reports,
            ),
        ]
        identification.append((_pending("previous", previous, "grey"), x_prev))
    rows.append(("identification", identification))

    rows.append(
        (
            "screening",
            [
                (
                    _pending("screened", [_item("Records screened", counts.records_screened)]),
                    x_main,
                ),
                (
                    _pending(
                        "records_excluded",
                        [_item(f"Records excluded{star2}", counts.records_excluded)],
                    ),
                    x_side,
                ),
            ],
        )
    )
    sought = [
        (
            _pending("sought", [_item("Reports sought for retrieval", counts.dbr_sought_reports)]),
            x_main,
        ),
        (
            _pending(
                "not_retrieved", [_item("Reports not retrieved", counts.dbr_notretrieved_reports)]
            ),
            x_side,
        ),
    ]
    assessed = [
        (
            _pending("assessed", [_item("Reports assessed for eligibility", counts.dbr_assessed)]),
            x_main,
        ),
        (_pending("reports_excluded", _excluded_items(counts.dbr_excluded)), x_side),
    ]
    if counts.other_methods:
        sought += [
            (
                _pending(
                    "other_sought",
                    [_item("Reports sought for retrieval", counts.other_sought_reports)],
                    "grey",
                ),
                x_other,
            ),
            (
                _pending(
                    "other_not_retrieved",
                    [_item("Reports not retrieved", counts.other_notretrieved_reports)],
                    "grey",
                ),
                x_other_side,
            ),
        ]
        assessed += [
            (
                _pending(
                    "other_assessed",
                    [_item("Reports assessed for eligibility", counts.other_assessed)],
                    "grey",
                ),
                x_other,
            ),
            (
                _pending("other_reports_excluded", _excluded_items(counts.other_excluded), "grey"),
                x_other_side,
            ),
        ]
    rows.append(("screening", sought))
    rows.append(("screening", assessed))

    if counts.previous:
        included = [
            _item("New studies included in review", counts.new_studies),
            _item("Reports of new included studies", counts.new_reports),
        ]
    else:
        included = [
            _item("Studies included in review", counts.new_studies),
            _item("Reports of included studies", counts.new_reports),
        ]
    rows.append(("included", [(_pending("included", included), x_main)]))
    if counts.previous:
        total = [
            _item("Total studies included in review", counts.total_studies),
            _item("Reports of total included studies", counts.total_reports),
        ]
        rows.append(("included", [(_pending("total", total), x_main)]))

    # vertical placement
    banner = _banner(provisional, MARGIN, right - MARGIN) if provisional else None
    header_height = max(h.height for h in headers)
    y = MARGIN + (banner.height + HEADER_GAP if banner else 0.0)
    for h in headers:
        h.y, h.height = y, header_height
    y += header_height + HEADER_GAP

    row_heights = [max(box.height for box, _ in row) for _, row in rows]
    stages = ["identification", "screening", "included"]
    labels = {"identification": "Identification", "screening": "Screening", "included": "Included"}
    # a stage's bar must be long enough for its rotated label
    for stage in stages:
        indexes = [i for i, (s, _) in enumerate(rows) if s == stage]
        span = sum(row_heights[i] for i in indexes) + V_GAP * (len(indexes) - 1)
        needed = text_width(labels[stage], HEADER_SIZE, True) + 2 * PAD_Y + 4
        if span < needed:
            row_heights[indexes[-1]] += needed - span

    row_tops: list[float] = []
    for (_, row), height in zip(rows, row_heights, strict=True):
        row_tops.append(y)
        for box, bx in row:  # a row's boxes share its height, text centred, as in the template
            box.x, box.y, box.height = bx, y, height
        y += height + V_GAP
    content_bottom = y - V_GAP

    bars: list[Box] = []
    for stage in stages:
        indexes = [i for i, (s, _) in enumerate(rows) if s == stage]
        top = row_tops[indexes[0]]
        bottom = row_tops[indexes[-1]] + row_heights[indexes[-1]]
        label = labels[stage]
        bars.append(
            Box(
                key=f"bar_{stage}",
                kind="bar",
                style="accent",
                x=MARGIN,
                y=top,
                width=BAR_WIDTH,
                height=bottom - top,
                lines=(Line(label, 0.0, text_width(label, HEADER_SIZE, True)),),
                font_size=HEADER_SIZE,
                bold=True,
            )
        )

    boxes = {box.key: box for _, row in rows for box, _ in row}
    arrows = _arrows(counts, boxes)

    notes: list[Box] = []
    if footnotes:
        note_x = MARGIN + BAR_WIDTH + BAR_GAP
        avail = (right - note_x) * WRAP_SLACK
        note_lines: list[Line] = []
        for note in (FOOTNOTE_IDENTIFIED, FOOTNOTE_EXCLUDED):
            for text, _ in wrap(note.split(), avail, FOOTNOTE_SIZE, hang=0.0):
                note_lines.append(Line(text, 0.0, text_width(text, FOOTNOTE_SIZE)))
        note_height = len(note_lines) * FOOTNOTE_SIZE * LINE_HEIGHT
        notes.append(
            Box(
                key="footnotes",
                kind="note",
                style="main",
                x=note_x,
                y=content_bottom + V_GAP * 0.75,
                width=right - note_x,
                height=note_height,
                lines=tuple(note_lines),
                font_size=FOOTNOTE_SIZE,
            )
        )
        content_bottom = notes[0].bottom

    # whole multiples of 6 pt, so 300 and 600 dpi give whole pixels (6 pt = 25 px at 300 dpi)
    width = 6 * math.ceil((right + MARGIN) / 6)
    height = 6 * math.ceil((content_bottom + MARGIN) / 6)
    title = "PRISMA 2020 flow diagram" + (" (provisional)" if provisional else "")
    review = clean(counts.extra.get("title", ""))
    if review:
        title = f"{title}: {review}"
    return Layout(
        width=float(width),
        height=float(height),
        title=title,
        boxes=(
            *([banner.done()] if banner else []),
            *(h.done() for h in headers),
            *bars,
            *(b.done() for b in boxes.values()),
            *notes,
        ),
        arrows=tuple(arrows),
    )


def _arrows(counts: PrismaCounts, boxes: dict[str, _Pending]) -> list[Arrow]:
    def down(a: str, b: str) -> Arrow:
        top, bottom = boxes[a], boxes[b]
        cx = top.x + top.width / 2
        return Arrow(((cx, top.y + top.height), (cx, bottom.y)))

    def across(a: str, b: str) -> Arrow:
        left, right = boxes[a], boxes[b]
        cy = left.y + left.height / 2
        return Arrow(((left.x + left.width, cy), (right.x, cy)))

    arrows = [
        across("identified", "removed"),
        down("identified", "screened"),
        across("screened", "records_excluded"),
        down("screened", "sought"),
        across("sought", "not_retrieved"),
        down("sought", "assessed"),
        across("assessed", "reports_excluded"),
        down("assessed", "included"),
    ]
    if counts.other_methods:
        arrows += [
            down("other_identified", "other_sought"),
            across("other_sought", "other_not_retrieved"),
            down("other_sought", "other_assessed"),
            across("other_assessed", "other_reports_excluded"),
        ]
        # down from the other methods' assessed box, then left into the included box
        start, end = boxes["other_assessed"], boxes["included"]
        cx = start.x + start.width / 2
        cy = end.y + end.height / 2
        arrows.append(Arrow(((cx, start.y + start.height), (cx, cy), (end.x + end.width, cy))))
    if counts.previous:
        arrows.append(down("included", "total"))
        # down from the previous review's box, then right into the total box
        start, end = boxes["previous"], boxes["total"]
        cx = start.x + start.width / 2
        cy = end.y + end.height / 2
        arrows.append(Arrow(((cx, start.y + start.height), (cx, cy), (end.x, cy))))
    return arrows
