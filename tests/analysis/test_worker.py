"""An analysis on a real Celery worker (Redis, PostgreSQL), submitted through the web view."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from analysis import tasks
from analysis.models import AnalysisRun, RunStatus
from tests.analysis.helpers_runs import imt_review
from tests.factories import make_team

pytestmark = pytest.mark.celery_worker


def wait_for(run: AnalysisRun, seconds: float = 30) -> AnalysisRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == RunStatus.SUCCEEDED:
            return run
        if run.status == RunStatus.FAILED:
            pytest.fail(f"the run failed: {run.error}")
        time.sleep(0.2)
    pytest.fail(f"the run is still {run.status} after {seconds} s")


def test_a_crosstab_asked_for_on_the_page_is_computed_by_the_worker(celery_worker, client) -> None:
    team = make_team()
    imt_review(team.review, count=60)
    client.force_login(team.reviewer)

    response = client.post(
        reverse("analysis-start", args=[team.review.slug]),
        {
            "kind": "crosstab",
            "crosstab-row": "margin",
            "crosstab-col": "recurrence",
            "crosstab-rule": "auto",
        },
    )

    run = AnalysisRun.objects.get(review=team.review)
    assert response.status_code == 302
    assert response["Location"] == run.get_absolute_url()
    run = wait_for(run)
    assert run.progress == 100
    assert run.claimed_at is not None and run.finished_at is not None
    table = run.result["tables"][0]
    assert sum(map(sum, table["counts"])) == 60
    page = client.get(run.get_absolute_url())
    assert "Fisher" in page.content.decode()


def test_a_run_delivered_twice_is_computed_once(celery_worker) -> None:
    from analysis.services.runs import analysis_submit

    team = make_team()
    imt_review(team.review, count=30)
    run = analysis_submit(
        review=team.review, kind="characteristics", spec={}, user=team.owner, enqueue=False
    ).run

    tasks.run.delay(run_id=run.pk)
    tasks.run.delay(run_id=run.pk)  # a duplicate delivery
    finished = wait_for(run).finished_at
    tasks.run.delay(run_id=run.pk)  # and a late one
    time.sleep(1)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.finished_at == finished
