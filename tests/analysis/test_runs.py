"""Analysis runs (analysis.services.runs): asking, claiming, storing, failing, re-running."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analysis.demo import analysis_demo
from analysis.models import AnalysisRun, RunStatus
from analysis.services.runs import (
    analysis_rerun,
    analysis_run_execute,
    analysis_run_now,
    analysis_submit,
)
from extraction.models import PatientRow
from reviewer.services.jobs import claim_job
from tests.analysis.helpers_runs import final_study, imt_review, patient, reopen, with_form
from tests.extraction.helpers import fill, make_study

pytestmark = pytest.mark.django_db


def _claim(pk: int):
    """What a worker's `analysis.run` task does first (`reviewer.services.jobs.run_claimed`)."""
    return claim_job(AnalysisRun, pk)


CROSSTAB = {"row": "site", "col": "management", "rule": "auto", "yates": False}
TABLE_ONE = {"exposure": "margin", "outcomes": ["recurrence", "reoperation", "outcome"]}


@pytest.fixture
def review(team):
    return imt_review(team.review, count=60)


def submit(review, user, kind="crosstab", spec=CROSSTAB, **options):
    return analysis_submit(review=review, kind=kind, spec=dict(spec), user=user, **options)


# --- claiming ---


def test_a_run_is_claimed_once(review, team):
    run = submit(review, team.owner, enqueue=False).run

    first, second = _claim(run.pk), _claim(run.pk)  # two deliveries of the task

    assert first is not None
    assert second is None
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_task_delivered_twice_computes_once(review, team):
    run = submit(review, team.owner, enqueue=False).run
    analysis_run_execute(run_id=run.pk)
    run.refresh_from_db()
    finished = run.finished_at

    analysis_run_execute(run_id=run.pk)  # a duplicate delivery

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.finished_at == finished


def test_a_stale_running_run_is_taken_over_and_the_old_worker_writes_nothing(
    review, team, settings
):
    run = submit(review, team.owner, enqueue=False).run
    old_claim = _claim(run.pk)
    AnalysisRun.objects.filter(pk=run.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=settings.IMPORT_JOB_STALE_MINUTES + 1)
    )

    analysis_run_execute(run_id=run.pk)  # a second worker takes it over
    AnalysisRun.objects.filter(pk=run.pk, claimed_at=old_claim).update(error="old worker")

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == ""


# --- the result ---


def test_a_crosstab_stores_counts_tests_and_the_reported_p(review, team):
    run = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)

    table = run.result["tables"][0]
    assert run.status == RunStatus.SUCCEEDED
    assert run.progress == 100
    assert run.result["patients"] == 60
    assert run.result["studies"] == 3
    assert table["row_levels"] == ["Abdomen/pelvis", "Thorax", "Head/neck", "Extremities"]
    assert table["col_levels"] == ["Operative", "Non-operative"]
    assert table["total"] == 60
    assert sum(map(sum, table["counts"])) == 60
    assert {"pearson", "likelihood_ratio", "fisher"} <= table.keys()
    assert table["reported_test"] == "fisher"  # small expected counts, by the automatic rule
    assert table["reported_p"] == table["fisher"]["p"]
    assert table["reported_p_formatted"]
    assert table["pearson"]["p_text"] and table["fisher"]["p_text"]


def test_the_reporting_rule_and_yates_are_kept(review, team):
    spec = {"row": "margin", "col": "recurrence", "rule": "likelihood_ratio", "yates": True}

    run = analysis_run_now(review=review, kind="crosstab", spec=spec, user=team.owner)

    table = run.result["tables"][0]
    assert table["reported_test"] == "likelihood_ratio"
    assert table["reported_p"] == table["likelihood_ratio"]["p"]
    assert table["yates"] is not None  # a 2×2 table


def test_characteristics_describe_every_patient_field(review, team):
    run = analysis_run_now(review=review, kind="characteristics", spec={}, user=team.owner)

    rows = {row["key"]: row for row in run.result["tables"][0]["rows"]}
    assert list(rows)[:3] == ["sex", "age_months", "site"]
    assert rows["sex"]["denominator"] == 60
    assert sum(level["n"] for level in rows["sex"]["levels"]) == 60
    assert rows["age_months"]["median"] is not None
    assert rows["metastasis"]["not_reported"] == 60  # nobody filled it in
    assert rows["other_therapy"]["kind"] == "multi"
    assert [level["level"] for level in rows["other_therapy"]["levels"]] == [
        "ALK inhibitor",
        "Steroids",
        "NSAIDs",
        "Other",
    ]


def test_risk_factor_table_has_a_row_and_a_full_table_per_outcome(review, team):
    run = analysis_run_now(review=review, kind="risk_factors", spec=TABLE_ONE, user=team.owner)

    summary, *details = run.result["tables"]
    assert summary["kind"] == "risk_factors"
    assert [row["label"] for row in summary["outcomes"]] == ["Recurrence", "Reoperation", "Outcome"]
    assert summary["groups"] == ["Negative", "Positive"]
    assert [table["title"] for table in details] == [
        "Margin at primary resection × Recurrence",
        "Margin at primary resection × Reoperation",
        "Margin at primary resection × Outcome",
    ]
    assert all(row["p_formatted"] for row in summary["outcomes"])
    assert summary["outcomes"][0]["p"] == details[0]["reported_p"]


# --- unchanged and changed data ---


