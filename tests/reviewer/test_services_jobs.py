"""reviewer.services.jobs: every job kind recovers from every unfinished state.

Tasks run eagerly here, so "sent again" shows as the job moving on; the real broker and
worker are in test_broker_loss.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analysis.models import AnalysisRun, RunStatus
from analysis.services.runs import analysis_run_cancel, analysis_run_execute, analysis_submit
from reviewer.models import (
    DedupStatus,
    ImportJob,
    ImportStatus,
    RankingJob,
    RankingStatus,
    Record,
)
from reviewer.services import duplicates, imports, jobs, ranking
from tests.analysis.helpers_runs import imt_review
from tests.factories import (
    SMALL_RIS,
    make_import_file,
    make_import_job,
    make_record,
    make_review,
    make_source,
    make_team,
)

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=3)


def waiting_import(status: ImportStatus, *, age: timedelta = LONG_AGO, **fields) -> ImportJob:
    job = make_import_job(make_source(make_review(), name="Embase"), status=status, **fields)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    make_import_file(job, "embase.ris", SMALL_RIS, detected_format="ris", record_count=2)
    job.refresh_from_db()
    return job


def test_the_sweep_sends_an_import_whose_message_was_lost_and_it_is_read() -> None:
    job = waiting_import(ImportStatus.WAITING_TO_READ)

    sent = jobs.jobs_sweep()

    job.refresh_from_db()
    assert sent["ImportJob"] == 1
    assert job.status == ImportStatus.READY
    assert job.files.get().summary["record_count"] == 2


def test_the_sweep_leaves_a_job_queued_a_moment_ago_to_its_message() -> None:
    job = waiting_import(ImportStatus.WAITING_TO_READ, age=timedelta(seconds=5))

    assert jobs.jobs_sweep()["ImportJob"] == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.WAITING_TO_READ


def test_the_sweep_sends_at_once_a_job_the_broker_never_got() -> None:
    job = waiting_import(
        ImportStatus.WAITING_TO_IMPORT, age=timedelta(seconds=5), error=jobs.NOT_SENT
    )
    job.files.update(summary={"record_count": 2})

    jobs.jobs_sweep()

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.error == ""
    assert Record.objects.filter(source=job.source).count() == 2


def test_the_sweep_takes_over_a_job_whose_worker_was_killed() -> None:
    job = waiting_import(
        ImportStatus.IMPORTING, claimed_at=timezone.now() - LONG_AGO, record_count=2
    )

    jobs.jobs_sweep()

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Record.objects.filter(source=job.source).count() == 2


@pytest.mark.parametrize(
    "status",
    [
        ImportStatus.WAITING_TO_READ,
        ImportStatus.READING,
        ImportStatus.WAITING_TO_IMPORT,
        ImportStatus.IMPORTING,
        ImportStatus.READY,
        ImportStatus.FAILED,
    ],
)
def test_an_import_can_be_cancelled_in_every_unfinished_state(status: ImportStatus) -> None:
    job = waiting_import(status, claimed_at=timezone.now())

    imports.import_job_cancel(job=job, user=job.created_by)

    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert job.error.startswith(f"Cancelled by {job.created_by.display_name()} on ")
    assert job.finished_at is not None
    assert job.claimed_at is None
    assert Record.objects.filter(source=job.source).count() == 0


def test_a_worker_still_importing_a_cancelled_job_keeps_nothing() -> None:
    job = waiting_import(ImportStatus.WAITING_TO_IMPORT, record_count=2)
    token = jobs.claim_job(
        ImportJob, job.pk, waiting=ImportStatus.WAITING_TO_IMPORT, working=ImportStatus.IMPORTING
    )
    assert token is not None
    imports.import_job_cancel(job=job, user=job.created_by)

    with pytest.raises(jobs.ClaimLost):
        jobs.Claim(ImportJob, job.pk, token).finish(status=ImportStatus.DONE)
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED


def test_a_waiting_import_can_be_sent_again_but_a_working_one_only_once_stale(
    django_capture_on_commit_callbacks,
) -> None:
    waiting = waiting_import(ImportStatus.WAITING_TO_READ, age=timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True):
        imports.import_job_restart(job=waiting)
    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.READY

    working = waiting_import(ImportStatus.READING, claimed_at=timezone.now())
    with pytest.raises(ValidationError, match="still running"):
        imports.import_job_restart(job=working)


def test_a_dedup_run_can_be_cancelled_and_its_worker_then_changes_nothing() -> None:
    team = make_team()
    make_record(team.review, title="Inflammatory myofibroblastic tumour", doi="10.1/x")
    make_record(team.review, title="Inflammatory myofibroblastic tumour", doi="10.1/x")
    job = duplicates.dedup_job_create(review=team.review, user=team.owner, enqueue=False)

    duplicates.dedup_job_cancel(job=job, user=team.owner)
    duplicates.dedup_job_run(job_id=job.pk)  # a message delivered after the cancel

    job.refresh_from_db()
    assert job.status == DedupStatus.CANCELLED
    assert job.error.startswith("Cancelled by")
    assert not Record.objects.filter(review=team.review, duplicate_of__isnull=False).exists()
    with pytest.raises(ValidationError, match="already finished"):
        duplicates.dedup_job_cancel(job=job, user=team.owner)


def test_a_retrain_asked_for_joins_a_lost_queued_job_and_sends_it_again(
    django_capture_on_commit_callbacks,
) -> None:
    team = make_team()
    make_record(team.review, title="Inflammatory myofibroblastic tumour")
    dead = RankingJob.objects.create(
        review=team.review, reviewer=team.reviewer, trigger="requested"
    )
    RankingJob.objects.filter(pk=dead.pk).update(created_at=timezone.now() - LONG_AGO)

    with django_capture_on_commit_callbacks(execute=True):
        joined = ranking.ranking_job_request(
            review=team.review, user=team.reviewer, trigger="requested"
        )

    dead.refresh_from_db()
    assert joined.pk == dead.pk
    assert dead.status == RankingStatus.SUCCEEDED


def test_a_ranking_job_can_be_cancelled_and_a_new_retrain_queued() -> None:
    team = make_team()
    dead = RankingJob.objects.create(
        review=team.review, reviewer=team.reviewer, trigger="requested"
    )

    jobs.job_cancel(job=dead, user=team.reviewer)
    fresh = ranking.ranking_job_request(
        review=team.review, user=team.reviewer, trigger="requested", enqueue=False
    )

    dead.refresh_from_db()
    assert dead.status == RankingStatus.CANCELLED
    assert fresh.pk != dead.pk and fresh.status == RankingStatus.QUEUED


def test_asking_again_for_an_analysis_whose_run_was_lost_sends_that_run(
    django_capture_on_commit_callbacks,
) -> None:
    team = make_team()
    imt_review(team.review, count=30)
    dead = analysis_submit(
        review=team.review, kind="characteristics", spec={}, user=team.owner, enqueue=False
    ).run
    AnalysisRun.objects.filter(pk=dead.pk).update(error=jobs.NOT_SENT)

    with django_capture_on_commit_callbacks(execute=True):
        again = analysis_submit(
            review=team.review, kind="characteristics", spec={}, user=team.owner
        )

    dead.refresh_from_db()
    assert again.run.pk == dead.pk
    assert dead.status == RunStatus.SUCCEEDED
    assert AnalysisRun.objects.filter(review=team.review).count() == 1


def test_a_cancelled_analysis_run_is_not_computed_by_a_late_message() -> None:
    team = make_team()
    imt_review(team.review, count=30)
    run = analysis_submit(
        review=team.review, kind="characteristics", spec={}, user=team.owner, enqueue=False
    ).run

    analysis_run_cancel(run=run, user=team.reviewer)
    analysis_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.result is None
    assert run.error.startswith("Cancelled by")
