"""Analyses restricted by the risk-of-bias appraisal (a sensitivity analysis): the run
reads only the studies whose final overall judgement is at most the chosen level, and
its result says so."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis.models import AnalysisKind, AnalysisRun
from analysis.services.data import analysis_data
from analysis.services.runs import analysis_run_now, analysis_submit, current_fingerprint
from extraction.appraisal.models import Appraisal
from reviewer.models import Study
from tests.analysis.helpers_runs import imt_review
from tests.extraction.helpers import JBI_ALL_YES, appraise
from tests.factories import page_text

pytestmark = pytest.mark.django_db

SPEC = {"fields": ["sex", "site"]}


def appraised(team):
    """Coffin (20 patients) at low risk, Dalton (20) some concerns, Karnak (20) high."""
    review = imt_review(team.review)
    for label, level in (("Coffin 2007", "low"), ("Dalton 2016", "some"), ("Karnak 2001", "high")):
        appraise(
            Study.objects.get(review=review, label=label),
            None,
            JBI_ALL_YES,
            overall=level,
            done=True,
        )
    return review


def test_a_run_at_most_some_concerns_reads_two_of_three_studies_and_says_so(team):
    review = appraised(team)

    every = analysis_run_now(review=review, kind="characteristics", spec=SPEC, user=team.senior)
    some = analysis_run_now(
        review=review,
        kind="characteristics",
        spec={**SPEC, "risk_of_bias_at_most": "some"},
        user=team.senior,
    )

    assert (every.result["studies"], every.result["patients"]) == (3, 60)
    assert "risk_of_bias" not in every.result
    assert (some.result["studies"], some.result["patients"]) == (2, 40)
    assert some.result["risk_of_bias"].startswith(
        "Sensitivity analysis: restricted to the 2 of 3 studies with final data whose overall "
        "risk-of-bias judgement is at most some concerns"
    )
    assert some.spec["risk_of_bias_at_most"] == "some"
    assert some.fingerprint != every.fingerprint


def test_a_changed_appraisal_marks_the_restricted_result_out_of_date(team):
    review = appraised(team)
    spec = {**SPEC, "risk_of_bias_at_most": "low"}
    run = analysis_run_now(review=review, kind="characteristics", spec=spec, user=team.senior)
    data = analysis_data(review, SPEC["fields"])
    assert current_fingerprint(run.kind, run.spec, data, review) == run.fingerprint

    Appraisal.objects.filter(study__label="Dalton 2016").update(
        judgements={"overall": {"level": "low", "reason": ""}}
    )

    assert current_fingerprint(run.kind, run.spec, data, review) != run.fingerprint


def test_an_unknown_level_is_refused(team):
    review = appraised(team)
    with pytest.raises(ValidationError, match="not a risk-of-bias level"):
        analysis_submit(
            review=review,
            kind="characteristics",
            spec={**SPEC, "risk_of_bias_at_most": "tiny"},
            user=team.senior,
            enqueue=False,
        )


def test_the_analysis_page_offers_the_filter_and_the_run_page_states_it(
    client, team, django_capture_on_commit_callbacks
):
    review = appraised(team)
    client.force_login(team.senior)
    assert "Sensitivity: only studies at low risk of bias" in page_text(
        client.get(reverse("analysis-overview", args=[review.slug]))
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("analysis-start", args=[review.slug]),
            {
                "kind": "characteristics",
                "characteristics-chosen": ["sex"],
                "characteristics-risk_of_bias": "low",
            },
        )

    text = page_text(client.get(started["Location"]))
    assert "restricted to the 1 of 3 studies" in text
    assert "studies at most low risk of bias" in text


def test_a_pooled_proportion_is_restricted_too_and_says_so(
    client, team, django_capture_on_commit_callbacks
):
    review = appraised(team)
    client.force_login(team.senior)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("analysis-start", args=[review.slug]),
            {
                "kind": "pooled_proportion",
                "pooled_proportion-outcome_event": json.dumps(["recurrence", "Yes"]),
                "pooled_proportion-method": "reml",
                "pooled_proportion-transform": "logit",
                "pooled_proportion-risk_of_bias": "some",
            },
        )

    run = AnalysisRun.objects.get(review=review, kind=AnalysisKind.POOLED_PROPORTION)
    text = page_text(client.get(started["Location"]))
    assert run.spec["risk_of_bias_at_most"] == "some"
    assert (run.result["studies"], run.result["patients"]) == (2, 40)
    assert "Coffin 2007" in text and "Dalton 2016" in text and "Karnak 2001" not in text
    assert "restricted to the 2 of 3 studies" in text
    assert "(40 patients)" in text
