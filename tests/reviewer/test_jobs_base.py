"""The job lifecycle every kind shares (reviewer.models.jobs, reviewer.services.jobs): one
claim runs, a stale claim is taken over, a lost claim keeps nothing, a failure ends failed
with its reason, progress lives on the row and every job page shows it the same way, and
"one at a time" is a constraint whose refusal the person reads as before."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from analysis.models import AnalysisRun, RunStatus
from analysis.services.runs import analysis_submit
from extraction.models import PendingImport, PendingStatus
from reviewer.models import DedupJob, DedupStatus, ImportStatus, JobStatus, RankingJob
from reviewer.models.jobs import CANCELLED_NOTE
from reviewer.services import jobs
from reviewer.services.jobs import Claim, ClaimLost, claim_job, run_claimed
from tests.analysis.helpers_runs import imt_review
from tests.factories import make_import_job, make_record, make_source, page_text

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=3)


def a_dedup_job(team, **fields) -> DedupJob:
    """A run over the whole review, as the page asks for one."""
    fields.setdefault("whole_review", True)
    return DedupJob.objects.create(review=team.review, created_by=team.owner, **fields)


def never(error: Exception) -> str:
    return f"Unexpected error ({type(error).__name__}: {error})."


# --- claiming ---


def test_a_job_delivered_twice_runs_once(team):
    job = a_dedup_job(team)
    ran = []

    def body(claim: Claim) -> dict[str, object]:
        ran.append(claim.token)
        return {"counts": {"records": 1}}

    assert run_claimed(DedupJob, job.pk, body, failed=never)
    assert not run_claimed(DedupJob, job.pk, body, failed=never)  # finished: nothing to do

    job.refresh_from_db()
    assert len(ran) == 1
    assert job.status == JobStatus.SUCCEEDED == DedupStatus.DONE
    assert job.counts == {"records": 1}
    assert job.finished_at is not None and job.phase == ""


def test_a_job_a_live_worker_holds_is_left_alone(team):
    job = a_dedup_job(team)
    assert claim_job(DedupJob, job.pk) is not None  # a worker took it a moment ago

    assert not run_claimed(DedupJob, job.pk, lambda claim: pytest.fail("ran twice"), failed=never)
    job.refresh_from_db()
    assert job.status == DedupStatus.RUNNING


def test_a_stale_claim_is_taken_over_and_the_stopped_workers_progress_is_cleared(team):
    old = timezone.now() - LONG_AGO
    job = a_dedup_job(
        team,
        status=DedupStatus.RUNNING,
        claimed_at=old,
        progress=40,
        progress_total=50,
        phase="Comparing records",
    )
    assert job.is_stale and job.is_stuck
    seen = []

    def body(claim: Claim) -> None:
        row = DedupJob.objects.get(pk=job.pk)
        seen.append((row.progress, row.progress_total, row.phase))
        claim.finish(counts={})

    assert run_claimed(DedupJob, job.pk, body, failed=never)

    assert seen == [(0, None, "")], "the new worker starts from nothing, not the dead one's bar"
    job.refresh_from_db()
    assert job.status == DedupStatus.DONE and job.claimed_at != old
    with pytest.raises(ClaimLost):  # the stopped worker, had it woken, could write nothing
        Claim(DedupJob, job.pk, old).write(error="the stopped worker")


def test_a_job_cancelled_while_it_runs_keeps_nothing(team):
    job = a_dedup_job(team)

    def body(claim: Claim) -> dict[str, object]:
        jobs.job_cancel(job=DedupJob.objects.get(pk=job.pk), user=team.owner)
        return {"counts": {"records": 99}}

    assert run_claimed(DedupJob, job.pk, body, failed=never)

    job.refresh_from_db()
    assert job.status == DedupStatus.CANCELLED == JobStatus.CANCELLED
    assert job.error.startswith(f"Cancelled by {team.owner.display_name()} on ")
    assert job.counts == {}
    assert job.claimed_at is None


def cancel_every_kind(team) -> list:
    """One unfinished job of every kind that ends when cancelled, each cancelled by the
    owner through the one `job_cancel`."""
    imt_review(team.review, count=30)
    made = [
        a_dedup_job(team),
        RankingJob.objects.create(review=team.review, reviewer=team.owner, trigger="requested"),
        analysis_submit(
            review=team.review, kind="characteristics", spec={}, user=team.owner, enqueue=False
        ).run,
        make_import_job(make_source(team.review), status=ImportStatus.WAITING_TO_READ),
    ]
    for job in made:
        jobs.job_cancel(job=job, user=team.owner)
        job.refresh_from_db()
    return made


def test_every_kind_of_job_ends_a_cancel_cancelled_saying_who_and_when(team):
    cancelled = cancel_every_kind(team)

    for job in cancelled:
        assert (type(job).__name__, job.status) == (type(job).__name__, JobStatus.CANCELLED)
        assert job.get_status_display() == "Cancelled"
        assert job.error.startswith(f"Cancelled by {team.owner.display_name()} on "), job.error
        assert job.finished_at is not None and job.claimed_at is None
        assert re.match(CANCELLED_NOTE, job.error)


def test_a_worker_stops_at_its_next_progress_once_its_job_is_cancelled(team):
    job = a_dedup_job(team)
    reached = []

    def body(claim: Claim) -> None:
        claim.progress(10, 400, "Comparing records")
        jobs.job_cancel(job=DedupJob.objects.get(pk=job.pk), user=team.owner)
        claim.progress(20, 400, "Saving the groups")  # a new step: written at once
        reached.append("the rest of the work")

    assert run_claimed(DedupJob, job.pk, body, failed=never)

    job.refresh_from_db()
    assert reached == []
    assert job.status == JobStatus.CANCELLED and job.phase == ""


@pytest.mark.django_db(transaction=True, databases=["default", "progress"])
def test_a_worker_inside_its_own_transaction_stops_and_rolls_back_once_cancelled(team):
    """An import writes its progress through a second connection; a cancel stops it there."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: the cancel is found at the import's commit")
    job = a_dedup_job(team)
    reached = []

    def body(claim: Claim) -> None:
        jobs.job_cancel(job=DedupJob.objects.get(pk=job.pk), user=team.owner)
        with transaction.atomic():
            make_record(team.review, title="Written before the worker noticed")
            claim.progress(1, 2, "Importing")
            reached.append("the rest of the import")

    assert run_claimed(DedupJob, job.pk, body, failed=never)

    job.refresh_from_db()
    assert reached == []
    assert job.status == JobStatus.CANCELLED
    assert not team.review.records.exists(), "the import's transaction rolled back"


