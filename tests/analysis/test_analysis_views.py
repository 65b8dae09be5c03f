"""Analysis pages (analysis.views): the runs and the forms, a run's page, its downloads."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from analysis.models import AnalysisRun, RunStatus
from analysis.services.runs import analysis_run_now
from extraction.services.forms import field_create
from reviewer.models import Role
from tests.analysis.helpers_runs import final_study, imt_review, patient, with_form
from tests.factories import Endpoint, page_text
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db

CROSSTAB = {"row": "site", "col": "management", "rule": "auto", "yates": False}


def children(review):
    """A finished cross-tabulation of `review` (its form and data made first)."""
    if not review.extraction_fields.exists():
        imt_review(review, count=12)
    run = analysis_run_now(
        review=review, kind="crosstab", spec=dict(CROSSTAB), user=review.created_by
    )
    return SimpleNamespace(run=run)


def run_kwargs(c):
    return {"pk": c.run.pk}


def table_kwargs(c):
    return {"pk": c.run.pk, "table": 0}


def start_data(c):
    return {
        "kind": "crosstab",
        "crosstab-row": "margin",
        "crosstab-col": "recurrence",
        "crosstab-rule": "auto",
    }


# Every member may look and start a run: a run reads the final data and changes none, so
# the reviewer role (the least a member has) is enough everywhere.
ENDPOINTS = [
    Endpoint("analysis-overview", "get", Role.REVIEWER, 200),
    Endpoint("analysis-start", "post", Role.REVIEWER, 302, data=start_data),
    Endpoint("analysis-run", "get", Role.REVIEWER, 200, kwargs=run_kwargs),
    Endpoint("analysis-rerun", "post", Role.REVIEWER, 302, kwargs=run_kwargs),
    Endpoint("analysis-cancel", "post", Role.REVIEWER, 302, kwargs=run_kwargs),
    Endpoint("analysis-chart-svg", "get", Role.REVIEWER, 200, kwargs=table_kwargs),
    Endpoint("analysis-chart-png", "get", Role.REVIEWER, 200, kwargs=table_kwargs),
    Endpoint("analysis-export-csv", "get", Role.REVIEWER, 200, kwargs=run_kwargs),
    Endpoint("analysis-export-xlsx", "get", Role.REVIEWER, 200, kwargs=run_kwargs),
]

WRONG_METHODS = [
    Endpoint("analysis-overview", "post", Role.REVIEWER, 405),
    Endpoint("analysis-start", "get", Role.REVIEWER, 405),
    Endpoint("analysis-run", "post", Role.REVIEWER, 405, kwargs=run_kwargs),
    Endpoint("analysis-rerun", "get", Role.REVIEWER, 405, kwargs=run_kwargs),
    Endpoint("analysis-cancel", "get", Role.REVIEWER, 405, kwargs=run_kwargs),
    Endpoint("analysis-chart-svg", "post", Role.REVIEWER, 405, kwargs=table_kwargs),
    Endpoint("analysis-export-csv", "post", Role.REVIEWER, 405, kwargs=run_kwargs),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every member may use every analysis page (see ENDPOINTS): no role is too low.
    test_member_with_too_low_a_role_gets_403 = None


# --- helpers ---


@pytest.fixture
def review(team):
    return imt_review(team.review, count=60)


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


def start(client, review, kind="crosstab", **fields):
    data = {"kind": kind, **{f"{kind}-{name}": value for name, value in fields.items()}}
    return client.post(url("analysis-start", review), data)


# --- the overview ---


def test_overview_offers_the_three_analyses_and_says_how_many_patients(client, team, review):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("analysis-overview", review)))

    assert "60 patients in 3 studies" in text
    assert "Patient characteristics" in text
    assert "Risk-factor table" in text
    assert "Cross-tabulation" in text
    assert "No analysis has run yet" in text
    assert "Not offered for tables: Age at diagnosis, Tumor size, Other therapy" in text


def test_overview_lists_runs_with_who_when_and_the_data_fingerprint(client, team, review):
    run = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.senior)
    client.force_login(team.reviewer)

    response = client.get(url("analysis-overview", review))

    text = page_text(response)
    assert f"Cross-tabulation #{run.pk}" in text
    assert "Tumor site × Management" in text
    assert "Finished" in text
    assert "senior" in text
    assert run.fingerprint[:8] in text
    assert "data changed since" not in text
    assertContains(response, run.get_absolute_url())


def test_overview_flags_a_run_whose_data_changed_and_offers_a_rerun(client, team, review):
    run = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    final_study(review, "Zhou 2020", [patient(site="Extremities")])
    client.force_login(team.reviewer)

    response = client.get(url("analysis-overview", review))

    assert "data changed since" in page_text(response)
    assertContains(response, url("analysis-rerun", review, run.pk))


def test_overview_without_a_form_says_to_set_up_extraction(client, team):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("analysis-overview", team.review)))

    assert "No patient-level fields yet" in text
    # walk: the forms showed empty menus under the callout
    assert "The analyses are offered once the extraction form has fields to analyse" in text
    assert "Cross-tabulate" not in text and "Describe the patients" not in text
    assert "<select" not in client.get(url("analysis-overview", team.review)).content.decode()


def test_a_form_with_too_few_fields_says_which_analyses_it_cannot_offer_and_why(client, team):
    field_create(review=team.review, level="patient", label="Age", type="integer")
    field_create(
        review=team.review, level="patient", label="Sex", type="choice", choices=["M", "F"]
    )
    client.force_login(team.owner)

    response = client.get(url("analysis-overview", team.review))

    text = page_text(response)
    assert "Describe the patients" in text  # one field is enough to describe
    assert "Pool the proportion" in text  # and to count an event in
    assert (
        "Not available: it needs two single-choice or yes/no fields (an exposure and an "
        "outcome), and the extraction form has only one." in text
    )
    assert "Not available: a table needs two single-choice or yes/no fields" in text
    assert "Not available: it needs two patient-level single-choice or yes/no fields" in text
    for button in ("Test the risk factors", "Cross-tabulate", "Pool the ratio"):
        assert button not in text
    assert url("extraction-form", team.review) in response.content.decode()


def test_overview_queries_do_not_grow_with_the_runs(
    client, team, review, django_assert_max_num_queries
):
    client.force_login(team.reviewer)
    for spec in (
        CROSSTAB,
        {"row": "margin", "col": "recurrence"},
        {"row": "sex", "col": "outcome"},
    ):
        analysis_run_now(review=review, kind="crosstab", spec=spec, user=team.owner)
    with django_assert_max_num_queries(30) as few:
        client.get(url("analysis-overview", review))
    for spec in ({"row": "margin", "col": "reoperation"}, {"row": "site", "col": "outcome"}):
        analysis_run_now(review=review, kind="crosstab", spec=spec, user=team.owner)

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("analysis-overview", review))


# --- starting a run (eager: no broker in the tests) ---


def test_a_crosstab_asked_for_runs_and_its_page_shows_the_tests(
    client, team, review, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, review, row="site", col="management", rule="auto")

    run = AnalysisRun.objects.get()
    assertRedirects(response, run.get_absolute_url())
    assert run.status == RunStatus.SUCCEEDED
    assert run.started_by == team.reviewer
    page = client.get(run.get_absolute_url())
    text = page_text(page)
    assert "Tumor site × Management" in text
    assert "Pearson chi-square (no continuity correction)" in text
    assert "Likelihood-ratio chi-square (G-test)" in text
    assert "Fisher's exact test, two-sided" in text
    assert "expected counts (50%) are below 5" in text
    assert f"Reported: p = {run.result['tables'][0]['reported_p_formatted']}" in text
    assertContains(page, f'title="p = {run.result["tables"][0]["fisher"]["p"]}"')
    assertContains(page, url("analysis-chart-svg", review, run.pk, 0))
    assertNotContains(page, "hx-trigger")  # done: no more polling


def test_asking_again_on_unchanged_data_shows_the_stored_result(client, team, review):
    run = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    client.force_login(team.reviewer)

    response = start(client, review, row="site", col="management", rule="auto")

    assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
    text = page_text(client.get(run.get_absolute_url()))
    assert "Data unchanged since" in text
    assert "showing the stored result" in text
    assert AnalysisRun.objects.count() == 1


def test_a_risk_factor_table_asked_for_shows_a_row_per_outcome(
    client, team, review, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    data = {
        "kind": "risk_factors",
        "risk_factors-exposure": "margin",
        "risk_factors-outcomes": ["recurrence", "reoperation", "outcome"],
        "risk_factors-rule": "auto",
    }

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("analysis-start", review), data)

    run = AnalysisRun.objects.get()
    text = page_text(client.get(run.get_absolute_url()))
    summary = run.result["tables"][0]
    negative, positive = summary["group_sizes"]
    assert "Margin at primary resection and outcomes" in text
    assert f"Negative (n = {negative}) Positive (n = {positive})" in text
    recurrence = summary["outcomes"][0]
    yes_negative = recurrence["levels"][0]["groups"][0]
    assert f"Recurrence {yes_negative['n']}/{yes_negative['denominator']}" in text
    assert recurrence["p_formatted"] in text
    assert "Outcome" in text
    assert "No evidence of disease" in text
    assert "Margin at primary resection × Outcome" in text


def test_characteristics_asked_for_lists_every_field(
    client, team, review, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("analysis-start", review),
            {"kind": "characteristics", "characteristics-chosen": ["sex", "age_months"]},
        )

    run = AnalysisRun.objects.get()
    text = page_text(client.get(run.get_absolute_url()))
    assert "Sex" in text
    assert "Age at diagnosis (months)" in text
    assert "Tumor site" not in text


def test_a_bad_request_shows_the_form_again_with_the_reason(client, team, review):
    client.force_login(team.reviewer)

    response = start(client, review, row="site", col="site", rule="auto")

    assert response.status_code == 400
    assert "Choose a field other than the rows." in page_text(response)
    assert not AnalysisRun.objects.exists()


def test_a_refused_request_is_said_at_the_top_of_the_page_with_a_link_to_its_form(
    client, team, review
):
    # walk: with no outcome ticked the page came back scrolled to the top, the runs table
    # first, and "This field is required." far below in the middle of the third form
    client.force_login(team.reviewer)

    response = client.post(
        url("analysis-start", review),
        {"kind": "risk_factors", "risk_factors-exposure": "margin", "risk_factors-rule": "auto"},
    )

    assert response.status_code == 400
    text = page_text(response)
    top = text.index("Nothing was started: the risk-factor table request needs a correction.")
    assert top < text.index("Runs")
    assert "Outcomes: Tick at least one outcome." in text
    assert "Go to the risk-factor table form ; what you chose is still there." in text
    html = response.content.decode()
    assert 'href="#ask-risk-factors"' in html and 'id="ask-risk-factors"' in html
    assert not AnalysisRun.objects.exists()


def test_an_accepted_page_says_nothing_was_refused(client, team, review):
    client.force_login(team.reviewer)

    assert "Nothing was started" not in page_text(client.get(url("analysis-overview", review)))


def test_an_unknown_kind_is_refused_with_a_message(client, team, review):
    client.force_login(team.reviewer)

    response = client.post(url("analysis-start", review), {"kind": "anova"}, follow=True)

    assert "Choose one of the analyses below." in page_text(response)


# --- the run's page while it waits, and when it fails ---


def test_a_queued_run_polls_and_refreshes_without_javascript(client, team, review):
    run = AnalysisRun.objects.create(
        review=review, kind="crosstab", spec=CROSSTAB, started_by=team.owner
    )
    client.force_login(team.reviewer)

    page = client.get(run.get_absolute_url())
    poll = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")

    assertContains(page, 'hx-trigger="every 1s"')
    assertContains(page, '<noscript><meta http-equiv="refresh" content="2"></noscript>')
    assertContains(page, "Waiting for a worker to start")
    assertContains(poll, 'id="run-body"')
    assertNotContains(poll, "<html")


def test_a_running_run_shows_its_progress(client, team, review):
    run = AnalysisRun.objects.create(
        review=review,
        kind="crosstab",
        spec=CROSSTAB,
        started_by=team.owner,
        status=RunStatus.RUNNING,
        progress=40,
        phase="Cross-tabulating",
    )
    client.force_login(team.reviewer)

    response = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")

    assertContains(response, '<progress id="run-progress" max="100" value="40">')
    assert "Cross-tabulating 40%" in page_text(response)


def test_a_failed_run_shows_its_reason_and_can_be_run_again(
    client, team, django_capture_on_commit_callbacks
):
    with_form(team.review)
    final_study(team.review, "Coffin 2007", [patient(site=s) for s in ("Thorax", "Head/neck")])
    failed = analysis_run_now(
        review=team.review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner
    )
    client.force_login(team.reviewer)
    page = client.get(failed.get_absolute_url())
    assert "The analysis could not be run." in page_text(page)
    assert failed.error in page_text(page)
    final_study(team.review, "Dalton 2016", [patient(management="Non-operative")] * 2)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("analysis-rerun", team.review, failed.pk))

    retried = AnalysisRun.objects.exclude(pk=failed.pk).get()
    assertRedirects(response, retried.get_absolute_url())
    assert retried.status == RunStatus.SUCCEEDED


def test_a_finished_run_on_changed_data_says_so(client, team, review):
    run = analysis_run_now(review=review, kind="crosstab", spec=dict(CROSSTAB), user=team.owner)
    final_study(review, "Zhou 2020", [patient()])
    client.force_login(team.reviewer)

    text = page_text(client.get(run.get_absolute_url()))

    assert "The data have changed since this run." in text
    assert "Re-run on the current data" in text


# --- downloads ---


@pytest.fixture
def table_one(review, team):
    spec = {"exposure": "margin", "outcomes": ["recurrence", "reoperation", "outcome"]}
    return analysis_run_now(review=review, kind="risk_factors", spec=spec, user=team.owner)


def test_chart_is_an_svg_shown_and_a_png_downloaded(client, team, review):
    run = children(review).run
    client.force_login(team.reviewer)

    svg = client.get(url("analysis-chart-svg", review, run.pk, 0))
    png = client.get(url("analysis-chart-png", review, run.pk, 0))

    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]


def test_chart_of_a_table_that_is_no_crosstab_is_404(client, team, review, table_one):
    client.force_login(team.reviewer)

    summary = client.get(url("analysis-chart-svg", review, table_one.pk, 0))
    beyond = client.get(url("analysis-chart-svg", review, table_one.pk, 9))

    assert summary.status_code == 404
    assert beyond.status_code == 404


def test_downloads_of_an_unfinished_run_are_404(client, team, review):
    run = AnalysisRun.objects.create(
        review=review, kind="crosstab", spec=CROSSTAB, started_by=team.owner
    )
    client.force_login(team.reviewer)

    assert client.get(url("analysis-export-csv", review, run.pk)).status_code == 404
    assert client.get(url("analysis-chart-svg", review, run.pk, 0)).status_code == 404


def test_csv_holds_every_table_of_the_run(client, team, review, table_one):
    client.force_login(team.reviewer)

    response = client.get(url("analysis-export-csv", review, table_one.pk))

    assert response["Content-Type"].startswith("text/csv")
    assert f"risk-factors-{table_one.pk}-tables" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    titles = [row[0] for row in rows if len(row) == 1]
    assert titles == [
        "Margin at primary resection and outcomes",
        "Margin at primary resection × Recurrence",
        "Margin at primary resection × Reoperation",
        "Margin at primary resection × Outcome",
    ]


def test_xlsx_has_a_sheet_per_table(client, team, review, table_one):
    client.force_login(team.reviewer)

    response = client.get(url("analysis-export-xlsx", review, table_one.pk))

    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 4
    summary = book.worksheets[0]
    assert summary.title == "1 Margin at primary resection…"
    assert summary["A1"].value == "Outcome by Margin at primary resection"
    assert summary["A2"].value == "Recurrence"
    assert book.worksheets[1]["A1"].value == "Margin at primary resection \\ Recurrence"
