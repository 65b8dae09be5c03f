"""Imports and de-duplication on a real Celery worker (Redis, PostgreSQL), as in production."""

from __future__ import annotations

import time
from io import BytesIO

import pytest

from reviewer import tasks
from reviewer.models import DedupEvent, DedupJob, DedupStatus, ImportJob, ImportStatus, Record
from reviewer.services import duplicates, imports
from tests.factories import make_review, make_source, make_user

pytestmark = pytest.mark.celery_worker

RIS = b"""TY  - JOUR
TI  - Inflammatory myofibroblastic tumor of the bladder in children
AU  - Silva, Ana
PY  - 2015
DO  - 10.1000/bladder.2015
ER  -

TY  - JOUR
TI  - Crizotinib for unresectable inflammatory myofibroblastic tumor
AU  - Tanaka, Hiroshi
PY  - 2020
ER  -
"""


def wait_for(job: ImportJob, status: ImportStatus, seconds: float = 30) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == status:
            return job
        if job.status == ImportStatus.FAILED:
            pytest.fail(f"job failed: {job.error}")
        time.sleep(0.2)
    pytest.fail(f"job still {job.status} after {seconds} s, expected {status}")


def test_upload_is_read_and_imported_by_the_worker(celery_worker) -> None:
    owner = make_user("owner")
    source = make_source(make_review(owner=owner), name="Embase")

    job = imports.import_job_create(
        source=source, files=[("embase.ris", BytesIO(RIS))], created_by=owner
    )
    job = wait_for(job, ImportStatus.READY)
    assert job.files.get().summary["record_count"] == 2

    imports.import_job_confirm(job=job)
    job = wait_for(job, ImportStatus.DONE)

    titles = sorted(Record.objects.filter(source=source).values_list("title", flat=True))
    assert titles == [
        "Crizotinib for unresectable inflammatory myofibroblastic tumor",
        "Inflammatory myofibroblastic tumor of the bladder in children",
    ]


def test_a_task_delivered_twice_imports_once(celery_worker) -> None:
    owner = make_user("owner")
    source = make_source(make_review(owner=owner), name="Embase")
    job = imports.import_job_create(
        source=source, files=[("embase.ris", BytesIO(RIS))], created_by=owner
    )
    job = wait_for(job, ImportStatus.READY)
    imports.import_job_confirm(job=job)
    tasks.run_import.delay(job_id=job.pk)  # a duplicate delivery
    wait_for(job, ImportStatus.DONE)
    tasks.run_import.delay(job_id=job.pk)  # and a late one
    time.sleep(2)

    assert Record.objects.filter(source=source).count() == 2


# --- de-duplication on the worker ---

DUPLICATE_RIS = b"""TY  - JOUR
TI  - Inflammatory myofibroblastic tumor of the bladder in children.
AU  - Silva, A.
PY  - 2015
DO  - https://doi.org/10.1000/BLADDER.2015
ER  -
"""


def wait_for_dedup(job: DedupJob, seconds: float = 30) -> DedupJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == DedupStatus.DONE:
            return job
        if job.status == DedupStatus.FAILED:
            pytest.fail(f"de-duplication failed: {job.error}")
        time.sleep(0.2)
    pytest.fail(f"de-duplication still {job.status} after {seconds} s")


def test_a_second_search_is_de_duplicated_by_the_worker_after_its_import(celery_worker) -> None:
    owner = make_user("owner")
    review = make_review(owner=owner)
    pubmed, embase = make_source(review, name="PubMed"), make_source(review, name="Embase")
    first = imports.import_job_create(
        source=pubmed, files=[("pubmed.ris", BytesIO(RIS))], created_by=owner
    )
    imports.import_job_confirm(job=wait_for(first, ImportStatus.READY))
    wait_for(first, ImportStatus.DONE)
    second = imports.import_job_create(
        source=embase, files=[("embase.ris", BytesIO(DUPLICATE_RIS))], created_by=owner
    )
    imports.import_job_confirm(job=wait_for(second, ImportStatus.READY))
    wait_for(second, ImportStatus.DONE)

    dedup = wait_for_dedup(DedupJob.objects.get(import_job=second))

    duplicate = Record.objects.get(source=embase)
    assert duplicate.duplicate_of == Record.objects.get(source=pubmed, doi="10.1000/bladder.2015")
    assert dedup.counts["linked_records"] == 1


def test_a_dedup_task_delivered_twice_links_once(celery_worker) -> None:
    owner = make_user("owner")
    review = make_review(owner=owner)
    source = make_source(review, name="PubMed")
    job = imports.import_job_create(
        source=source, files=[("both.ris", BytesIO(RIS + b"\n" + DUPLICATE_RIS))], created_by=owner
    )
    imports.import_job_confirm(job=wait_for(job, ImportStatus.READY))
    wait_for(job, ImportStatus.DONE)
    wait_for_dedup(DedupJob.objects.get(import_job=job))
    rerun = duplicates.dedup_job_create(review=review, user=owner, enqueue=False)

    tasks.run_dedup.delay(job_id=rerun.pk)
    tasks.run_dedup.delay(job_id=rerun.pk)  # a duplicate delivery
    wait_for_dedup(rerun)
    time.sleep(1)

    assert DedupEvent.objects.filter(review=review).count() == 1
    assert Record.objects.filter(review=review).exclude(duplicate_of=None).count() == 1
