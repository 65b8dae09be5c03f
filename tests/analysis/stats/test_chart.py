"""The cross-tabulation's bar chart: valid SVG and PNG, with its labels as text."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from matplotlib.image import imread

from analysis.stats import crosstab_chart, crosstab_from_counts
from tests.analysis.stats import SITE_COUNTS, SITES

TABLE = crosstab_from_counts(
    SITE_COUNTS,
    row_levels=SITES,
    col_levels=("yes", "no"),
    row_label="Injury site",
    col_label="Non-operative management",
)


def test_svg_is_valid_and_holds_the_labels_as_text() -> None:
    svg = crosstab_chart(TABLE, "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg.decode("utf-8")
    for label in (*SITES, "yes", "no", "Injury site", "Non-operative management"):
        assert label in text
    assert "(n = 233)" in text
    assert "Fisher&#39;s exact test, p = 0.015" in text or "Fisher's exact test, p = 0.015" in text
    assert "15%" in text  # 2 of 13 extremities


def test_the_same_table_gives_the_same_svg() -> None:
    assert crosstab_chart(TABLE, "svg") == crosstab_chart(TABLE, "svg")


def test_png_is_an_image() -> None:
    png = crosstab_chart(TABLE, "png", dpi=80)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400


def test_other_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="svg or png"):
        crosstab_chart(TABLE, "pdf")  # type: ignore[arg-type]
