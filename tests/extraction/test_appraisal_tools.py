"""Appraisal tools as data (extraction.appraisal.tools) and the figures drawn from
judgements (extraction.appraisal.plots), checked as images."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image

from extraction.appraisal.plots import Plotted, summary, traffic_light
from extraction.appraisal.selectors import judge
from extraction.appraisal.tools import ToolError, parse, shipped, worst


def test_every_shipped_tool_loads_and_cites_its_source():
    tools = shipped()
    assert list(tools) == ["jbi-case-series", "rob2", "robins-i", "nos-cohort", "nos-case-control"]
    for tool in tools.values():
        assert re.search(r"(19|20)\d\d", tool.source), tool.slug
        assert tool.wording, tool.slug
    assert len(tools["jbi-case-series"].questions) == 10
    assert len(tools["rob2"].domains) == 5
    assert len(tools["robins-i"].domains) == 7
    assert list(tools["robins-i"].levels.values()) == [
        "Low",
        "Moderate",
        "Serious",
        "Critical",
        "No information",
    ]


def test_a_jbi_answer_is_its_questions_judgement_and_the_overall_is_the_assessors():
    tool = shipped()["jbi-case-series"]
    answers = {str(n): {"a": "yes"} for n in range(1, 11)} | {"4": {"a": "unclear"}}

    judged = judge(tool, answers, {"overall": {"level": "low"}})

    assert [d.level for d in judged.domains][:5] == ["low", "low", "low", "some", "low"]
    assert judged.overall == "low" and tool.label("low", overall=True) == "Include"
    assert judge(tool, answers, {}).overall is None


def test_newcastle_ottawa_counts_stars_and_converts_them_to_good_fair_poor():
    tool = shipped()["nos-cohort"]
    stars = {k: {"a": "star"} for k in ("s1", "s2", "s3", "s4", "c1", "o1", "o2", "o3")}

    good = judge(tool, stars | {"c2": {"a": "no"}}, {})
    fair = judge(tool, stars | {"c2": {"a": "no"}, "s1": {"a": "no"}, "s2": {"a": "nd"}}, {})
    poor = judge(tool, stars | {"c1": {"a": "no"}, "c2": {"a": "no"}}, {})

    assert (good.stars, tool.label(good.overall)) == (8, "Good")
    assert (fair.stars, tool.label(fair.overall)) == (6, "Fair")
    assert (poor.stars, tool.label(poor.overall)) == (7, "Poor")


def test_robins_i_overall_is_the_worst_domain_or_no_information():
    assert worst(["low", "some", "low"]) == "some"
    assert worst(["low", "critical", "ni"]) == "critical"
    assert worst(["low", "some", "ni"]) == "ni"
    assert worst(["low", None]) is None


def test_a_broken_custom_tool_says_what_is_wrong():
    with pytest.raises(ToolError, match="unknown levels"):
        parse({"slug": "x", "name": "X", "levels": {"fine": "Fine"}, "domains": []})
    with pytest.raises(ToolError, match="no answers to choose"):
        parse(
            {
                "slug": "x",
                "name": "X",
                "levels": {"low": "Fine"},
                "domains": [{"key": "A", "name": "A", "questions": [{"key": "q", "text": "?"}]}],
            }
        )


# --- the figures ---


def plotted(studies: int, seed: int = 3) -> Plotted:
    tool = shipped()["jbi-case-series"]
    rng = random.Random(seed)
    levels = ["low"] * 6 + ["some"] * 2 + ["high", "na"]
    return Plotted(
        title=f"JBI case series: risk of bias of {studies} studies",
        domains=[(d.key, d.name) for d in tool.domains],
        level_names=dict(tool.levels),
        overall_names=dict(tool.overall_levels),
        studies=[
            (
                f"Author{n} {1990 + n % 30}",
                rng.randint(3, 60),
                {**{d.key: rng.choice(levels) for d in tool.domains}, "overall": "low"},
            )
            for n in range(studies)
        ],
        weighted=True,
    )


@pytest.mark.parametrize("studies", [42, 150])
@pytest.mark.slow
def test_the_traffic_light_plot_is_a_tall_image_with_its_text_as_text(studies):
    data = plotted(studies)

    svg = traffic_light(data, "svg").decode()
    png = Image.open(io.BytesIO(traffic_light(data, "png")))
    pdf = traffic_light(data, "pdf")

    assert svg.count("<text") > studies + 11  # a label per study, the headings, the key
    assert "Author41 2001" in svg and "Q10: Statistical analysis" in svg
    width, height = png.size
    assert height > width and height > studies * 40  # a row per study, at 200 dpi
    colours = png.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10, "not blank"
    assert (2, 193, 0) in {c for _, c in colours}  # robvis's green for low
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_the_summary_plot_has_a_bar_per_domain_and_says_how_it_is_weighted():
    data = plotted(42)

    svg = summary(data, "svg").decode()
    png = Image.open(io.BytesIO(summary(data, "png")))

    assert "Q4: Consecutive inclusion" in svg and "Overall risk of bias" in svg
    assert "studies weighted by size" in svg
    assert png.size[0] > png.size[1]
    assert len(png.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 10


def test_the_same_judgements_draw_the_same_svg():
    assert traffic_light(plotted(5), "svg") == traffic_light(plotted(5), "svg")
