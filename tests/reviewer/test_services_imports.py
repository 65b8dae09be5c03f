"""Import jobs survive a stopped worker: stale claims are taken over, never doubled."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from reviewer.models import ImportFile, ImportJob, ImportStatus, Record
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

    def insert_then_lose_the_claim(job: ImportJob, claim: object = None) -> int:
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


# --- reading never hangs, and nothing stored holds a NUL character ---


def _ris_with_nul_after_8_kb() -> bytes:
    """Ten records; the fifth, which the preview shows, has NULs in its title and abstract
    past the first 8 KB, where the binary check looks, so the file is read as text."""

    def record(n: int, title: str, abstract: str) -> str:
        return f"TY  - JOUR\nTI  - {title}\nAB  - {abstract}\nER  -\n\n"

    long_abstract = "A child with an abdominal mass. " * 70  # about 2.2 KB
    text = "".join(
        record(n, f"Inflammatory myofibroblastic tumour, case {n}", long_abstract)
        for n in range(1, 5)
    )
    text += record(5, "Broken\x00export", "Text with a NUL \x00 here")
    text += "".join(record(n, f"Case {n}", "Short.") for n in range(6, 11))
    data = text.encode()
    assert data.index(b"\x00") > 8192
    return data


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_after_the_first_8_kb_is_removed_from_everything_stored(
    django_capture_on_commit_callbacks,
) -> None:
    """On PostgreSQL (as CI runs it) a NUL in a text or JSON column is refused outright."""
    team = make_team()
    source = make_source(team.review, name="Embase")
    job = imports.import_job_create(
        source=source,
        files=[("embase.ris", io.BytesIO(_ris_with_nul_after_8_kb()))],
        created_by=team.owner,
        enqueue=False,
    )

    imports.import_job_read(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.READY, job.error
    assert job.record_count == 10
    summary = job.files.get().summary
    assert "\x00" not in json.dumps(summary, ensure_ascii=False)
    assert summary["sample"][4]["title"] == "Brokenexport"
    assert any("1 record holds NUL characters (record 5)" in w["text"] for w in summary["warnings"])

    imports.import_job_confirm(job=job, enqueue=False)
    imports.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    record = Record.objects.get(position=5)
    assert record.title == "Brokenexport"
    assert record.abstract == "Text with a NUL  here"
    assert record.raw["TI"] == "Brokenexport"


def test_a_failure_while_reading_ends_the_job_failed_with_its_reason(monkeypatch) -> None:
    team = make_team()
    source = make_source(team.review, name="Embase")
    job = imports.import_job_create(
        source=source, files=[("embase.ris", io.BytesIO(RIS))], created_by=team.owner, enqueue=False
    )

    def fail(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(ImportFile, "save", fail)  # the summary cannot be stored
    imports.import_job_read(job_id=job.pk)
    monkeypatch.undo()

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error.startswith("Reading the files failed (DatabaseError: the database went away).")
    assert job.status_label == "Refused: could not be read"

    # Reading again (changing the format) or cancelling both work on the failed job.
    imports.import_file_reconfigure(
        import_file=job.files.get(), format_override="ris", mapping=None
    )
    imports.import_job_read(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert job.record_count == 2