@pytest.mark.parametrize("kind", ["dedup", "analysis", "import"])
def test_a_cancelled_jobs_page_says_who_cancelled_it_and_when(client, team, kind):
    dedup, _, run, imported = cancel_every_kind(team)
    job, url, what = {
        "dedup": (
            dedup,
            reverse("dedup-overview", args=[team.review.slug]),
            "The run was cancelled. Nothing was changed.",
        ),
        "analysis": (
            run,
            reverse("analysis-run", args=[team.review.slug, run.pk]),
            "The run was cancelled; it computed nothing.",
        ),
        "import": (
            imported,
            imported.get_absolute_url(),
            "This import was cancelled; nothing was imported.",
        ),
    }[kind]
    client.force_login(team.reviewer)

    text = page_text(client.get(url))

    assert what in text
    assert f"Cancelled by {team.owner.display_name()} on " in text
    assert job.error in text
    assert "failed" not in text.lower()


def test_the_runs_cancelled_before_are_moved_to_cancelled_by_the_migrations(team):
    """Before every kind ended `cancelled`, a cancel ended a run `failed` with its note."""
    dedup, ranking, run, _ = cancel_every_kind(team)
    for job in (dedup, ranking, run):
        type(job).objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    failure = a_dedup_job(
        team, whole_review=False, status=JobStatus.FAILED, error="Cancelled by the engine: odd."
    )

    for app, name in (
        ("reviewer", "0013_job_cancelled_status"),
        ("analysis", "0004_job_cancelled_status"),
    ):
        import_module(f"{app}.migrations.{name}").cancelled_runs(django_apps, None)

    for job in (dedup, ranking, run):
        job.refresh_from_db()
        assert job.status == JobStatus.CANCELLED
    failure.refresh_from_db()
    assert failure.status == JobStatus.FAILED, "only the note a cancel wrote is a cancel"


