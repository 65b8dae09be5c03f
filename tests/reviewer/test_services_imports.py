"""Import jobs survive a stopped worker: stale claims are taken over, never doubled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import ImportJob, ImportStatus, Record
from reviewer.services import imports
from tests.factories import make_import_file, make_import_job, make_review, make_source, make_team

pytestmark = pytest.mark.django_db

RIS = b"""TY  - JOUR
TI  - Inflammatory myofibroblastic tumor of the bladder in children
PY  - 2015
ER  -

TY  - JOUR
TI  - Crizotinib for unresectable inflammatory myofibroblastic tumor
PY  - 2020
ER  -
"""


def importing_job(claimed_minutes_ago: float) -> ImportJob:
    """A confirmed job whose worker claimed it `claimed_minutes_ago` and is importing."""
    source = make_source(make_review(), name="Embase")
    job = make_import_job(
        source,
        status=ImportStatus.IMPORTING,
        record_count=2,
        claimed_at=timezone.now() - timedelta(minutes=claimed_minutes_ago),
    )
    make_import_file(job, "embase.ris", RIS, detected_format="ris", record_count=2)
    return job


def test_a_job_whose_worker_stopped_is_taken_over_and_imported() -> None:
    job = importing_job(claimed_minutes_ago=120)
    assert job.is_stale

    imports.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Record.objects.filter(source=job.source).count() == 2


def test_a_job_a_live_worker_holds_is_left_alone() -> None:
    job = importing_job(claimed_minutes_ago=1)
    assert not job.is_stale

    imports.import_job_run(job_id=job.pk)  # e.g. the same task delivered twice

    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTING
    assert not Record.objects.exists()


def test_a_worker_whose_job_was_taken_over_cannot_commit(monkeypatch) -> None:
    job = make_import_job(
        make_source(make_review()), status=ImportStatus.WAITING_TO_IMPORT, record_count=2
    )
    make_import_file(job, "embase.ris", RIS, detected_format="ris", record_count=2)
    insert = imports._insert_records

    def insert_then_lose_the_claim(job: ImportJob) -> int:
        count = insert(job)
        # Meanwhile another worker decided this one had stopped and took the job over.
        ImportJob.objects.filter(pk=job.pk).update(claimed_at=timezone.now() + timedelta(1))
        return count

    monkeypatch.setattr(imports, "_insert_records", insert_then_lose_the_claim)

    imports.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert not Record.objects.exists(), "the stopped worker's records are rolled back"
    assert job.status == ImportStatus.IMPORTING, "the job stays with the worker that took over"


def test_restart_refuses_a_job_that_is_still_running() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="still running"):
        imports.import_job_restart(job=importing_job(claimed_minutes_ago=1))


def test_owner_sees_a_stopped_import_and_starts_it_again(
    client, django_capture_on_commit_callbacks
) -> None:
    team = make_team()
    source = make_source(team.review, name="Embase")
    job = make_import_job(
        source,
        status=ImportStatus.IMPORTING,
        record_count=2,
        claimed_at=timezone.now() - timedelta(hours=3),
    )
    make_import_file(job, "embase.ris", RIS, detected_format="ris", record_count=2)
    client.force_login(team.owner)

    page = client.get(job.get_absolute_url()).content.decode()
    assert "This import stopped without finishing" in page
    assert "Start it again" in page
    assert 'hx-trigger="every 1s"' not in page, "a stopped job is not polled"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import-restart", args=[team.review.slug, job.pk]))

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert sorted(Record.objects.filter(source=source).values_list("title", flat=True)) == [
        "Crizotinib for unresectable inflammatory myofibroblastic tumor",
        "Inflammatory myofibroblastic tumor of the bladder in children",
    ]


def test_a_reviewer_sees_the_notice_but_no_restart_button(client) -> None:
    team = make_team()
    job = make_import_job(
        make_source(team.review),
        status=ImportStatus.READING,
        claimed_at=timezone.now() - timedelta(hours=3),
    )
    client.force_login(team.reviewer)

    page = client.get(job.get_absolute_url()).content.decode()

    assert "This import stopped without finishing" in page
    assert "Start it again" not in page
