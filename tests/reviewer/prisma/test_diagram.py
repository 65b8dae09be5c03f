"""The PRISMA 2020 flow diagram: wording and numbers in the SVG's text, optional columns,
escaping, geometry (no text outside its box), and the PNG and PDF renderings.

No database: the diagram reads only a `PrismaCounts`, built here by hand.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib
from collections import defaultdict
from dataclasses import replace
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from PIL import Image

from reviewer.prisma.diagram import diagram_pdf, diagram_png, diagram_svg, render_figure
from reviewer.prisma.layout import PAD_X, Layout, layout, quiet_missing_glyphs
from reviewer.prisma.types import PrismaCounts

SVG = "{http://www.w3.org/2000/svg}"

# The reference review: 2,398 records from PubMed and Embase, 57 studies included.
REFERENCE = PrismaCounts(
    database_results=2398,
    database_specific_results=(("PubMed", 1243), ("Embase", 1155)),
    duplicates=413,
    records_screened=1985,
    records_excluded=1835,
    dbr_sought_reports=150,
    dbr_notretrieved_reports=0,
    dbr_assessed=150,
    dbr_excluded=(
        ("Wrong population", 41),
        ("Wrong intervention", 22),
        ("Wrong outcome", 18),
        ("Not a randomised controlled trial", 12),
    ),
    new_studies=57,
    new_reports=57,
)

# An update that also searched websites, organisations and citations.
UPDATE_WITH_OTHER_METHODS = replace(
    REFERENCE,
    register_results=120,
    register_specific_results=(("ClinicalTrials.gov", 80), ("WHO ICTRP", 40)),
    website_results=12,
    organisation_results=3,
    citations_results=30,
    other_sought_reports=45,
    other_notretrieved_reports=5,
    other_assessed=40,
    other_excluded=(("Wrong population", 30), ("Duplicate report", 6)),
    new_studies=61,
    new_reports=61,
    previous_studies=20,
    previous_reports=24,
    other_methods=True,
    previous=True,
)


def svg_root(svg: str) -> Element:
    root: Element = ElementTree.fromstring(svg)
    return root


def text_nodes(svg: str) -> list[str]:
    return ["".join(node.itertext()) for node in svg_root(svg).iter(f"{SVG}text")]


def box_texts(svg: str) -> dict[str, str]:
    """Each box's lines, read from the SVG's <text> nodes and joined by spaces.

    Every line is a <text> inside a <g id="prisma-{box}-{line}">.
    """
    lines: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for group in svg_root(svg).iter(f"{SVG}g"):
        match = re.fullmatch(r"prisma-(.+)-(\d+)", group.get("id", ""))
        text = group.find(f"{SVG}text")
        if match and text is not None:
            lines[match[1]].append((int(match[2]), "".join(text.itertext())))
    return {key: " ".join(t for _, t in sorted(parts)) for key, parts in lines.items()}


# --------------------------------------------------------------------------- SVG


def test_svg_is_valid_xml_with_size_title_and_generic_font_fallback() -> None:
    svg = diagram_svg(REFERENCE)
    root = svg_root(svg)
    assert root.tag == f"{SVG}svg"
    plan = layout(REFERENCE)
    assert root.get("width") == f"{plan.width:g}pt"
    assert root.get("height") == f"{plan.height:g}pt"
    assert root.get("viewBox") == f"0 0 {plan.width:g} {plan.height:g}"
    assert root.findtext(f"{SVG}title") == "PRISMA 2020 flow diagram"
    styles = [node.get("style", "") for node in root.iter(f"{SVG}text")]
    assert styles
    assert all("font-family: 'DejaVu Sans'" in s and "sans-serif;" in s for s in styles)
    assert not root.findall(f".//{SVG}use")  # text is text, not glyph paths
    assert not root.findall(f".//{SVG}clipPath")  # nothing to clash when inlined twice
    assert svg.startswith("<svg ")  # no XML declaration or DOCTYPE: it can go inline


def test_svg_shows_every_number_of_the_reference_review_in_its_text() -> None:
    svg = diagram_svg(REFERENCE)
    nodes = text_nodes(svg)
    for line in [
        "Identification of studies via databases and registers",
        "Identification",
        "Screening",
        "Included",
        "Records identified from*:",
        "Databases (n = 2,398)",
        "PubMed (n = 1,243)",
        "Embase (n = 1,155)",
        "Registers (n = 0)",
        "Records removed before screening:",
        "Duplicate records removed (n = 413)",
        "Records screened (n = 1,985)",
        "Records excluded** (n = 1,835)",
        "Reports sought for retrieval (n = 150)",
        "Reports not retrieved (n = 0)",
        "Reports excluded: (n = 93)",
        "Wrong population (n = 41)",
        "Wrong intervention (n = 22)",
        "Wrong outcome (n = 18)",
        "Studies included in review (n = 57)",
        "Reports of included studies (n = 57)",
    ]:
        assert line in nodes, line
    boxes = box_texts(svg)
    assert boxes["removed"] == (
        "Records removed before screening: Duplicate records removed (n = 413) "
        "Records marked as ineligible by automation tools (n = 0) "
        "Records removed for other reasons (n = 0)"
    )
    assert boxes["assessed"] == "Reports assessed for eligibility (n = 150)"
    assert boxes["reports_excluded"] == (
        "Reports excluded: (n = 93) Wrong population (n = 41) Wrong intervention (n = 22) "
        "Wrong outcome (n = 18) Not a randomised controlled trial (n = 12)"
    )


def test_one_database_gets_no_per_database_lines() -> None:
    counts = replace(REFERENCE, database_specific_results=(("PubMed", 2398),))
    assert box_texts(diagram_svg(counts))["identified"] == (
        "Records identified from*: Databases (n = 2,398) Registers (n = 0)"
    )


def test_other_methods_and_previous_columns_appear_only_when_used() -> None:
    plain = box_texts(diagram_svg(REFERENCE))
    assert not {"header_other", "other_identified", "header_previous", "previous", "total"} & set(
        plain
    )

    only_other = box_texts(diagram_svg(replace(UPDATE_WITH_OTHER_METHODS, previous=False)))
    assert only_other["header_other"] == "Identification of studies via other methods"
    assert "header_previous" not in only_other
    assert only_other["included"] == (
        "Studies included in review (n = 61) Reports of included studies (n = 61)"
    )


def test_other_methods_column_has_its_own_boxes() -> None:
    boxes = box_texts(diagram_svg(UPDATE_WITH_OTHER_METHODS))
    assert boxes["header_other"] == "Identification of new studies via other methods"
    assert boxes["other_identified"] == (
        "Records identified from: Websites (n = 12) Organisations (n = 3) "
        "Citation searching (n = 30)"
    )
    assert boxes["other_sought"] == "Reports sought for retrieval (n = 45)"
    assert boxes["other_not_retrieved"] == "Reports not retrieved (n = 5)"
    assert boxes["other_assessed"] == "Reports assessed for eligibility (n = 40)"
    assert boxes["other_reports_excluded"] == (
        "Reports excluded: (n = 36) Wrong population (n = 30) Duplicate report (n = 6)"
    )
    assert boxes["identified"] == (
        "Records identified from*: Databases (n = 2,398) PubMed (n = 1,243) "
        "Embase (n = 1,155) Registers (n = 120) ClinicalTrials.gov (n = 80) WHO ICTRP (n = 40)"
    )


def test_an_update_shows_previous_new_and_total_studies() -> None:
    boxes = box_texts(diagram_svg(UPDATE_WITH_OTHER_METHODS))
    assert boxes["header_previous"] == "Previous studies"
    assert boxes["header_databases"] == "Identification of new studies via databases and registers"
    assert boxes["previous"] == (
        "Studies included in previous version of review (n = 20) "
        "Reports of studies included in previous version of review (n = 24)"
    )
    assert boxes["included"] == (
        "New studies included in review (n = 61) Reports of new included studies (n = 61)"
    )
    assert boxes["total"] == (
        "Total studies included in review (n = 81) Reports of total included studies (n = 85)"
    )


def test_arrows_follow_the_template() -> None:
    plan = layout(UPDATE_WITH_OTHER_METHODS)
    ends = {arrow.points[-1] for arrow in plan.arrows}
    included, total = plan.box("included"), plan.box("total")
    # other methods: down from "assessed", then left into the included box
    assert (included.right, included.center_y) in ends
    # previous studies: down, then right into the total box
    assert (total.x, total.center_y) in ends
    assert len(plan.arrows) == 8 + 5 + 2
    assert len(layout(REFERENCE).arrows) == 8


def test_numbers_get_thousands_separators() -> None:
    counts = replace(REFERENCE, database_results=1234567, records_screened=1000000)
    boxes = box_texts(diagram_svg(counts))
    assert "Databases (n = 1,234,567)" in boxes["identified"]
    assert boxes["screened"] == "Records screened (n = 1,000,000)"


def test_footnotes_and_their_asterisks_come_and_go_together() -> None:
    with_notes = box_texts(diagram_svg(REFERENCE))
    assert with_notes["footnotes"].startswith("*Consider, if feasible to do so, reporting")
    assert "**If automation tools were used" in with_notes["footnotes"]

    without = box_texts(diagram_svg(REFERENCE, footnotes=False))
    assert "footnotes" not in without
    assert without["identified"].startswith("Records identified from:")
    assert without["records_excluded"] == "Records excluded (n = 1,835)"


NAMES = [
    'O\'Brien "Trials" & <Co>',
    "Wanfang Data 万方",
    "Ελληνικά",
    "Поиск",
    "Costs $5 and $6",
]


def test_names_with_quotes_ampersands_brackets_and_other_scripts_round_trip() -> None:
    counts = replace(
        REFERENCE,
        database_specific_results=tuple((name, 10) for name in NAMES),
        dbr_excluded=(('Wrong <design> & "setting" (Ελληνικά)', 93),),
        extra={"title": "Tea & <biscuits>"},
    )
    svg = diagram_svg(counts)
    nodes = text_nodes(svg)
    for name in NAMES:
        assert f"{name} (n = 10)" in nodes
    assert 'Wrong <design> & "setting" (Ελληνικά) (n = 93)' in box_texts(svg)["reports_excluded"]
    assert "&amp; &lt;Co&gt;" in svg
    assert svg_root(svg).findtext(f"{SVG}title") == "PRISMA 2020 flow diagram: Tea & <biscuits>"


def test_control_characters_are_dropped_so_the_svg_stays_xml() -> None:
    counts = replace(REFERENCE, database_specific_results=(("Bell\x07 base\n2", 5), ("B", 1)))
    assert "Bell base 2 (n = 5)" in text_nodes(diagram_svg(counts))


def test_the_svg_is_the_same_every_time() -> None:
    assert diagram_svg(REFERENCE) == diagram_svg(REFERENCE)


# ---------------------------------------------------------------------- geometry

LONG = replace(
    UPDATE_WITH_OTHER_METHODS,
    database_specific_results=(
        ("Cochrane Central Register of Controlled Trials (CENTRAL) via the Cochrane Library", 600),
        ("CINAHL Complete with Full Text via EBSCOhost, including the pre-CINAHL records", 643),
        ("https://www.example.org/a-very-long-search-interface-address-without-spaces", 1155),
    ),
    dbr_excluded=tuple(
        (f"Reason {i}: the study population was not the one specified in the protocol", i)
        for i in range(1, 31)
    ),
    other_excluded=(("Wanfang Data 万方 " * 6, 36),),
)


def _boxes_overlap(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


#: A provisional statement as long as a real one gets, with a word wider than the banner.
STATEMENT = (
    "Provisional — 12,373 records await title/abstract decisions, 1,067 reports await "
    "full-text decisions, 14 inclusions await the senior author's approval, 6 possible "
    "duplicate pairs await a decision, the check for duplicates is not finished",
    "Title/abstract: 12,339 not screened yet, 25 waiting for a second reviewer, 9 conflicts "
    "for the senior author.",
    "Full text: 1,064 not yet assessed or marked not retrieved, 1 waiting for a second "
    "reviewer, 1 conflict for the senior author, 1 exclusion whose reason the senior author "
    "is to choose.",
    "Duplicates: 6 possible duplicate pairs in the queue, undecided; 1,234 records not yet "
    "checked for duplicates. "
    + "https://www.example.org/a-very-long-search-interface-address-without-spaces"
    * 3,
)


@pytest.mark.parametrize(
    ("counts", "provisional"),
    [
        (REFERENCE, ()),
        (UPDATE_WITH_OTHER_METHODS, ()),
        (LONG, ()),
        (REFERENCE, STATEMENT),
        (LONG, STATEMENT),
    ],
)
def test_every_line_fits_its_box_and_no_boxes_overlap(
    counts: PrismaCounts, provisional: tuple[str, ...]
) -> None:
    plan = layout(counts, provisional=provisional)
    for box in plan.boxes:
        assert box.lines
        if box.kind == "bar":  # rotated: the label runs along the bar's height
            assert box.lines[0].width <= box.height - 8
            continue
        inner = box.width if box.kind == "note" else box.width - PAD_X
        for line in box.lines:
            assert line.x >= 0
            assert line.x + line.width <= inner, (box.key, line.text)
        assert len(box.lines) * box.line_height <= box.height
        assert box.right <= plan.width and box.bottom <= plan.height
    frames = [(b.x, b.y, b.right, b.bottom) for b in plan.boxes]
    for i, a in enumerate(frames):
        for b in frames[i + 1 :]:
            assert not _boxes_overlap(a, b)


def test_long_reason_lists_grow_the_box() -> None:
    short, long = layout(REFERENCE).box("reports_excluded"), layout(LONG).box("reports_excluded")
    assert len(long.lines) > 30
    assert long.height > 5 * short.height


@pytest.mark.parametrize("dpi", [72, 300])
@pytest.mark.slow
def test_rendered_text_stays_inside_its_box(dpi: int) -> None:
    """The same check on what matplotlib actually draws, hinting and all."""
    plan: Layout = layout(LONG, provisional=STATEMENT)
    fig = render_figure(plan)
    fig.set_dpi(dpi)
    with quiet_missing_glyphs():
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frames = {p.get_gid(): p.get_window_extent(renderer) for p in fig.axes[0].patches}
    checked = 0
    for text in fig.axes[0].texts:
        key = (text.get_gid() or "").rsplit("-", 1)[0]  # "prisma-screened-0" -> "prisma-screened"
        if key not in frames or key.startswith("prisma-bar_"):
            continue
        inside, frame = text.get_window_extent(renderer), frames[key]
        assert frame.x0 < inside.x0 and inside.x1 < frame.x1, (key, text.get_text())
        assert frame.y0 < inside.y0 and inside.y1 < frame.y1, (key, text.get_text())
        checked += 1
    assert checked > 60


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("dpi", [300, 600])
@pytest.mark.slow
def test_png_has_the_size_the_dpi_asks_for_and_is_not_blank(dpi: int) -> None:
    plan = layout(REFERENCE)
    image = Image.open(io.BytesIO(diagram_png(REFERENCE, dpi=dpi)))
    assert image.format == "PNG"
    assert image.size == (round(plan.width * dpi / 72), round(plan.height * dpi / 72))
    rgb = image.convert("RGB")
    colours = rgb.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 10
    white = dict((c, n) for n, c in colours).get((255, 255, 255), 0)
    assert white < 0.95 * image.size[0] * image.size[1]
    assert (0x1C, 0x5A, 0x8A) in {c for _, c in colours}  # the accent of the side bars


def test_png_of_text_without_a_font_renders_without_leaking_warnings() -> None:
    counts = replace(REFERENCE, database_specific_results=(("万方数据", 2000), ("Поиск", 398)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert diagram_png(counts, dpi=72).startswith(b"\x89PNG")


# --------------------------------------------------------------------------- PDF


def _unescape(literal: bytes) -> bytes:
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(m: re.Match[bytes]) -> bytes:
        code = m[1]
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return escapes.get(code, code)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def _to_unicode(cmap: bytes) -> dict[int, str]:
    def hex_text(h: bytes) -> str:
        return bytes.fromhex(h.decode()).decode("utf-16-be")

    table: dict[int, str] = {}
    for first, last, targets in re.findall(rb"<(\w+)> <(\w+)> \[([^\]]*)\]", cmap):
        for code, target in zip(
            range(int(first, 16), int(last, 16) + 1), re.findall(rb"<(\w+)>", targets), strict=False
        ):
            table[code] = hex_text(target)
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, target in re.findall(rb"<(\w+)> <(\w+)>", section):
            table[int(code, 16)] = hex_text(target)
    return table


def pdf_text_lines(pdf: bytes) -> list[str]:
    """The text of each text object (BT … ET), as a PDF reader extracts it.

    matplotlib embeds TrueType subsets (`pdf.fonttype` 42) as Type 0 fonts with 2-byte codes
    and a ToUnicode map each, and writes each line as TJ arrays of literal strings between
    kerning numbers. A few lines of parsing read them back without a PDF library: each
    font's ToUnicode map, then the strings of each text object through the current font's.
    """
    objects = {
        int(num): body for num, body in re.findall(rb"(\d+) 0 obj\n(.*?)\nendobj", pdf, re.S)
    }

    def stream(body: bytes) -> bytes:
        match = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        return zlib.decompress(match[1]) if match else b""

    fonts: dict[bytes, dict[int, str]] = {}
    for name, num in re.findall(rb"/(F\d+) (\d+) 0 R", pdf):
        cmap = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(num)])
        if cmap:
            fonts[name] = _to_unicode(stream(objects[int(cmap[1])]))

    lines = []
    for body in objects.values():
        if b"/Length" not in body or b"stream" not in body:
            continue
        try:
            content = stream(body)
        except zlib.error:
            continue
        for block in re.findall(rb"\nBT\n(.*?)\nET\n", content, re.S):
            font: dict[int, str] = {}
            text = []
            for name, literal in re.findall(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\)", block):
                if name:
                    font = fonts.get(name, {})
                    continue
                raw = _unescape(literal)
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                text.append("".join(font.get(code, "\ufffd") for code in codes))
            lines.append("".join(text))
    return lines


@pytest.mark.slow
def test_pdf_is_one_page_with_the_diagram_text() -> None:
    counts = replace(
        REFERENCE,
        database_specific_results=(("PubMed (Ελληνικά)", 1243), ("Embase & <Поиск>", 1155)),
    )
    pdf = diagram_pdf(counts)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    lines = pdf_text_lines(pdf)
    for line in [
        "Identification",
        "Records screened (n = 1,985)",
        "Reports excluded: (n = 93)",
        "Wrong population (n = 41)",
        "Studies included in review (n = 57)",
        "PubMed (Ελληνικά) (n = 1,243)",
        "Embase & <Поиск> (n = 1,155)",
    ]:
        assert line in lines, line
