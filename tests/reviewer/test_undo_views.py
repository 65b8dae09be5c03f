"""Undoing mistakes (reviewer.views.undo): deleting or hiding a search, archiving,
restoring and deleting a review; and what removing a member keeps."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import (
    Decision,
    ImportFile,
    ImportJob,
    Record,
    Review,
    Role,
    Source,
)
from reviewer.prisma.counts import prisma_counts
from reviewer.services.duplicates import pair_decide
from reviewer.services.reviews import review_archive
from tests.factories import (
    Endpoint,
    make_import_file,
    make_import_job,
    make_record,
    make_review,
    make_source,
    page_text,
    screen,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    source = make_source(review, name="Scopus")
    make_record(review, source)
    return SimpleNamespace(source=source)


def delete_form(review, **changes):
    data = {"title": review.title, "has_archive": "on"}
    data.update(changes)
    return data


def download_archive(client, review):
    """What an owner does before deleting: download the review's archive."""
    response = client.post(reverse("review-archive-download", args=[review.slug]))
    assert response["Content-Type"] == "application/zip"


# --- permissions ---

ENDPOINTS = [
    Endpoint("source-remove", "get", Role.OWNER, 200, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("source-delete", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint(
        "source-hide",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.source.pk},
        data=lambda c: {"reason": "Imported twice"},
    ),
    Endpoint("source-unhide", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("review-end", "get", Role.OWNER, 200),
    Endpoint("review-shelve", "post", Role.OWNER, 302),
    Endpoint("review-unshelve", "post", Role.OWNER, 302),
    # a wrong title: the form comes back with the error, nothing deleted
    Endpoint("review-delete", "post", Role.OWNER, 200, data=lambda c: {"title": "Not it"}),
]

WRONG_METHODS = [
    Endpoint("source-remove", "post", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("source-delete", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("source-hide", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("source-unhide", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("review-end", "post", Role.OWNER, 405),
    Endpoint("review-shelve", "get", Role.OWNER, 405),
    Endpoint("review-unshelve", "get", Role.OWNER, 405),
    Endpoint("review-delete", "get", Role.OWNER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def test_senior_cannot_delete_a_search(client, team):
    source = children(team.review).source
    client.force_login(team.senior)

    client.post(reverse("source-delete", args=[team.review.slug, source.pk]))

    assert Source.objects.filter(pk=source.pk).exists()


def test_owner_cannot_delete_a_search_of_another_review_through_their_own(client, team):
    other = children(make_review(title="Adult IMT")).source
    client.force_login(team.owner)

    client.post(reverse("source-delete", args=[team.review.slug, other.pk]))

    assert Source.objects.filter(pk=other.pk).exists()


# --- deleting a search ---


def two_searches(review):
    """PubMed (3 records) and Embase (2 records, one a duplicate of a PubMed record)."""
    pubmed = make_source(review, name="PubMed")
    kept = [make_record(review, pubmed, title=f"PubMed paper {n}") for n in range(3)]
    embase = make_source(review, name="Embase")
    embase_file = make_import_file(make_import_job(embase), name="embase.ris")
    duplicate = make_record(review, embase, title="PubMed paper 0", import_file=embase_file)
    make_record(review, embase, title="Only in Embase", import_file=embase_file)
    Record.objects.filter(pk=duplicate.pk).update(duplicate_of=kept[0])
    return pubmed, embase, kept


def test_deleting_an_unscreened_search_removes_its_records_files_and_counts(
    client, team, django_capture_on_commit_callbacks
):
    _pubmed, embase, _kept = two_searches(team.review)
    stored = ImportFile.objects.get(job__source=embase).file.name
    assert default_storage.exists(stored)
    before = prisma_counts(team.review)
    assert (before.database_results, before.duplicates) == (5, 1)
    client.force_login(team.owner)

    page = client.get(reverse("source-remove", args=[team.review.slug, embase.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("source-delete", args=[team.review.slug, embase.pk]), follow=True
        )

    assert "its 2 records (1 of them duplicate" in page_text(page)
    assertRedirects(response, reverse("source-list", args=[team.review.slug]))
    assertContains(response, "Search “Embase” deleted, with its 2 records.")
    assert not Source.objects.filter(pk=embase.pk).exists()
    assert not ImportJob.objects.filter(source_id=embase.pk).exists()
    assert team.review.records.count() == 3
    assert not default_storage.exists(stored)
    after = prisma_counts(team.review)
    assert (after.database_results, after.duplicates, after.records_screened) == (3, 0, 3)
    assert dict(after.database_specific_results) == {"PubMed": 3}


def test_deleting_the_search_that_kept_a_group_hands_the_group_on(client, team):
    """The earliest import keeps a group: deleting it leaves the other search's record
    standing alone, with its own fields back."""
    pubmed, embase, kept = two_searches(team.review)
    Record.objects.filter(pk=kept[0].pk).update(abstract="", filled_fields={})
    duplicate = embase.records.get(title="PubMed paper 0")
    Record.objects.filter(pk=duplicate.pk).update(abstract="From Embase")
    client.force_login(team.owner)

    client.post(reverse("source-delete", args=[team.review.slug, pubmed.pk]))

    duplicate.refresh_from_db()
    assert duplicate.duplicate_of is None
    assert duplicate.abstract == "From Embase"
    counts = prisma_counts(team.review)
    assert (counts.database_results, counts.duplicates, counts.records_screened) == (2, 0, 2)


def test_deleting_a_duplicate_gives_back_what_the_kept_record_took_from_it(client, team):
    _pubmed, embase, kept = two_searches(team.review)
    duplicate = embase.records.get(title="PubMed paper 0")
    Record.objects.filter(pk=duplicate.pk).update(abstract="From Embase")
    Record.objects.filter(pk=kept[0].pk).update(
        abstract="From Embase", filled_fields={"abstract": duplicate.pk}
    )
    client.force_login(team.owner)

    client.post(reverse("source-delete", args=[team.review.slug, embase.pk]))

    kept[0].refresh_from_db()
    assert kept[0].abstract == ""
    assert kept[0].filled_fields == {}


def test_deleting_a_search_with_decided_duplicate_pairs_deletes_the_pairs(client, team):
    from reviewer.models import Band, DuplicatePair

    _pubmed, embase, kept = two_searches(team.review)
    lonely = embase.records.get(title="Only in Embase")
    pair = DuplicatePair.objects.create(
        review=team.review, first=kept[1], second=lonely, band=Band.POSSIBLE, score=0.9
    )
    pair_decide(pair=pair, user=team.owner, duplicate=True)
    client.force_login(team.owner)

    client.post(reverse("source-delete", args=[team.review.slug, embase.pk]))

    assert not DuplicatePair.objects.exists()
    assert not team.review.records.exclude(duplicate_of=None).exists()


def test_a_screened_search_cannot_be_deleted_only_hidden(client, team):
    pubmed, _embase, kept = two_searches(team.review)
    screen(kept[1], team.reviewer, "include")
    client.force_login(team.owner)

    page = client.get(reverse("source-remove", args=[team.review.slug, pubmed.pk]))
    response = client.post(
        reverse("source-delete", args=[team.review.slug, pubmed.pk]), follow=True
    )

    assert (
        "It cannot be deleted Its records have screening work on them: 1 screening decisions"
        in (page_text(page))
    )
    assertNotContains(page, reverse("source-delete", args=[team.review.slug, pubmed.pk]))
    assertContains(response, "“PubMed” cannot be deleted: its records have 1 screening decisions.")
    assert team.review.records.count() == 5
    assert Decision.objects.count() == 1


def test_hiding_a_search_lists_it_apart_with_the_reason_and_keeps_every_count(client, team):
    pubmed, _embase, kept = two_searches(team.review)
    screen(kept[1], team.reviewer, "include")
    before = prisma_counts(team.review)
    client.force_login(team.owner)

    response = client.post(
        reverse("source-hide", args=[team.review.slug, pubmed.pk]),
        {"reason": "Run with the wrong date limits"},
        follow=True,
    )

    assertContains(response, "Search “PubMed” hidden. Its records still count.")
    text = page_text(response)
    assert "Hidden searches" in text
    assert "PubMed Run with the wrong date limits" in text
    listed = text[text.index("Files imported Records") : text.index("Hidden searches")]
    assert "PubMed" not in listed and "Embase" in listed
    pubmed.refresh_from_db()
    assert (pubmed.hidden_by, pubmed.hidden_reason) == (
        team.owner,
        "Run with the wrong date limits",
    )
    assert prisma_counts(team.review) == before


def test_hiding_needs_a_reason(client, team):
    source = children(team.review).source
    client.force_login(team.owner)

    response = client.post(
        reverse("source-hide", args=[team.review.slug, source.pk]), {"reason": "  "}, follow=True
    )

    assertContains(response, "Say why the search is hidden")
    source.refresh_from_db()
    assert source.hidden_at is None


def test_a_hidden_search_can_be_listed_again(client, team):
    source = children(team.review).source
    client.force_login(team.owner)
    client.post(reverse("source-hide", args=[team.review.slug, source.pk]), {"reason": "Oops"})

    response = client.post(
        reverse("source-unhide", args=[team.review.slug, source.pk]), follow=True
    )

    assertContains(response, "Search “Scopus” is listed again.")
    assertNotContains(response, "Hidden searches")
    source.refresh_from_db()
    assert (source.hidden_at, source.hidden_reason) == (None, "")


# --- archiving a review ---


def test_an_archived_review_is_out_of_the_list_and_read_only(client, team):
    source = children(team.review).source
    client.force_login(team.owner)

    response = client.post(reverse("review-shelve", args=[team.review.slug]), follow=True)

    assertRedirects(response, reverse("review-list"))
    assertContains(response, "“Pediatric IMT” is archived")
    text = page_text(response)
    assert "Archived reviews" in text
    assert "No reviews yet" in text  # the main list is empty
    team.review.refresh_from_db()
    assert team.review.archived_by == team.owner
    client.force_login(team.reviewer)
    dashboard = client.get(reverse("review-dashboard", args=[team.review.slug]))
    assertContains(dashboard, "This review is archived: read-only for everyone.")
    client.force_login(team.owner)
    refused = client.post(
        reverse("source-hide", args=[team.review.slug, source.pk]), {"reason": "x"}
    )
    assert refused.status_code == 403
    assertContains(refused, "This review is archived, so it is read-only.", status_code=403)
    source.refresh_from_db()
    assert source.hidden_at is None


def test_an_archived_review_refuses_screening(client, team):
    record = make_record(team.review)
    review_archive(review=team.review, user=team.owner)
    client.force_login(team.reviewer)

    response = client.post(
        reverse("screen-decide", args=[team.review.slug, "ta", record.pk]), {"choice": "include"}
    )

    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_owner_restores_an_archived_review(client, team):
    review_archive(review=team.review, user=team.owner)
    client.force_login(team.owner)

    response = client.post(reverse("review-unshelve", args=[team.review.slug]), follow=True)

    assertRedirects(response, reverse("review-dashboard", args=[team.review.slug]))
    assertContains(response, "“Pediatric IMT” is restored")
    team.review.refresh_from_db()
    assert team.review.archived_at is None
    assert "Pediatric IMT" in page_text(client.get(reverse("review-list")))


def test_a_reviewer_cannot_restore(client, team):
    review_archive(review=team.review, user=team.owner)
    client.force_login(team.reviewer)

    response = client.post(reverse("review-unshelve", args=[team.review.slug]))

    assert response.status_code == 403
    team.review.refresh_from_db()
    assert team.review.is_archived


# --- deleting a review ---


def test_deleting_a_review_needs_its_title_typed(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("review-delete", args=[team.review.slug]), delete_form(team.review, title="IMT")
    )

    assertContains(response, "The title typed does not match this review’s title")
    assert Review.objects.filter(pk=team.review.pk).exists()


def test_deleting_a_review_needs_an_archive_first(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("review-delete", args=[team.review.slug]),
        delete_form(team.review, has_archive=""),
    )

    assertContains(response, "Download the review’s archive first")
    assert Review.objects.filter(pk=team.review.pk).exists()


def test_deleting_a_review_is_refused_until_its_archive_was_downloaded(client, team):
    record = make_record(team.review)
    screen(record, team.reviewer, "include")
    client.force_login(team.owner)

    # the title typed and the box ticked, but no archive ever left the server
    response = client.post(
        reverse("review-delete", args=[team.review.slug]), delete_form(team.review)
    )

    assertContains(response, "no archive of it has been downloaded yet")
    assert Review.objects.filter(pk=team.review.pk).exists()
    assert Record.objects.filter(pk=record.pk).exists() and Decision.objects.exists()


def test_the_delete_page_offers_deleting_only_once_an_archive_was_downloaded(client, team):
    client.force_login(team.owner)
    url = reverse("review-end", args=[team.review.slug])

    before = page_text(client.get(url))
    download_archive(client, team.review)
    after = page_text(client.get(url))

    assert "Download the archive first" in before
    assert "Delete the review for everyone" not in before
    assert "Delete the review for everyone" in after


def test_the_delete_page_says_whether_an_archive_was_downloaded(client, team):
    from django.utils import timezone

    client.force_login(team.owner)
    before = client.get(reverse("review-end", args=[team.review.slug]))
    # set by the archive's download (reviewer.archive)
    Review.objects.filter(pk=team.review.pk).update(archive_downloaded_at=timezone.now())
    after = client.get(reverse("review-end", args=[team.review.slug]))

    assertContains(before, "No archive of this review has been downloaded yet.")
    assertContains(after, "The archive was last downloaded on")


def test_owner_deletes_a_review_with_everything_in_it(
    client, team, django_capture_on_commit_callbacks
):
    record = make_record(team.review)
    screen(record, team.reviewer, "include")
    stored = ImportFile.objects.get().file.name
    client.force_login(team.owner)
    download_archive(client, team.review)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("review-delete", args=[team.review.slug]),
            delete_form(team.review),
            follow=True,
        )

    assertRedirects(response, reverse("review-list"))
    assertContains(response, "The review “Pediatric IMT” and everything in it is deleted.")
    assert not Review.objects.exists()
    assert not Record.objects.exists() and not Decision.objects.exists()
    assert not default_storage.exists(stored)


def test_an_archived_review_can_be_deleted(client, team):
    review_archive(review=team.review, user=team.owner)
    client.force_login(team.owner)
    download_archive(client, team.review)  # an archived review's archive downloads too

    client.post(reverse("review-delete", args=[team.review.slug]), delete_form(team.review))

    assert not Review.objects.exists()


# --- removing a member keeps their work ---


def test_a_removed_members_decisions_still_count_under_their_name(client, team):
    record = make_record(team.review)
    screen(record, team.reviewer, "exclude")
    screen(record, team.senior, "exclude")
    before = prisma_counts(team.review)
    membership = team.review.memberships.get(user=team.reviewer)
    client.force_login(team.owner)

    response = client.post(
        reverse("member-remove", args=[team.review.slug, membership.pk]), follow=True
    )

    text = page_text(response)
    assert "Former members" in text
    assert "reviewer Reviewer 1" in text  # name, role they had, decisions kept
    assert prisma_counts(team.review) == before
    assert before.records_excluded == 1
    exported = client.get(reverse("export-decisions", args=[team.review.slug]))
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert sorted(row[4] for row in rows[1:]) == ["reviewer", "senior"]
    client.force_login(team.reviewer)
    assert client.get(reverse("review-dashboard", args=[team.review.slug])).status_code == 404
