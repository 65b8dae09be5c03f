"""A review's dashboard (reviewer.project.dashboard): the parts it reads from the other
apps — studies by extraction progress and the newest analysis runs. The screening part is
in tests/reviewer/test_dashboard_screening.py, its permission table in
tests/reviewer/test_reviews_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analysis.models import AnalysisRun, RunStatus
from tests.analysis.helpers_runs import final_study, patient, with_form
from tests.extraction.helpers import make_study
from tests.factories import make_record, page_text

pytestmark = pytest.mark.django_db


def dashboard_text(client, review, user) -> str:
    make_record(review)  # the dashboard shows its parts once the review has records
    client.force_login(user)
    return page_text(client.get(reverse("review-dashboard", args=[review.slug])))


def test_without_studies_the_dashboard_has_no_extraction_part(client, team):
    with_form(team.review)

    text = dashboard_text(client, team.review, team.owner)

    assert "PRISMA 2020 flow diagram" in text  # the page's other parts are there
    assert "Data extraction and analysis" not in text


def test_the_dashboard_counts_studies_by_extraction_progress_and_links_the_newest_runs(
    client, team
):
    review = with_form(team.review)
    final_study(review, "Coffin 2007", [patient(sex="Male")])
    make_study(review, "Dalton 2016")
    run = AnalysisRun.objects.create(
        review=review,
        kind="crosstab",
        spec={"row": "site", "col": "management", "rule": "auto", "yates": False},
        started_by=team.owner,
        status=RunStatus.SUCCEEDED,
    )

    text = dashboard_text(client, review, team.owner)

    assert "Data extraction and analysis" in text
    assert "1 Not started" in text and "1 Final" in text
    assert f"Newest analyses: Cross-tabulation #{run.pk} (finished)" in text


def test_the_dashboard_without_runs_offers_to_run_one(client, team):
    review = with_form(team.review)
    final_study(review, "Coffin 2007", [patient(sex="Male")])

    assert "No analysis yet. Run one on the final data." in dashboard_text(
        client, review, team.owner
    )
