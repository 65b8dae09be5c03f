"""Study-level fields in the analyses: each patient row carries its study's value, so a
cross-tabulation of a patient-level field by a study-level one counts patients under
their study's value; patient characteristics still default to the patient-level fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analysis.models import AnalysisKind
from analysis.services.data import analysis_data, form_variables
from analysis.services.runs import analysis_run_now
from extraction.values import form_spec, parse_by_key
from tests.analysis.helpers_runs import imt_review
from tests.factories import page_text

pytestmark = pytest.mark.django_db

DESIGNS = {
    "Coffin 2007": "Prospective cohort",
    "Dalton 2016": "Registry study",
    "Karnak 2001": "Prospective cohort",
}


@pytest.fixture
def review(team):
    review = imt_review(team.review, count=30)
    spec = form_spec(review)
    for extraction in review.extractions.select_related("study"):
        design = DESIGNS[extraction.study.label]
        extraction.values.update(parse_by_key(spec, {"design": design}))
        extraction.save()
    return review


def test_study_level_fields_are_variables_marked_as_such(review) -> None:
    variables = form_variables(review)

    assert variables["design"].study_level
    assert variables["design"].choice_label == "Study design (study level)"
    assert not variables["recurrence"].study_level
    rows = analysis_data(review, ["design"]).rows
    assert sorted(set(row["design"] for row in rows)) == ["Prospective cohort", "Registry study"]


def test_a_patient_field_cross_tabulated_by_a_study_level_field_counts_patients(
    team, review
) -> None:
    spec = {"row": "design", "col": "recurrence", "rule": "auto", "yates": False}

    run = analysis_run_now(review=review, kind=AnalysisKind.CROSSTAB, spec=spec, user=team.senior)

    table = run.result["tables"][0]
    assert table["row_levels"] == ["Prospective cohort", "Registry study"]
    assert table["row_totals"] == [20, 10]  # two studies of 10 patients, one of 10


def test_the_crosstab_form_offers_study_level_fields_and_characteristics_default_to_patients(
    client, team, review
) -> None:
    client.force_login(team.reviewer)

    text = page_text(client.get(reverse("analysis-overview", args=[review.slug])))
    run = analysis_run_now(
        review=review, kind=AnalysisKind.CHARACTERISTICS, spec={}, user=team.senior
    )

    assert "Study design (study level)" in text
    assert "study-level ones may be added" in text
    keys = [row["key"] for row in run.result["tables"][0]["rows"]]
    assert "design" not in keys and "recurrence" in keys
