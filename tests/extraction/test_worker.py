"""A large extraction sheet read by a real Celery worker (Redis, PostgreSQL): the upload
returns at once, the preview page polls, and the worker's check appears on it."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from extraction import tasks
from extraction.models import PendingImport, PendingStatus
from extraction.services import uploads
from tests.extraction.helpers import case_series_form, make_study
from tests.extraction.test_pending_imports import preview_url, rows, token_of, upload
from tests.extraction.test_transfer_views import sheet
from tests.factories import make_team, page_text

pytestmark = pytest.mark.celery_worker


def wait_for(pending: PendingImport, seconds: float = 60) -> PendingImport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pending.refresh_from_db()
        if pending.status not in {PendingStatus.WAITING, PendingStatus.READING}:
            return pending
        time.sleep(0.2)
    pytest.fail(f"the upload is still {pending.status} after {seconds} s")


def test_a_large_valid_sheet_is_read_by_the_worker_and_previewed(celery_worker, client) -> None:
    team = make_team()
    form = case_series_form(team.review)
    study = make_study(team.review, "Coffin 2007")
    content = sheet(form, rows(study, 20_000))
    assert len(content) > uploads.INLINE_READ_BYTES  # a real large file, the real threshold
    client.force_login(team.reviewer)

    token = token_of(upload(client, team.review, content))

    pending = wait_for(PendingImport.objects.get(token=token))
    assert pending.status == PendingStatus.READY, pending.error
    poll = client.get(preview_url(team.review, token), headers={"HX-Request": "true"})
    text = page_text(poll)
    assert "Every row is valid." in text
    assert "Import 20,000 rows into 1 study" in text
    assert reverse("extraction-import-commit", args=[team.review.slug]).encode() in poll.content


def test_a_reading_that_fails_on_the_worker_ends_failed_and_the_page_says_why(
    celery_worker, client
) -> None:
    team = make_team()
    case_series_form(team.review)
    pending = PendingImport.objects.create(
        review=team.review,
        created_by=team.reviewer,
        token="lost-file",
        file="extraction-imports/lost-file.csv",  # never stored, or lost by the storage
        name="patients.csv",
        size=2_000_000,
        kind="patients",
        target="mine",
    )
    client.force_login(team.reviewer)

    tasks.read_pending_import.delay(pending_id=pending.pk)

    pending = wait_for(pending)
    assert pending.status == PendingStatus.FAILED
    page = client.get(preview_url(team.review, pending.token))
    text = page_text(page)
    assert "The file could not be read" in text
    assert "the uploaded file is no longer on the server" in text
    assert b"hx-trigger" not in page.content
