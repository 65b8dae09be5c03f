"""Imports on a real Celery worker (Redis broker, PostgreSQL), as in production."""

from __future__ import annotations

import time
from io import BytesIO

import pytest

from reviewer import tasks
from reviewer.models import ImportJob, ImportStatus, Record
from reviewer.services import imports
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
