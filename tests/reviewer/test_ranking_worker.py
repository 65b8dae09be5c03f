"""A retrain of the relevance ranking on a real Celery worker (Redis, PostgreSQL), as in
production: queued by a reviewer's decisions, run by the worker, read by the page."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from reviewer.models import RankingJob, RankingStatus, RankingTrigger
from reviewer.ranking.selectors import ranking_state
from tests.factories import add_member, make_record, make_review, make_user, page_text, screen

pytestmark = pytest.mark.celery_worker


def wait_for(job: RankingJob, seconds: float = 30) -> RankingJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == RankingStatus.SUCCEEDED:
            return job
        if job.status == RankingStatus.FAILED:
            pytest.fail(f"the retrain failed: {job.error}")
        time.sleep(0.2)
    pytest.fail(f"the retrain is still {job.status} after {seconds} s")


def test_decisions_queue_a_retrain_the_worker_runs(celery_worker, client, settings) -> None:
    settings.RANKING_RETRAIN_EVERY = 4
    review = make_review(title="Pediatric IMT")
    reviewer = add_member(review, make_user("dan")).user
    titles = [
        ("Inflammatory myofibroblastic tumour of the bladder in children", "include"),
        ("Statin therapy and cardiovascular events in elderly adults", "exclude"),
        ("Paediatric inflammatory myofibroblastic tumour after resection", "include"),
        ("Blood pressure control with statin therapy in adults", "exclude"),
        ("Recurrence of inflammatory myofibroblastic tumour in children", ""),
        ("Cardiovascular risk of statin therapy in older adults", ""),
    ]
    records = [make_record(review, title=title) for title, _ in titles]
    for record, (_, choice) in zip(records, titles, strict=True):
        if choice:
            # the second (one relevant, one irrelevant) queues a retrain on commit; the
            # next ones join it while it waits, or come too soon after it started
            screen(record, reviewer, choice)

    jobs = RankingJob.objects.filter(review=review, reviewer=reviewer).order_by("pk")
    job = wait_for(jobs.first())
    assert jobs.count() == 1

    assert job.trigger == RankingTrigger.DECISIONS
    assert job.relevant >= 1 and job.irrelevant >= 1 and job.records == 6
    assert ranking_state(review, reviewer).trained
    client.force_login(reviewer)
    page = client.get(
        reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"}), follow=True
    )
    assert page.context["record"] == records[4]  # the likely include of the two waiting
    assert "Relevance" in page_text(page)
