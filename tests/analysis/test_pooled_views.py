"""Pooled results across studies on the analysis pages: asking for a pooled proportion or
ratio, its page (figures, forest plot, studies, leave-one-out), the forest plot's files,
the tables as CSV/XLSX, and studies counted from study-level fields."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from analysis.models import AnalysisKind, AnalysisRun, RunStatus
from analysis.services.runs import analysis_run_now
from extraction.models import FieldType, Level
from extraction.services.forms import field_create
from reviewer.models import Role
from tests.analysis.helpers_runs import final_study, imt_review, patient
from tests.extraction.helpers import fill, make_study
from tests.factories import Endpoint, page_text
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db

RATE = {"outcome": "recurrence", "event": "Yes", "method": "glmm"}
RATIO = {
    "exposure": "margin",
    "group_1": "Positive",
    "group_2": "Negative",
    "outcome": "recurrence",
    "event": "Yes",
    "measure": "OR",
    "method": "mh",
}


def children(review):
    """A finished pooled proportion of `review` (its form and data made first)."""
    if not review.extraction_fields.exists():
        imt_review(review, count=12)
    run = analysis_run_now(
        review=review, kind=AnalysisKind.POOLED_PROPORTION, spec=dict(RATE), user=review.created_by
    )
    return SimpleNamespace(run=run)


def table_kwargs(c):
    return {"pk": c.run.pk, "table": 0}


# Every member may look at a run's plots, as at every analysis page (test_analysis_views).
ENDPOINTS = [
    Endpoint(f"analysis-forest-{fmt}", "get", Role.REVIEWER, 200, kwargs=table_kwargs)
    for fmt in ("svg", "png", "pdf")
]

WRONG_METHODS = [
    Endpoint("analysis-forest-svg", "post", Role.REVIEWER, 405, kwargs=table_kwargs),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every member may use every analysis page: no role is too low.
    test_member_with_too_low_a_role_gets_403 = None


@pytest.fixture
def review(team):
    return imt_review(team.review, count=60)


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


def start(client, review, kind, **fields):
    data = {"kind": kind, **{f"{kind}-{name}": value for name, value in fields.items()}}
    return client.post(url("analysis-start", review), data)


def choice(*parts):
    return json.dumps(list(parts))


def test_overview_offers_both_pooled_analyses_with_the_reviews_fields(client, team, review):
    client.force_login(team.reviewer)

    response = client.get(url("analysis-overview", review))
    text = page_text(response)

    assert "Pooled proportion across studies" in text
    assert "Pooled odds or risk ratio across studies" in text
    assert "Recurrence: Yes" in text
    assert "Margin at primary resection: Positive vs Negative" in text
    assert "Binomial-normal GLMM" in text
    assert "The GLMM is recommended for small studies and rare events" in text
    assert "events of its patients" in text


def overview_queries(client, review):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("analysis-overview", review))
    return len(queries.captured_queries), page_text(response)


def test_overview_reads_the_pooled_data_once_for_all_its_pooled_runs(client, team, review):
    # each finished pooled run re-read the form, the final copies and their patient rows
    # to say whether its data changed; now they are read once for all of them
    client.force_login(team.reviewer)
    specs = [
        (AnalysisKind.POOLED_PROPORTION, RATE),
        (AnalysisKind.POOLED_PROPORTION, {**RATE, "method": "reml"}),
        (AnalysisKind.POOLED_PROPORTION, {**RATE, "method": "dl"}),
        (AnalysisKind.POOLED_RATIO, RATIO),
        (AnalysisKind.POOLED_RATIO, {**RATIO, "measure": "RR"}),
    ]
    runs = [
        analysis_run_now(review=review, kind=kind, spec=dict(spec), user=team.owner)
        for kind, spec in specs[:1]
    ]
    one, _ = overview_queries(client, review)
    runs += [
        analysis_run_now(review=review, kind=kind, spec=dict(spec), user=team.owner)
        for kind, spec in specs[1:]
    ]

    five, text = overview_queries(client, review)

    assert five == one
    assert all(run.status == RunStatus.SUCCEEDED for run in runs)
    assert all(f"#{run.pk}" in text for run in runs)
    assert "data changed since" not in text
    final_study(review, "Zhou 2020", [patient(recurrence="yes")])  # the counts move
    _, text = overview_queries(client, review)
    assert text.count("data changed since") == 5


def test_a_pooled_proportion_shows_its_figures_forest_plot_and_studies(
    client, team, review, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        response = start(
            client,
            review,
            "pooled_proportion",
            outcome_event=choice("recurrence", "Yes"),
            method="reml",
            transform="logit",
        )

    run = AnalysisRun.objects.get(review=review, kind=AnalysisKind.POOLED_PROPORTION)
    assert response.status_code == 302
    assert run.status == RunStatus.SUCCEEDED
    page = client.get(run.get_absolute_url())
    text = page_text(page)
    result = run.result["tables"][0]["result"]
    assert "Recurrence: Yes" in text
    assert f"Pooled proportion (logit) {100 * result['estimate']:.1f}%" in text
    assert "95% prediction interval" in text
    assert "τ² (REML)" in text
    assert "3 (60 patients)" in text
    assert "Coffin 2007" in text and "Karnak 2001" in text
    assert "leaving one study out" in text
    assert url("analysis-forest-svg", review, run.pk, 0) in page.content.decode()


def test_the_forest_plot_is_an_svg_to_show_and_png_pdf_to_download(client, team, review):
    run = children(review).run
    client.force_login(team.reviewer)

    svg = client.get(url("analysis-forest-svg", review, run.pk, 0))
    png = client.get(url("analysis-forest-png", review, run.pk, 0))
    pdf = client.get(url("analysis-forest-pdf", review, run.pk, 0))

    assert svg["Content-Type"] == "image/svg+xml"
    assert "Coffin 2007" in svg.content.decode()
    assert "Content-Disposition" not in svg
    assert png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"] and "forest-1" in png["Content-Disposition"]
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"


def test_a_table_without_a_forest_plot_is_404(client, team, review):
    run = children(review).run
    client.force_login(team.reviewer)

    leave_one_out = client.get(url("analysis-forest-svg", review, run.pk, 1))
    beyond = client.get(url("analysis-forest-svg", review, run.pk, 9))

    assert run.result["tables"][1]["kind"] == "leave_one_out"
    assert (leave_one_out.status_code, beyond.status_code) == (404, 404)


def test_a_pooled_odds_ratio_compares_the_groups_within_each_study(
    client, team, review, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        start(
            client,
            review,
            "pooled_ratio",
            groups=choice("margin", "Positive", "Negative"),
            outcome_event=choice("recurrence", "Yes"),
            measure="OR",
            method="mh",
        )

    run = AnalysisRun.objects.get(review=review, kind=AnalysisKind.POOLED_RATIO)
    assert run.spec == {**RATIO, "subgroup": ""}
    text = page_text(client.get(run.get_absolute_url()))
    assert "Pooled odds ratio" in text
    assert "Mantel–Haenszel fixed effect" in text
    assert "Positive Negative" in text  # the two groups' columns
    assert "95% prediction interval" not in text.split("Method:")[0]


def test_the_groups_and_the_event_must_be_different_fields(client, team, review):
    client.force_login(team.reviewer)

    response = start(
        client,
        review,
        "pooled_ratio",
        groups=choice("margin", "Positive", "Negative"),
        outcome_event=choice("margin", "Positive"),
        measure="OR",
        method="mh",
    )

    assert response.status_code == 400
    assert "Choose an event of another field than the groups" in page_text(response)
    assert not AnalysisRun.objects.filter(review=review).exists()


def test_studies_reporting_only_aggregates_count_from_study_level_fields(client, team, review):
    field_create(
        review=review,
        level=Level.STUDY,
        label="Recurrences (study total)",
        key="recurrences",
        type=FieldType.INTEGER,
    )
    aggregate = make_study(review, "Aggregate 2010")
    fill(aggregate, None, study_values={"patients": "20", "recurrences": "5"}, done=True)
    spec = {**RATE, "events_field": "recurrences", "total_field": "patients", "method": "dl"}

    run = analysis_run_now(
        review=review, kind=AnalysisKind.POOLED_PROPORTION, spec=spec, user=team.senior
    )

    table = run.result["tables"][0]
    studies = {s["label"]: s for s in table["result"]["studies"]}
    assert (studies["Aggregate 2010"]["events"], studies["Aggregate 2010"]["total"]) == (5, 20)
    assert (table["from_patients"], table["from_study_fields"]) == (3, 1)
    client.force_login(team.reviewer)
    text = page_text(client.get(run.get_absolute_url()))
    assert "3 studies counted from patients rows, 1 from study-level counts" in text


def test_a_study_with_nothing_to_count_is_left_out_and_named(client, team, review):
    final_study(review, "Empty 2020", [patient(recurrence="not reported")])

    run = analysis_run_now(
        review=review, kind=AnalysisKind.POOLED_PROPORTION, spec=dict(RATE), user=team.senior
    )

    table = run.result["tables"][0]
    assert table["result"]["k"] == 3
    assert table["left_out"] == [
        {"study": "Empty 2020", "reason": "outcome not reported for any patient"}
    ]
    client.force_login(team.reviewer)
    text = page_text(client.get(run.get_absolute_url()))
    assert "Left out: Empty 2020 (outcome not reported for any patient)" in text


def test_subgroups_by_a_study_level_field_are_tested_for_a_difference(team, review):
    spec = {**RATE, "method": "dl", "subgroup": "design"}
    fill_design = {"Coffin 2007": "Prospective cohort", "Dalton 2016": "Registry study"}
    for extraction in review.extractions.select_related("study"):
        design = fill_design.get(extraction.study.label, "Retrospective case series")
        from extraction.values import form_spec, parse_by_key

        extraction.values.update(parse_by_key(form_spec(review), {"design": design}))
        extraction.save()

    run = analysis_run_now(
        review=review, kind=AnalysisKind.POOLED_PROPORTION, spec=spec, user=team.senior
    )

    kinds = [table["kind"] for table in run.result["tables"]]
    assert kinds == ["pooled", "subgroups", "leave_one_out"]
    split = run.result["tables"][1]
    assert [g["label"] for g in split["groups"]] == [
        "Prospective cohort",
        "Registry study",
        "Retrospective case series",
    ]
    assert split["df_between"] == 2 and 0 <= split["p_between"] <= 1


def test_the_tables_download_with_the_studies_and_heterogeneity(client, team, review):
    run = children(review).run
    client.force_login(team.reviewer)

    response = client.get(url("analysis-export-csv", review, run.pk))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    book = load_workbook(
        io.BytesIO(client.get(url("analysis-export-xlsx", review, run.pk)).content)
    )

    assert rows[0] == ["Recurrence: Yes"]
    assert rows[1][:3] == ["Study", "Events", "Total patients"]
    assert [r[0] for r in rows[2:5]] == ["Coffin 2007", "Dalton 2016", "Karnak 2001"]
    assert any(r[:2] == ["τ² estimator", "ML"] for r in rows)
    assert any(r and r[0] == "Study left out" for r in rows)
    assert len(book.sheetnames) == 2


def test_the_export_bundle_holds_the_forest_plots(client, team, review):
    run = children(review).run
    from analysis.exports import forest_files

    files = forest_files(run)

    assert sorted(name.rsplit(".", 1)[1] for name in files) == ["pdf", "svg"]
    assert all("forest-1" in name for name in files)


def test_analysis_texts_use_the_reviews_own_word_for_a_row(client, team, review):
    from extraction.services.forms import setup_update

    setup_update(review=review, dual=True, row_noun="site", row_noun_plural="sites")
    run = children(review).run
    client.force_login(team.reviewer)

    overview = page_text(client.get(url("analysis-overview", review)))
    page = page_text(client.get(run.get_absolute_url()))

    assert "60 sites in 3 studies" in overview
    assert "Event (counted in the site rows)" in overview
    assert "60 patients" not in overview
    assert "3 (60 sites)" in page
    assert run.result["tables"][0]["unit"] == "sites"
