"""The forest plot: SVG with its rows as text, PNG and PDF, the same bytes for the same
result, 60 studies growing taller rather than smaller, ratios on a log axis."""

from __future__ import annotations

import pytest

from analysis.stats.forest import FORMATS, forest_plot
from analysis.stats.meta import Pooled, ProportionMethod, pool_proportions, pool_two_groups


def _proportions(k: int, method: ProportionMethod = "reml") -> Pooled:
    events = [(i * 7) % 5 for i in range(k)]
    totals = [8 + (i * 3) % 9 for i in range(k)]
    labels = [f"Author {i + 1} 20{i % 24:02d}" for i in range(k)]
    return pool_proportions(events, totals, labels=labels, method=method)


def test_svg_shows_every_study_the_pooled_row_and_heterogeneity() -> None:
    result = _proportions(6)
    svg = forest_plot(result, "svg", title="Recurrence", unit="sites").decode()

    assert svg.startswith("<?xml")
    for i in range(6):
        assert f"Author {i + 1} 20{i:02d}" in svg
    assert "Pooled: random effects (REML)" in svg
    assert "95% prediction interval" in svg
    assert "Heterogeneity: I² = " in svg
    assert "6 studies, " in svg and " sites." in svg
    assert "Estimate [95% CI]" in svg and "Weight" in svg


@pytest.mark.slow
def test_the_same_result_gives_the_same_bytes() -> None:
    result = _proportions(5)
    for fmt in FORMATS:
        assert forest_plot(result, fmt) == forest_plot(result, fmt)


@pytest.mark.slow
def test_png_and_pdf_are_what_they_say() -> None:
    result = _proportions(4, "glmm")
    assert forest_plot(result, "png").startswith(b"\x89PNG")
    assert forest_plot(result, "pdf").startswith(b"%PDF")
    svg = forest_plot(result, "svg").decode()
    assert "binomial-normal GLMM" in svg
    assert "not by fixed weights" in svg


def test_sixty_studies_keep_their_row_height() -> None:
    small = forest_plot(_proportions(6), "svg").decode()
    large = forest_plot(_proportions(60), "svg").decode()

    def height(svg: str) -> float:
        return float(svg.split('height="', 1)[1].split("pt", 1)[0])

    assert height(large) > 3.5 * height(small)  # 54 more rows of the same height
    assert "Author 60 2011" in large


def test_odds_ratios_on_a_log_axis_with_the_group_names() -> None:
    result = pool_two_groups([3, 2, 1], [5, 4, 3], [1, 0, 1], [8, 6, 7], method="mh")
    svg = forest_plot(result, "svg", groups=("positive", "negative")).decode()

    assert "Odds ratio (95% CI, log scale)" in svg
    assert "positive" in svg and "negative" in svg
    assert "none (fixed effect)" in svg


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="svg, png or pdf"):
        forest_plot(_proportions(3), "gif")  # type: ignore[arg-type]
