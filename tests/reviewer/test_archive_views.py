"""The review archive in the browser (reviewer.views.archive): owners download it; anyone
logged in restores one and becomes an owner of the copy."""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reviewer.models import Membership, Review, Role, User
from tests.factories import Endpoint, make_user, page_text
from tests.permissions import PermissionCases
from tests.reviewer.archive.helpers import archive_bytes, members, rewrite
from tests.reviewer.archive.small import small_review, snapshot

pytestmark = pytest.mark.django_db


def children(review):
    """The archive pages name no child object."""
    return SimpleNamespace()


ENDPOINTS = [
    Endpoint("review-archive", "get", Role.OWNER, 200),
    Endpoint("review-archive-download", "post", Role.OWNER, 200),
]

WRONG_METHODS = [
    Endpoint("review-archive", "post", Role.OWNER, 405),
    Endpoint("review-archive-download", "get", Role.OWNER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # The archive pages name no child object, so there is no other review's child to try.
    test_child_of_another_review_gets_404_even_for_an_owner = None


@pytest.fixture
def review():
    return small_review()


def owner_client(client, review):
    client.force_login(review.created_by)
    return client


def test_archive_page_says_what_the_archive_holds_and_that_it_was_never_downloaded(client, review):
    response = owner_client(client, review).get(reverse("review-archive", args=[review.slug]))

    text = page_text(response)
    assert "2 records 3 decisions 2 members 2 stored files" in text
    assert "Not downloaded yet." in text
    assert "Download the archive (ZIP)" in text
    assert "You are Owner" in text


def test_owner_downloads_the_whole_review_and_the_time_is_kept(client, review):
    response = owner_client(client, review).post(
        reverse("review-archive-download", args=[review.slug])
    )

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="adult-imt-archive-')
    files = members(response.content)
    assert "tables/reviewer.decision.jsonl" in files
    assert files["tables/reviewer.decision.jsonl"].count(b"\n") == 3
    review.refresh_from_db()
    assert review.archive_downloaded_at is not None
    page = client.get(reverse("review-archive", args=[review.slug]))
    assert "Last downloaded" in page_text(page)


def test_settings_page_links_to_the_archive(client, review):
    response = owner_client(client, review).get(reverse("review-settings", args=[review.slug]))

    assert reverse("review-archive", args=[review.slug]).encode() in response.content


# --- restoring in the browser --------------------------------------------------------


def upload(data: bytes, name: str = "adult-imt-archive.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/zip")


def test_restore_needs_a_login(client):
    response = client.get(reverse("review-restore"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_anyone_logged_in_restores_an_archive_and_becomes_an_owner_of_the_copy(client, review):
    data = archive_bytes(review)
    nina = make_user("nina")
    client.force_login(nina)
    assert "Restore a review" in page_text(client.get(reverse("review-list")))

    response = client.post(
        reverse("review-restore"), {"archive": upload(data), "slug": "adult-imt-copy"}, follow=True
    )

    copy = Review.objects.get(slug="adult-imt-copy")
    assert response.redirect_chain[-1][0] == reverse("review-dashboard", args=[copy.slug])
    assert "Restored “Adult IMT” with its 2 people (2 matched by email). You are an owner." in (
        page_text(response)
    )
    roles = {m.user.username: m.role for m in Membership.objects.filter(review=copy)}
    assert roles == {"olga": Role.OWNER, "rita": Role.REVIEWER, "nina": Role.OWNER}
    assert copy.records.count() == 2


def test_a_damaged_archive_is_refused_on_the_page_and_nothing_is_stored(client, review):
    damaged = rewrite(
        archive_bytes(review),
        lambda files: files.update({"tables/reviewer.record.jsonl": b"{}\n"}),
        fix_manifest=False,
    )
    client.force_login(make_user("nina"))
    before = snapshot()

    response = client.post(reverse("review-restore"), {"archive": upload(damaged), "slug": "x"})

    assert response.status_code == 200
    assert (
        "adult-imt-archive.zip: The archive is damaged: tables/reviewer.record.jsonl does not "
        "match its checksum in the manifest. Nothing was restored."
    ) in page_text(response)
    assert snapshot() == before


def test_a_file_that_is_not_an_archive_is_refused(client):
    client.force_login(make_user("nina"))
    before = snapshot()

    response = client.post(reverse("review-restore"), {"archive": upload(b"hello", "notes.txt")})

    assert "notes.txt: This is not a review archive" in page_text(response)
    assert snapshot() == before


def test_an_archive_over_the_size_limit_is_refused(client, review, settings):
    settings.ARCHIVE_MAX_UPLOAD_MB = 0
    client.force_login(make_user("nina"))
    before = snapshot()

    response = client.post(
        reverse("review-restore"), {"archive": upload(archive_bytes(review)), "slug": "x"}
    )

    assert "the limit here is 0 MB" in page_text(response)
    assert snapshot() == before


def test_a_taken_address_is_refused_before_reading_the_archive(client, review):
    client.force_login(make_user("nina"))
    before = snapshot()

    response = client.post(
        reverse("review-restore"), {"archive": upload(archive_bytes(review)), "slug": "adult-imt"}
    )

    assert "A review with the address “adult-imt” exists already." in page_text(response)
    assert snapshot() == before
    assert User.objects.filter(username="nina").exists()


def test_archive_written_in_the_browser_is_a_zip_with_a_manifest(client, review):
    response = owner_client(client, review).post(
        reverse("review-archive-download", args=[review.slug])
    )

    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "manifest.json" in archive.namelist()
