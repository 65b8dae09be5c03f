"""A pending extraction import as a row read off the web request for a large file
(extraction.services.uploads): the preview page polls, a failure says why, cancel and
"send it again" work, abandoned uploads are deleted."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from extraction.models import Extraction, PendingImport, PendingStatus
from extraction.selectors import study_key
from extraction.services import uploads
from reviewer.services import jobs
from reviewer.services.jobs import NOT_SENT, Claim, jobs_sweep
from tests.extraction.helpers import case_series_form, make_study
from tests.extraction.test_transfer_views import PATIENT, sheet, stored_uploads
from tests.factories import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(team):
    return case_series_form(team.review)


@pytest.fixture
def study(team, form):
    return make_study(team.review, "Coffin 2007")


@pytest.fixture
def small_threshold(monkeypatch):
    """Any file of more than 100 bytes counts as large (the real threshold is 1 MB: the
    worker test sends a real one)."""
    monkeypatch.setattr(uploads, "INLINE_READ_BYTES", 100)


def rows(study, count):
    return [
        {"study_key": study_key(study), "patient": f"Case {n}", **PATIENT} for n in range(count)
    ]


def upload(client, review, content, name="patients.csv"):
    return client.post(
        reverse("extraction-import", args=[review.slug]),
        {"file": SimpleUploadedFile(name, content), "kind": "patients", "target": "mine"},
    )


def token_of(response):
    return parse_qs(urlparse(response["Location"]).query)["token"][0]


def preview_url(review, token):
    return f"{reverse('extraction-import-preview', args=[review.slug])}?token={token}"


def test_a_small_file_is_read_in_the_request(client, team, study, form):
    client.force_login(team.reviewer)

    token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))

    pending = PendingImport.objects.get(token=token)
    assert pending.status == PendingStatus.READY
    assert "Every row is valid." in page_text(client.get(preview_url(team.review, token)))


def test_a_large_file_waits_for_a_worker_and_the_page_polls(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks() as queued:
        token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))

    page = client.get(preview_url(team.review, token))

    assert PendingImport.objects.get(token=token).status == PendingStatus.WAITING
    assert len(queued) == 1  # the read task, sent once the upload committed
    text = page_text(page)
    assert "Waiting for a worker to read the file…" in text
    assert "Every row is valid." not in text
    assert b'hx-trigger="every 1s"' in page.content
    assert reverse("extraction-import-commit", args=[team.review.slug]).encode() not in (
        page.content
    )

    queued[0]()  # the task runs (eagerly, as without a broker)
    poll = client.get(preview_url(team.review, token), headers={"HX-Request": "true"})

    text = page_text(poll)
    assert "Every row is valid." in text
    assert "Import 3 rows into 1 study" in text
    assert b"hx-trigger" not in poll.content
    assert b"<html" not in poll.content  # only the part the poll swaps in


def test_a_large_valid_file_previews_then_imports(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        token = token_of(upload(client, team.review, sheet(form, rows(study, 40))))

    assert "Import 40 rows into 1 study" in page_text(client.get(preview_url(team.review, token)))
    client.post(reverse("extraction-import-commit", args=[team.review.slug]), {"token": token})

    copy = Extraction.objects.get(study=study, extractor=team.reviewer)
    assert copy.patients.count() == 40
    assert not PendingImport.objects.exists()
    assert stored_uploads() == []


def test_a_large_file_counts_the_rows_checked_as_a_worker_reads_it(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks() as queued:
        token = token_of(upload(client, team.review, sheet(form, rows(study, 600))))
    pending = PendingImport.objects.get(token=token)
    seen = []
    write = Claim.write

    def watched(claim, **fields):  # the real write, and what the page then shows
        write(claim, **fields)
        if fields.get("progress_total"):
            seen.append(page_text(client.get(preview_url(team.review, token))))

    monkeypatch.setattr(Claim, "write", watched)
    monkeypatch.setattr(uploads.transfer, "ROWS_PER_REPORT", 250)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_SECONDS", 0)
    queued[0]()

    assert [re.search(r"Rows checked [\d,]+ of [\d,]+", text).group() for text in seen] == [
        "Rows checked 0 of 600",
        "Rows checked 250 of 600",
        "Rows checked 500 of 600",
    ]
    pending.refresh_from_db()
    assert pending.status == PendingStatus.READY and pending.phase == ""


def test_a_failed_reading_ends_failed_and_the_page_says_why(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks() as queued:
        token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))
    default_storage.delete(PendingImport.objects.get(token=token).file.name)  # storage lost it

    queued[0]()
    page = client.get(preview_url(team.review, token))

    pending = PendingImport.objects.get(token=token)
    assert pending.status == PendingStatus.FAILED
    text = page_text(page)
    assert "The file could not be read." in text
    assert "the uploaded file is no longer on the server" in text
    assert "Upload a corrected file" in text
    assert b"hx-trigger" not in page.content
    assert not Extraction.objects.exists()


def test_an_unexpected_error_while_reading_ends_failed_with_its_message(
    client, team, study, form, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("the disk said no")

    monkeypatch.setattr(uploads.transfer, "import_preview", broken)
    client.force_login(team.reviewer)

    token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))

    text = page_text(client.get(preview_url(team.review, token)))
    assert "The file could not be read (RuntimeError: the disk said no)." in text
    assert PendingImport.objects.get(token=token).status == PendingStatus.FAILED


def test_cancelling_a_reading_that_waits_drops_it_and_the_worker_then_does_nothing(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks() as queued:
        token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))
    assert "Cancel this import" in page_text(client.get(preview_url(team.review, token)))

    response = client.post(
        reverse("extraction-import-cancel", args=[team.review.slug]), {"token": token}
    )
    queued[0]()  # the message arrives after all

    assert "Import cancelled; nothing was imported." in page_text(client.get(response["Location"]))
    assert not PendingImport.objects.exists()
    assert stored_uploads() == []
    assert client.get(preview_url(team.review, token)).status_code == 302


def test_a_reading_whose_message_was_lost_is_sent_again_from_its_page(
    client, team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    client.force_login(team.reviewer)
    with django_capture_on_commit_callbacks():  # sent nowhere: the broker was down
        token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))
    PendingImport.objects.filter(token=token).update(error=NOT_SENT)

    page = client.get(preview_url(team.review, token))
    assert "The task queue (Redis) could not be reached" in page_text(page)
    assert b"hx-trigger" not in page.content  # no polling for a job that is not on its way
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("extraction-import-restart", args=[team.review.slug]), {"token": token}
        )

    assert PendingImport.objects.get(token=token).status == PendingStatus.READY
    assert "Every row is valid." in page_text(client.get(response["Location"]))


def test_the_sweep_sends_a_waiting_reading_again(
    team, study, form, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        pending = uploads.pending_import_create(
            review=team.review,
            user=team.reviewer,
            upload=SimpleUploadedFile("patients.csv", sheet(form, rows(study, 3))),
            kind="patients",
            target="mine",
        )
    PendingImport.objects.filter(pk=pending.pk).update(error=NOT_SENT)

    sent = jobs_sweep()

    assert sent["PendingImport"] == 1
    pending.refresh_from_db()
    assert pending.status == PendingStatus.READY


def test_uploads_left_for_a_day_are_deleted_with_their_files(client, team, study, form):
    client.force_login(team.reviewer)
    token = token_of(upload(client, team.review, sheet(form, rows(study, 3))))
    PendingImport.objects.filter(token=token).update(
        created_at=timezone.now() - uploads.UPLOAD_KEPT - dt.timedelta(minutes=1)
    )
    assert len(stored_uploads()) == 1

    assert uploads.pending_imports_delete_abandoned() == 1

    assert not PendingImport.objects.exists()
    assert stored_uploads() == []


def test_a_nul_character_in_the_file_is_kept_out_of_the_stored_preview(client, team, study, form):
    client.force_login(team.reviewer)
    # Past the first 4 KB, where a NUL byte would say "not a text file".
    bad = {"study_key": study_key(study), **PATIENT, "age_months": "8\x004"}
    content = sheet(form, [*rows(study, 100), bad])
    assert content.index(b"\x00") > 4096

    token = token_of(upload(client, team.review, content))

    pending = PendingImport.objects.get(token=token)
    assert pending.status == PendingStatus.READY
    assert "\x00" not in str(pending.preview)
    text = page_text(client.get(preview_url(team.review, token)))
    assert "1 problem:" in text
    assert "“8\ufffd4” is not a whole number." in text