def test_asking_again_on_unchanged_data_returns_the_stored_run(review, team):
    first = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)

    again = submit(review, team.reviewer)

    assert again.stored
    assert again.run == first
    assert AnalysisRun.objects.count() == 1


def test_changed_data_give_a_new_run_with_a_new_fingerprint(review, team):
    first = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    final_study(review, "Zhou 2020", [patient(site="Extremities", management="Non-operative")])

    again = submit(review, team.owner, enqueue=False)
    analysis_run_execute(run_id=again.run.pk)

    again.run.refresh_from_db()
    assert not again.stored
    assert again.run != first
    assert again.run.fingerprint != first.fingerprint
    assert again.run.result["tables"][0]["total"] == 61


def test_a_change_to_a_field_the_run_does_not_read_keeps_the_stored_result(review, team):
    first = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    row = PatientRow.objects.filter(extraction__review=review).first()
    size = str(first.review.extraction_fields.get(key="size_cm").pk)
    row.values[size] = "12.5"
    row.save()

    assert submit(review, team.owner).stored


def test_a_study_reopened_leaves_the_data_and_the_result_is_out_of_date(review, team):
    first = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    reopen(review.extractions.filter(extractor=None).first())

    again = submit(review, team.owner, enqueue=False)

    assert not again.stored
    assert again.run.fingerprint != first.fingerprint


def test_only_final_consensus_copies_are_read_with_dual_extraction(team):
    with_form(team.review)
    final_study(team.review, "Coffin 2007", [patient(), patient(site="Head/neck")])
    pending = make_study(team.review, "Dalton 2016")
    fill(pending, team.reviewer, patients=[patient()] * 5, done=True)  # one extractor only

    run = analysis_run_now(
        review=team.review, kind="characteristics", spec={"fields": ["site"]}, user=team.owner
    )

    assert run.result["patients"] == 2
    assert run.result["studies"] == 1


# --- failures and retries ---


def test_a_table_with_one_level_fails_with_the_reason(team):
    with_form(team.review)
    final_study(team.review, "Coffin 2007", [patient(site=s) for s in ("Thorax", "Head/neck")])

    run = analysis_run_now(review=team.review, kind="crosstab", spec=CROSSTAB, user=team.owner)

    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    assert "Management has a single level" in run.error
    assert run.result is None


def test_a_failed_run_can_be_run_again_once_the_data_are_fixed(team):
    with_form(team.review)
    final_study(team.review, "Coffin 2007", [patient(site=s) for s in ("Thorax", "Head/neck")])
    failed = analysis_run_now(review=team.review, kind="crosstab", spec=CROSSTAB, user=team.owner)
    final_study(
        team.review, "Dalton 2016", [patient(site="Thorax", management="Non-operative")] * 3
    )

    retried = analysis_rerun(run=failed, user=team.reviewer, enqueue=False)
    analysis_run_execute(run_id=retried.run.pk)

    retried.run.refresh_from_db()
    failed.refresh_from_db()
    assert retried.run != failed
    assert retried.run.status == RunStatus.SUCCEEDED
    assert retried.run.started_by == team.reviewer
    assert failed.status == RunStatus.FAILED  # the failure stays on record


def test_a_run_whose_field_was_deleted_meanwhile_fails_with_the_reason(review, team):
    run = submit(review, team.owner, enqueue=False).run
    review.extraction_fields.get(key="management").delete()

    analysis_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "management" in run.error


def test_an_unexpected_error_is_stored_not_left_running(review, team, monkeypatch):
    run = submit(review, team.owner, enqueue=False).run

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("analysis.services.runs.compute", broken)
    analysis_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "ZeroDivisionError" in run.error


# --- the spec ---


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("crosstab", {"row": "site", "col": "age_months"}, "only single-choice and yes/no"),
        ("crosstab", {"row": "site", "col": "other_therapy"}, "only single-choice and yes/no"),
        ("crosstab", {"row": "site", "col": "site"}, "two different fields"),
        ("crosstab", {"row": "site", "col": "nope"}, "no patient-level field"),
        ("risk_factors", {"exposure": "margin", "outcomes": []}, "at least one outcome"),
        ("risk_factors", {"exposure": "margin", "outcomes": ["margin"]}, "both the exposure"),
        ("crosstab", {"row": "site", "col": "sex", "rule": "bayes"}, "not a reporting rule"),
        ("anova", {}, "not a kind of analysis"),
    ],
)
def test_a_spec_that_does_not_fit_the_form_is_refused(review, team, kind, spec, message):
    with pytest.raises(ValidationError, match=message):
        submit(review, team.owner, kind=kind, spec=spec)

    assert not AnalysisRun.objects.exists()


def test_the_same_run_already_waiting_is_returned_not_queued_twice(review, team):
    first = submit(review, team.owner, enqueue=False)

    second = submit(review, team.reviewer, enqueue=False)

    assert second.already_queued
    assert second.run == first.run


# --- the demo ---


def test_the_demo_runs_its_analyses_at_once(review, team):
    runs = analysis_demo(review, team.owner)

    assert [run.kind for run in runs] == [
        "characteristics",
        "risk_factors",
        "crosstab",
        "pooled_proportion",
        "pooled_proportion",
        "pooled_proportion",
        "pooled_ratio",
    ]
    assert all(run.status == RunStatus.SUCCEEDED for run in runs)
    assert runs[2].spec == {
        "row": "site",
        "col": "management",
        "rule": "likelihood_ratio",
        "yates": False,
    }