def test_a_failure_ends_the_job_failed_with_a_readable_reason(team):
    job = a_dedup_job(team)

    def body(claim: Claim) -> None:
        raise ValueError("no records\x00here")

    run_claimed(DedupJob, job.pk, body, failed=never)

    job.refresh_from_db()
    assert job.status == DedupStatus.FAILED
    assert job.error == "Unexpected error (ValueError: no records\ufffdhere)."
    assert job.finished_at is not None


def test_an_expected_error_is_the_reason_as_it_is(team):
    job = a_dedup_job(team)

    def body(claim: Claim) -> None:
        raise LookupError("Field “age” is not on the form.")

    run_claimed(DedupJob, job.pk, body, expected=(LookupError,), failed=never)

    job.refresh_from_db()
    assert job.error == "Field “age” is not on the form."


# --- progress on the row ---


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_on_the_row_as_the_work_goes(team):
    job = a_dedup_job(team)
    seen = []

    def body(claim: Claim) -> None:
        claim.progress(3, 10, "Comparing records")
        row = DedupJob.objects.get(pk=job.pk)
        seen.append((row.progress, row.progress_total, row.phase, row.progress_known))

    run_claimed(DedupJob, job.pk, body, failed=never)

    assert seen == [(3, 10, "Comparing records", True)]


@pytest.mark.django_db(transaction=True, databases=["default", "progress"])
def test_progress_inside_the_jobs_own_transaction_is_seen_before_it_commits(team):
    """An import lands in one transaction; its bar must move meanwhile (a second connection)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: the bar stays indeterminate until the commit")
    job = a_dedup_job(team)
    seen = []

    def body(claim: Claim) -> None:
        with transaction.atomic():
            claim.progress(2000, 5000, "Importing")
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        f"SELECT progress, progress_total FROM {DedupJob._meta.db_table} "
                        "WHERE id = %s",
                        [job.pk],
                    )
                    seen.append(cursor.fetchone())
            finally:
                other.close()

    run_claimed(DedupJob, job.pk, body, failed=never)

    assert seen == [(2000, 5000)]


def test_progress_goes_through_a_second_name_for_the_same_database(settings):
    """`jobs.PROGRESS_DATABASE`: its own connection, in autocommit, to the default's database."""
    default, progress = (settings.DATABASES[name] for name in ("default", jobs.PROGRESS_DATABASE))

    assert {k: progress[k] for k in ("ENGINE", "NAME", "HOST", "PORT", "USER")} == {
        k: default[k] for k in ("ENGINE", "NAME", "HOST", "PORT", "USER")
    }
    assert progress["AUTOCOMMIT"] and not progress["ATOMIC_REQUESTS"]
    assert progress["TEST"]["MIRROR"] == "default"


def test_an_import_page_shows_its_progress(client, team):
    job = make_import_job(
        make_source(team.review),
        status=ImportStatus.IMPORTING,
        claimed_at=timezone.now(),
        record_count=5000,
        progress=2000,
        progress_total=5000,
        phase="Importing",
    )
    client.force_login(team.owner)

    response = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")

    assert '<progress id="import-progress" max="5000" value="2000">' in response.content.decode()
    assert "Records imported 2,000 of 5,000" in page_text(response)


def test_a_de_duplication_page_shows_its_progress(client, team):
    a_dedup_job(
        team,
        status=DedupStatus.RUNNING,
        claimed_at=timezone.now(),
        progress=120,
        progress_total=400,
        phase="Comparing records",
    )
    client.force_login(team.owner)

    response = client.get(reverse("dedup-overview", args=[team.review.slug]))

    assert '<progress id="dedup-progress" max="400" value="120">' in response.content.decode()
    assert "Comparing records 120 of 400" in page_text(response)


def test_a_pending_extraction_import_page_shows_it_is_being_read(client, team):
    pending = PendingImport.objects.create(
        review=team.review,
        created_by=team.reviewer,
        token="t" * 20,
        name="patients.csv",
        kind="patients",
        target="mine",
        status=PendingStatus.READING,
        claimed_at=timezone.now(),
    )
    client.force_login(team.reviewer)

    url = reverse("extraction-import-preview", args=[team.review.slug])
    response = client.get(f"{url}?token={pending.token}")

    assert pending.status == JobStatus.RUNNING
    assert '<progress id="upload-progress">Reading…</progress>' in response.content.decode()
    assert "Reading and checking every row…" in page_text(response)


# --- one at a time: a constraint, and the same words when it refuses ---


