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
from tests.reviewer.archive.small import small_review, snapshot, stored_files

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


def choose(client, data, slug="adult-imt-copy", name="adult-imt-archive.zip"):
    """Step 1 of restoring: the archive is checked and kept for the confirmation page."""
    return client.post(reverse("review-restore"), {"archive": upload(data, name), "slug": slug})


def confirm(client, **data):
    """Step 2: restore the archive chosen in this session (or cancel, with cancel="1")."""
    return client.post(reverse("review-restore-confirm"), data, follow=True)


def test_anyone_logged_in_restores_an_archive_and_becomes_an_owner_of_the_copy(client, review):
    data = archive_bytes(review)
    nina = make_user("nina")
    client.force_login(nina)
    assert "Restore a review" in page_text(client.get(reverse("review-list")))

    chosen = choose(client, data)
    assert chosen["Location"] == reverse("review-restore-confirm")
    assert Review.objects.count() == 1  # nothing restored before the confirmation
    response = confirm(client)

    copy = Review.objects.get(slug="adult-imt-copy")
    assert response.redirect_chain[-1][0] == reverse("review-dashboard", args=[copy.slug])
    text = page_text(response)
    assert "Restored “Adult IMT” with its 2 people (2 matched by email). You are an owner." in text
    assert (
        "Who is who: olga@example.org → existing account olga; "
        "Rita@example.org → existing account rita." in text
    )
    roles = {m.user.username: m.role for m in Membership.objects.filter(review=copy)}
    assert roles == {"olga": Role.OWNER, "rita": Role.REVIEWER, "nina": Role.OWNER}
    assert copy.records.count() == 2
    assert not any("restore-staging" in name for name in stored_files())


def forged(data: bytes, old_email: str, new_email: str) -> bytes:
    """The archive with one person's email replaced: what anyone can write into one."""

    def change(files: dict[str, bytes]) -> None:
        people = files["people.jsonl"].decode().replace(old_email, new_email)
        files["people.jsonl"] = people.encode()

    return rewrite(data, change)


def test_before_restoring_the_page_shows_whom_each_person_becomes_here(client, review):
    # mallory's archive says victor (an account here, in no review of hers) owned the review
    make_user("victor", email="victor@example.org", first_name="Victor", last_name="Hale")
    data = forged(archive_bytes(review), "olga@example.org", "VICTOR@example.org")
    mallory = make_user("mallory", email="mallory@example.org")
    client.force_login(mallory)
    reviews_before = Review.objects.count()

    choose(client, data)
    page = client.get(reverse("review-restore-confirm"))

    text = page_text(page)
    assert "Restore “Adult IMT”?" in text
    assert "2 records 3 screening decisions 2 people" in text
    assert "2 existing accounts here will carry this archive’s work." in text
    people = text[text.index("In the archive Role there On this server") :]
    assert (
        "Olga VICTOR@example.org Owner The existing account victor (Victor Hale) "
        "rita Rita@example.org Reviewer The existing account rita"
    ) in people
    assert Review.objects.count() == reviews_before
    assert not Membership.objects.filter(user__username="victor").exists()


def test_after_restoring_the_message_says_whom_each_person_became(client, review):
    data = forged(archive_bytes(review), "Rita@example.org", "dana@elsewhere.org")
    nina = make_user("nina", email="nina@example.org")
    data = forged(data, "olga@example.org", "nina@example.org")
    client.force_login(nina)

    choose(client, data)
    before = page_text(client.get(reverse("review-restore-confirm")))
    response = confirm(client)

    # the archive's olga is nina's own address here: her account, not a new one
    assert "Olga nina@example.org Owner Your account (nina)" in before
    assert "dana@elsewhere.org Reviewer A new inactive account" in before
    assert "existing accounts here will carry" not in before  # only nina herself
    text = page_text(response)
    assert (
        "Who is who: nina@example.org → your account; dana@elsewhere.org → new inactive "
        "account rita-2. New accounts stay inactive until activated." in text
    )
    dana = User.objects.get(email="dana@elsewhere.org")
    assert (dana.username, dana.is_active, dana.has_usable_password()) == ("rita-2", False, False)


def test_only_the_person_who_chose_the_archive_can_restore_it(client, review):
    from django.test import Client

    data = archive_bytes(review)
    nina = make_user("nina")
    client.force_login(nina)
    choose(client, data)
    other = Client()
    other.force_login(make_user("mallory"))

    seen = other.get(reverse("review-restore-confirm"), follow=True)
    pressed = other.post(reverse("review-restore-confirm"), follow=True)

    assert "No archive waits to be restored: choose one." in page_text(seen)
    assert "No archive waits to be restored" in page_text(pressed)
    assert not Review.objects.filter(slug="adult-imt-copy").exists()
    confirm(client)  # nina's own is still there for her
    assert Review.objects.filter(slug="adult-imt-copy").exists()


def test_cancelling_restores_nothing_and_keeps_no_file(client, review):
    data = archive_bytes(review)
    client.force_login(make_user("nina"))
    before = snapshot()

    choose(client, data)
    response = confirm(client, cancel="1")

    assert "Nothing was restored." in page_text(response)
    assert snapshot() == before
    assert "No archive waits" in page_text(
        client.get(reverse("review-restore-confirm"), follow=True)
    )


def test_an_archive_whose_own_address_is_taken_asks_for_another_before_anything(client, review):
    client.force_login(make_user("nina"))
    before = snapshot()

    response = choose(client, archive_bytes(review), slug="")

    assert "A review with the archived address “adult-imt” exists already" in page_text(response)
    assert snapshot() == before
    # walk: the field came back empty, the file forgotten, with nothing said about either
    assert "(“adult-imt-copy” is free and filled in), then choose the file again" in page_text(
        response
    )
    assert 'value="adult-imt-copy"' in response.content.decode()
    restored = choose(client, archive_bytes(review), slug="adult-imt-copy")
    assert restored.status_code == 302


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
