"""The duplicates pages: overview, runs, the queue, a pair, a group, the log
(reviewer.views.duplicates), and how duplicates show in the records pages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import (
    Band,
    DedupJob,
    DedupStatus,
    DuplicatePair,
    PairStatus,
    Record,
    Role,
)
from reviewer.services import duplicates as services
from tests.factories import Endpoint, make_source, page_text
from tests.permissions import PermissionCases
from tests.reviewer.dedup_cases import (
    MAYBE_LEFT,
    MAYBE_RIGHT,
    PAPER,
    PAPER_ELSEWHERE,
    UNRELATED,
    add,
)

pytestmark = pytest.mark.django_db


def children(review):
    """A pending pair, a group of two, and a finished run, made without the engine."""
    source = make_source(review, "PubMed")
    left, right = add(review, source, MAYBE_LEFT), add(review, source, MAYBE_RIGHT)
    kept, duplicate = add(review, source, PAPER), add(review, source, PAPER_ELSEWHERE)
    Record.objects.filter(pk=duplicate.pk).update(duplicate_of=kept)
    pair = DuplicatePair.objects.create(
        review=review, first=left, second=right, band=Band.POSSIBLE, score=0.8, status="pending"
    )
    owner = review.memberships.get(role=Role.OWNER).user
    job = DedupJob.objects.create(review=review, created_by=owner, status=DedupStatus.DONE)
    return SimpleNamespace(pair=pair, kept=kept, duplicate=duplicate, job=job)


ENDPOINTS = [
    Endpoint("dedup-overview", "get", Role.REVIEWER, 200),
    Endpoint("dedup-run", "post", Role.REVIEWER, 302),
    Endpoint("dedup-job", "get", Role.REVIEWER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("dedup-restart", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("dedup-cancel", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("dedup-queue", "get", Role.REVIEWER, 302),
    Endpoint("dedup-pair", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.pair.pk}),
    Endpoint(
        "dedup-pair-decide",
        "post",
        Role.REVIEWER,
        302,
        kwargs=lambda c: {"pk": c.pair.pk},
        data=lambda c: {"decision": "distinct"},
    ),
    Endpoint("dedup-pair-undo", "post", Role.REVIEWER, 302, kwargs=lambda c: {"pk": c.pair.pk}),
    Endpoint("dedup-group", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.kept.pk}),
    Endpoint("dedup-split", "post", Role.REVIEWER, 302, kwargs=lambda c: {"pk": c.duplicate.pk}),
    Endpoint("dedup-log", "get", Role.REVIEWER, 200),
]

WRONG_METHODS = [
    Endpoint("dedup-overview", "post", Role.REVIEWER, 405),
    Endpoint("dedup-run", "get", Role.REVIEWER, 405),
    Endpoint("dedup-cancel", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("dedup-pair", "post", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.pair.pk}),
    Endpoint("dedup-pair-decide", "get", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.pair.pk}),
    Endpoint("dedup-split", "get", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.duplicate.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


# --- helpers ---


@pytest.fixture
def found(team):
    """A review after a real run: one certain group, one possible pair, one lone record."""
    pubmed, embase = make_source(team.review, "PubMed"), make_source(team.review, "Embase")
    records = SimpleNamespace(
        kept=add(team.review, pubmed, PAPER),
        duplicate=add(team.review, embase, PAPER_ELSEWHERE),
        left=add(team.review, pubmed, MAYBE_LEFT),
        right=add(team.review, embase, MAYBE_RIGHT),
        lone=add(team.review, pubmed, UNRELATED),
    )
    services.dedup_run_now(review=team.review, user=team.owner)
    records.pair = DuplicatePair.objects.get(status=PairStatus.PENDING)
    return records


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


# --- overview ---


def test_overview_counts_duplicates_by_search(client, team, found):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("dedup-overview", team.review)))

    assert "5 records identified" in text
    assert "1 duplicate removed" in text
    assert "4 records after removing duplicates" in text
    assert "1 possible pair to check" in text
    assert re.search(r"PubMed 3 0 3 \d", text)  # identified, removed, remaining, only here
    assert re.search(r"Embase 2 1 1 \d", text)
    assert "Overlap between searches" in text


def test_overview_lists_the_groups_with_their_searches(client, team, found):
    client.force_login(team.reviewer)

    response = client.get(url("dedup-overview", team.review))

    assertContains(response, url("dedup-group", team.review, found.kept.pk))
    assert "PubMed, Embase" in page_text(response)


def test_run_from_the_page_starts_a_job_and_links_what_it_finds(
    client, team, django_capture_on_commit_callbacks
):
    source = make_source(team.review, "PubMed")
    add(team.review, source, PAPER)
    duplicate = add(team.review, source, PAPER_ELSEWHERE)
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("dedup-run", team.review))
    response = client.get(url("dedup-overview", team.review))

    job = DedupJob.objects.get()
    assert job.created_by == team.reviewer
    assert job.status == DedupStatus.DONE  # eager tasks in the quick start and the tests
    assert Record.objects.get(pk=duplicate.pk).duplicate_of is not None
    assert "1 record newly linked" in page_text(response)


def test_run_with_no_records_says_so(client, team):
    client.force_login(team.reviewer)

    response = client.post(url("dedup-run", team.review), follow=True)

    assertContains(response, "There are no records yet")
    assert not DedupJob.objects.exists()


def test_a_running_job_polls_for_its_status(client, team):
    job = DedupJob.objects.create(
        review=team.review, created_by=team.owner, status=DedupStatus.RUNNING
    )
    client.force_login(team.reviewer)

    page = client.get(url("dedup-overview", team.review))
    poll = client.get(url("dedup-job", team.review, job.pk), HTTP_HX_REQUEST="true")

    assertContains(page, f'hx-get="{url("dedup-job", team.review, job.pk)}"')
    assert poll.status_code == 200
    assertContains(poll, 'id="dedup-status"')
    assertNotContains(poll, "<html")


# --- the queue and a pair ---


def test_queue_opens_the_first_waiting_pair(client, team, found):
    client.force_login(team.reviewer)

    response = client.get(url("dedup-queue", team.review))

    assertRedirects(response, found.pair.get_absolute_url())


def test_an_empty_queue_of_a_review_without_pairs_does_not_say_they_were_decided(client, team):
    # walk: a new review's queue said "Every pair the engine was unsure of has been decided"
    client.force_login(team.reviewer)

    text = page_text(client.get(url("dedup-queue", team.review)))

    assert "No possible duplicates wait for a decision" in text
    assert "has been decided" not in text
    assert "The engine has not been unsure of any pair of records: no search has been" in text


def test_pair_page_shows_both_records_and_marks_the_words_that_differ(client, team, found):
    client.force_login(team.reviewer)

    response = client.get(found.pair.get_absolute_url())

    text = page_text(response)
    assert "Possible duplicate 1 of 1" in text
    assert MAYBE_LEFT["title"] in text
    assert MAYBE_RIGHT["title"] in text
    html = response.content.decode()
    assert '<mark class="diff">tumour</mark>' in html
    assert '<mark class="diff">tumours</mark>' in html
    assert '<mark class="diff">2016</mark>' in html
    # words both titles share are not marked
    assert '<mark class="diff">Crizotinib' not in html
    assertContains(response, 'data-key="d"')
    assertContains(response, 'data-key="n"')


def test_a_field_one_record_lacks_is_shown_unmarked_against_a_dash(client, team):
    source = make_source(team.review, "PubMed")
    left = add(team.review, source, MAYBE_LEFT, volume="12")
    right = add(team.review, source, MAYBE_RIGHT)
    pair = DuplicatePair.objects.create(
        review=team.review,
        first=left,
        second=right,
        band=Band.POSSIBLE,
        score=0.8,
        status=PairStatus.PENDING,
    )
    client.force_login(team.reviewer)

    html = client.get(pair.get_absolute_url()).content.decode()

    row = re.search(r"Volume.*?</tr>", html, re.S).group(0)
    assert ">12<" in row and "mark" not in row
    assert "—" in row


def test_deciding_moves_on_and_offers_to_undo(client, team, found):
    client.force_login(team.reviewer)

    response = client.post(
        url("dedup-pair-decide", team.review, found.pair.pk), {"decision": "duplicate"}
    )

    assertRedirects(
        response, f"{url('dedup-queue', team.review)}?last={found.pair.pk}", target_status_code=200
    )
    page = client.get(response.url)
    text = page_text(page)
    assert "No possible duplicates wait for a decision" in text
    assert "Every pair the engine was unsure of has been decided." in text
    assert "duplicate (decided) by" in text
    assertContains(page, url("dedup-pair-undo", team.review, found.pair.pk))
    assert Record.objects.get(pk=found.right.pk).duplicate_of_id == found.left.pk


def test_deciding_with_htmx_swaps_in_the_next_page(client, team, found):
    client.force_login(team.reviewer)

    response = client.post(
        url("dedup-pair-decide", team.review, found.pair.pk),
        {"decision": "distinct"},
        HTTP_HX_REQUEST="true",
        follow=True,
    )

    assert response.status_code == 200
    assertContains(response, 'id="main"')
    found.pair.refresh_from_db()
    assert found.pair.status == PairStatus.DISTINCT


def test_an_unknown_decision_changes_nothing(client, team, found):
    client.force_login(team.reviewer)

    response = client.post(
        url("dedup-pair-decide", team.review, found.pair.pk), {"decision": "maybe"}, follow=True
    )

    assertContains(response, "Choose “duplicate” or “not duplicate”")
    found.pair.refresh_from_db()
    assert found.pair.status == PairStatus.PENDING


def test_undo_from_the_page_puts_the_pair_back(client, team, found):
    client.force_login(team.reviewer)
    client.post(url("dedup-pair-decide", team.review, found.pair.pk), {"decision": "duplicate"})

    response = client.post(url("dedup-pair-undo", team.review, found.pair.pk), follow=True)

    assertContains(response, "back in the queue")
    assertContains(response, 'data-key="d"')
    assert Record.objects.get(pk=found.right.pk).duplicate_of is None


def test_a_decided_pair_shows_who_decided(client, team, found):
    services.pair_decide(pair=found.pair, user=team.senior, duplicate=False)
    client.force_login(team.reviewer)

    text = page_text(client.get(found.pair.get_absolute_url()))

    assert "Not a duplicate (decided) by" in text
    assert team.senior.display_name() in text


# --- groups and the log ---


def test_group_page_lists_the_records_and_what_the_kept_one_took(client, team, found):
    client.force_login(team.reviewer)

    response = client.get(url("dedup-group", team.review, found.duplicate.pk))

    text = page_text(response)
    assert "2 records of one paper" in text
    assert f"Record {found.kept.pk} is kept" in text
    assert f"Abstract: from record #{found.duplicate.pk} (Embase)" in text
    assert "Why they are together" in text
    assert "Linked automatically same DOI" in text
    assert "Linked automatically" in text
    assertContains(response, url("dedup-split", team.review, found.duplicate.pk))


def test_group_page_names_the_fields_taken_as_the_record_page_does(client, team, found):
    Record.objects.filter(pk=found.kept.pk).update(
        filled_fields={
            "publication_type": found.duplicate.pk,
            "url": found.duplicate.pk,
            "abstract": found.duplicate.pk,
        }
    )
    client.force_login(team.reviewer)

    text = page_text(client.get(url("dedup-group", team.review, found.kept.pk)))

    taken = f"from record #{found.duplicate.pk} (Embase)"
    assert f"Type: {taken}" in text and f"URL: {taken}" in text
    assert f"Abstract: {taken}" in text
    assert "Publication_type" not in text and "Url:" not in text


def test_split_from_the_group_page(client, team, found):
    client.force_login(team.senior)

    response = client.post(url("dedup-split", team.review, found.duplicate.pk), follow=True)

    assertContains(response, f"Record {found.duplicate.pk} was split off")
    assert Record.objects.get(pk=found.duplicate.pk).duplicate_of is None


def test_log_shows_who_did_what(client, team, found):
    services.pair_decide(pair=found.pair, user=team.senior, duplicate=True)
    client.force_login(team.reviewer)

    text = page_text(client.get(url("dedup-log", team.review)))

    assert "Marked as duplicates" in text
    assert team.senior.display_name() in text
    assert "Linked automatically" in text
    assert "engine, run #" in text


# --- duplicates elsewhere ---


def test_record_list_can_hide_or_show_only_the_duplicates(client, team, found):
    client.force_login(team.reviewer)

    everything = page_text(client.get(url("record-list", team.review)))
    unique = page_text(client.get(url("record-list", team.review), {"show": "unique"}))
    only = page_text(client.get(url("record-list", team.review), {"show": "duplicates"}))

    assert "5 records" in everything
    assert f"duplicate of #{found.kept.pk}" in everything
    assert "4 records" in unique
    assert "1 record" in only


def test_a_duplicate_record_says_so_and_links_to_its_group(client, team, found):
    client.force_login(team.reviewer)

    response = client.get(url("record-detail", team.review, found.duplicate.pk))

    assertContains(response, "This record is a duplicate and does not enter screening")
    assertContains(response, url("dedup-group", team.review, found.duplicate.pk))


def test_dashboard_counts_duplicates_and_the_queue(client, team, found):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("review-dashboard", team.review)))

    assert "1 duplicate removed; 1 possible pair to check" in text