def test_a_second_unfinished_whole_review_de_duplication_is_refused_by_the_database(team):
    a_dedup_job(team)

    with pytest.raises(IntegrityError), transaction.atomic():
        a_dedup_job(team, status=DedupStatus.RUNNING)
    finished = a_dedup_job(team, status=DedupStatus.DONE)  # finished runs may pile up
    an_imports_check = a_dedup_job(team, whole_review=False)  # runs beside it
    assert finished.pk and an_imports_check.pk


def test_running_de_duplication_while_one_goes_says_so_and_starts_none(client, team):
    make_record(team.review, title="One record")
    going = a_dedup_job(team, status=DedupStatus.RUNNING, claimed_at=timezone.now())
    client.force_login(team.owner)

    response = client.post(reverse("dedup-run", args=[team.review.slug]), follow=True)

    assert "A de-duplication run is already going; its progress is below." in page_text(response)
    assert list(DedupJob.objects.values_list("pk", flat=True)) == [going.pk]


def test_running_de_duplication_again_after_its_worker_stopped_takes_the_old_run_over(
    client, team, django_capture_on_commit_callbacks
):
    """Two copies disagreed here: the page started a second run beside a stale one."""
    make_record(team.review, title="One record")
    stale = a_dedup_job(team, status=DedupStatus.RUNNING, claimed_at=timezone.now() - LONG_AGO)
    client.force_login(team.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dedup-run", args=[team.review.slug]), follow=True)

    assert "The waiting de-duplication run was sent to the workers again." in page_text(response)
    assert list(DedupJob.objects.values_list("pk", flat=True)) == [stale.pk]
    stale.refresh_from_db()
    assert stale.status == DedupStatus.DONE  # the new delivery took it over and ran it


def test_a_second_unfinished_run_of_one_analysis_is_refused_by_the_database(team):
    spec = {"row": "site", "col": "management"}
    fields = {"review": team.review, "kind": "crosstab", "started_by": team.owner}
    AnalysisRun.objects.create(spec=spec, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisRun.objects.create(spec=dict(spec), status=RunStatus.RUNNING, **fields)
    AnalysisRun.objects.create(spec={"row": "site", "col": "outcome"}, **fields)


def test_asking_again_for_an_analysis_whose_worker_stopped_takes_that_run_over(team):
    """Two copies disagreed here: a stale run was left beside a new one for the same ask."""
    review = imt_review(team.review, count=30)
    spec = {"row": "site", "col": "management", "rule": "auto", "yates": False}
    first = analysis_submit(
        review=review, kind="crosstab", spec=spec, user=team.owner, enqueue=False
    )
    AnalysisRun.objects.filter(pk=first.run.pk).update(
        status=RunStatus.RUNNING, claimed_at=timezone.now() - LONG_AGO
    )

    again = analysis_submit(review=review, kind="crosstab", spec=spec, user=team.owner)

    assert again.already_queued and again.run.pk == first.run.pk
    assert AnalysisRun.objects.count() == 1


def test_the_dedupe_command_runs_the_whole_review_run_already_waiting(team):
    make_record(team.review, title="One record")
    waiting = a_dedup_job(team)  # queued from the page, its worker not there yet
    out = StringIO()

    call_command("dedupe", "--review", team.review.slug, stdout=out)

    assert "1 records, 0 candidate pairs compared" in out.getvalue()
    assert list(DedupJob.objects.values_list("pk", "status")) == [(waiting.pk, "succeeded")]


def test_deleting_a_review_with_several_imports_being_checked_is_not_refused(team):
    """An import's check keeps its scope when its import goes (the FK is set to NULL)."""
    source = make_source(team.review)
    for _ in range(2):
        DedupJob.objects.create(
            review=team.review, created_by=team.owner, import_job=make_import_job(source)
        )
    a_dedup_job(team)

    team.review.delete()

    assert not DedupJob.objects.exists()


def test_the_dedupe_command_leaves_a_run_a_live_worker_holds(team):
    make_record(team.review, title="One record")
    held = a_dedup_job(team, status=DedupStatus.RUNNING, claimed_at=timezone.now())

    with pytest.raises(CommandError, match=f"run #{held.pk} is already going in a worker"):
        call_command("dedupe", "--review", team.review.slug, stdout=StringIO())
    assert DedupJob.objects.count() == 1
