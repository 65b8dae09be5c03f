"""The records of a review: the searchable list and one record (reviewer.views.records)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reviewer.models import Role
from reviewer.services.screening import adjudicate, remove_before_screening
from tests.factories import (
    Endpoint,
    add_member,
    make_record,
    make_review,
    make_source,
    make_user,
    page_text,
    pass_title_abstract,
    screen,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """The child objects the URLs below point at."""
    return SimpleNamespace(record=make_record(review))


# --- permissions ---

ENDPOINTS = [
    Endpoint("record-list", "get", Role.REVIEWER, 200),
    Endpoint("record-detail", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.record.pk}),
]

WRONG_METHODS = [
    Endpoint("record-list", "post", Role.REVIEWER, 405),
    Endpoint("record-detail", "post", Role.REVIEWER, 405, kwargs=lambda c: {"pk": c.record.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every member may read the records: no role is too low here.
    test_member_with_too_low_a_role_gets_403 = None


# --- the record list ---


def record_list(client, review, **params):
    return client.get(reverse("record-list", args=[review.slug]), params)


def make_numbered_records(review, count, source=None):
    """Records titled `Study 001`, `Study 002`...: no title contains another."""
    source = source or make_source(review)
    return [make_record(review, source, title=f"Study {n:03d}") for n in range(1, count + 1)]


def test_record_list_shows_the_records_of_this_review_only(client, team):
    make_record(team.review, title="ALK-positive IMT in a child")
    other = make_review(title="Adult IMT")
    make_record(other, title="Secret record of another review")
    client.force_login(team.reviewer)

    response = record_list(client, team.review)

    assertContains(response, "ALK-positive IMT in a child")
    assertNotContains(response, "Secret record")


def test_record_list_shows_50_records_a_page(client, team):
    make_numbered_records(team.review, 60)
    client.force_login(team.reviewer)

    first = page_text(record_list(client, team.review))
    second = page_text(record_list(client, team.review, page=2))

    assert "Study 001" in first
    assert "Study 050" in first
    assert "Study 051" not in first
    assert "Study 051" in second
    assert "Study 060" in second
    assert "Study 050" not in second


def test_a_page_past_the_end_shows_the_last_page(client, team):
    make_numbered_records(team.review, 60)
    client.force_login(team.reviewer)

    response = record_list(client, team.review, page=99)

    assertContains(response, "Study 060")


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_record_list_query_count_does_not_grow_with_the_number_of_records(
    client, team, django_assert_num_queries
):
    pubmed = make_source(team.review, name="PubMed")
    embase = make_source(team.review, name="Embase")
    for n in range(5):
        make_record(team.review, pubmed if n % 2 else embase, title=f"Study {n:03d}")
    url = reverse("record-list", args=[team.review.slug])
    client.force_login(team.reviewer)
    client.get(url)  # warm caches (session, content types)
    with_five = count_queries(client, url)
    for n in range(5, 60):
        make_record(team.review, pubmed if n % 2 else embase, title=f"Study {n:03d}")

    with django_assert_num_queries(with_five):
        response = client.get(url)

    assertContains(response, "Study 049")


def test_search_finds_a_word_in_the_title_ignoring_case(client, team):
    make_record(team.review, title="Inflammatory myofibroblastic tumour of the lung")
    make_record(team.review, title="Nodular fasciitis in adults")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, q="LUNG")

    assertContains(response, "Inflammatory myofibroblastic tumour of the lung")
    assertNotContains(response, "Nodular fasciitis")


def test_search_with_several_words_needs_them_all(client, team):
    make_record(team.review, title="Myofibroblastic tumour of the lung")
    make_record(team.review, title="Myofibroblastic tumour of the bladder")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, q="myofibroblastic bladder")

    assertContains(response, "tumour of the bladder")
    assertNotContains(response, "tumour of the lung")


def test_search_finds_a_doi(client, team):
    make_record(team.review, title="ALK in IMT", doi="10.1097/PAS.0b013e3180ca8cbe")
    make_record(team.review, title="Where are we now?", doi="10.1136/jcp.2007.047928")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, q="10.1097/pas.0b013e3180ca8cbe")

    assertContains(response, "ALK in IMT")
    assertNotContains(response, "Where are we now?")


def test_search_finds_a_pmid(client, team):
    make_record(team.review, title="ALK in IMT", pmid="17667546")
    make_record(team.review, title="Where are we now?", pmid="18223096")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, q="17667546")

    assertContains(response, "ALK in IMT")
    assertNotContains(response, "Where are we now?")


def test_search_that_matches_nothing_lists_nothing(client, team):
    make_record(team.review, title="Inflammatory myofibroblastic tumour")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, q="osteosarcoma")

    assertNotContains(response, "Inflammatory myofibroblastic tumour")


def test_filter_by_source_shows_only_that_searchs_records(client, team):
    pubmed = make_source(team.review, name="PubMed")
    embase = make_source(team.review, name="Embase")
    make_record(team.review, pubmed, title="Found in PubMed")
    make_record(team.review, embase, title="Found in Embase")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, source=embase.pk)

    assertContains(response, "Found in Embase")
    assertNotContains(response, "Found in PubMed")


def test_filter_by_source_keeps_the_search_across_pages(client, team):
    embase = make_source(team.review, name="Embase")
    make_numbered_records(team.review, 60, source=embase)
    client.force_login(team.reviewer)

    response = record_list(client, team.review, source=embase.pk, q="study")

    link = response.content.decode()
    assert f"source={embase.pk}" in link
    assert "q=study" in link
    assert "page=2" in link


def test_a_malformed_source_filter_is_ignored(client, team):
    make_record(team.review, title="Inflammatory myofibroblastic tumour")
    client.force_login(team.reviewer)

    response = record_list(client, team.review, source="pubmed")

    assertContains(response, "Inflammatory myofibroblastic tumour")


# --- one record ---


def test_record_detail_shows_what_was_imported(client, team):
    source = make_source(team.review, name="Embase")
    record = make_record(
        team.review,
        source,
        title="ALK rearrangement in inflammatory myofibroblastic tumour",
        abstract="We reviewed 59 patients.",
        authors=["Coffin, Cheryl M.", "Hornick, Jason L."],
        year=2007,
        journal="American Journal of Surgical Pathology",
        doi="10.1097/PAS.0b013e3180ca8cbe",
        pmid="17667546",
    )
    client.force_login(team.reviewer)

    response = client.get(reverse("record-detail", args=[team.review.slug, record.pk]))

    text = page_text(response)
    for shown in (
        "ALK rearrangement in inflammatory myofibroblastic tumour",
        "We reviewed 59 patients.",
        "Coffin, Cheryl M.",
        "Hornick, Jason L.",
        "2007",
        "American Journal of Surgical Pathology",
        "10.1097/PAS.0b013e3180ca8cbe",
        "17667546",
        "Embase",
    ):
        assert shown in text


def test_record_detail_names_the_language_beside_the_code_imported(client, team):
    coded = make_record(team.review, language="fre")
    named = make_record(team.review, language="English")
    client.force_login(team.reviewer)

    def details(record):
        return page_text(client.get(reverse("record-detail", args=[team.review.slug, record.pk])))

    assert "Language French (fre)" in details(coded)
    assert "Language English Search" in details(named)  # no "(English)" repeated


def test_record_without_a_title_still_has_a_page(client, team):
    record = make_record(team.review, title="")
    client.force_login(team.reviewer)

    response = client.get(reverse("record-detail", args=[team.review.slug, record.pk]))

    assert response.status_code == 200


def test_unknown_record_gets_404(client, team):
    client.force_login(team.owner)

    response = client.get(reverse("record-detail", args=[team.review.slug, 999999]))

    assert response.status_code == 404


def test_record_list_filters_by_a_label_of_those_one_may_see(client, team):
    from reviewer.services.labels import label_add

    lung = make_record(team.review, title="IMT of the lung")
    make_record(team.review, title="IMT of the bladder")
    orbit = make_record(team.review, title="IMT of the orbit")
    label_add(record=lung, user=team.reviewer, name="case series")
    label_add(record=orbit, user=team.owner, name="case series")  # the owner's own
    client.force_login(team.reviewer)

    page = page_text(
        client.get(reverse("record-list", args=[team.review.slug]) + "?label=case+series")
    )

    assert "IMT of the lung" in page
    assert "IMT of the bladder" not in page
    assert "IMT of the orbit" not in page  # blinded: a colleague's labels are not hers


# --- where a record ended up, as each member may be told it ---


def screening_situations(team):
    """Records in the situations a member tells apart, in a blinded review: the reviewer
    and a colleague (bob) screen; the senior adjudicates one conflict."""
    review = team.review
    bob = add_member(review, make_user("bob"), Role.REVIEWER).user
    records = SimpleNamespace(
        unscreened=make_record(review, title="Nobody decided"),
        agreed_out=make_record(review, title="Both excluded"),
        bob_only=make_record(review, title="Only bob decided"),
        adjudicated=make_record(review, title="Adjudicated out"),
        at_full_text=make_record(review, title="Released to full text"),
        removed=make_record(review, title="Removed before screening"),
    )
    duplicate = make_record(review, title="A duplicate")
    duplicate.duplicate_of = records.unscreened
    duplicate.save(update_fields=["duplicate_of"])
    records.duplicate = duplicate
    screen(records.agreed_out, team.reviewer, "exclude")
    screen(records.agreed_out, bob, "exclude")
    screen(records.bob_only, bob, "include")
    screen(records.adjudicated, team.reviewer, "include")
    screen(records.adjudicated, bob, "exclude")
    adjudicate(record=records.adjudicated, user=team.senior, stage="ta", choice="exclude")
    pass_title_abstract(records.at_full_text, team.reviewer, bob)
    remove_before_screening(
        review=review, user=team.owner, records=[records.removed], reason="published in 1950"
    )
    return records


def state_cells(response):
    """Each listed record's title and its screening cell."""
    html = response.content.decode()
    return {
        title: " ".join(cell.split())
        for title, cell in re.findall(
            r">([^<>]+)</a>(?:\s*<span[^>]*>[^<]*</span>)?\s*</td>(?:\s*<td[^>]*>.*?</td>){4}"
            r"\s*<td[^>]*>(.*?)</td>",
            html,
            flags=re.S,
        )
    }


def test_the_senior_sees_where_every_record_ended_up(client, team):
    records = screening_situations(team)
    client.force_login(team.senior)

    cells = state_cells(record_list(client, team.review))

    assert cells == {
        "Nobody decided": "Not screened yet",
        "Both excluded": "Excluded at title/abstract",
        "Only bob decided": "Waiting for a second reviewer",
        "Adjudicated out": "Excluded at title/abstract",
        "Released to full text": "Full text sought",
        "Removed before screening": "Removed before screening",
        "A duplicate": "Duplicate",
    }
    detail = client.get(reverse("record-detail", args=[team.review.slug, records.bob_only.pk]))
    assert "Screening: Waiting for a second reviewer · Decision history" in page_text(detail)
    assert (
        reverse("decision-history", args=[team.review.slug, records.bob_only.pk])
        in detail.content.decode()
    )


def test_a_blinded_reviewer_is_told_only_her_own_part_and_what_a_senior_settled(client, team):
    records = screening_situations(team)
    client.force_login(team.reviewer)

    cells = state_cells(record_list(client, team.review))

    assert cells == {
        "Nobody decided": "Title/abstract: waiting for your decision",
        # bob agreed with her: not told (it would tell his open decision)
        "Both excluded": "Title/abstract: decided by you (exclude)",
        # bob decided: not told either
        "Only bob decided": "Title/abstract: waiting for your decision",
        "Adjudicated out": "Excluded at title/abstract",
        # released by a senior: in every reviewer's full-text queue
        "Released to full text": "At full text: waiting for your decision",
        "Removed before screening": "Removed before screening",
        "A duplicate": "Duplicate",
    }
    detail = client.get(reverse("record-detail", args=[team.review.slug, records.agreed_out.pk]))
    text = page_text(detail)
    assert "Screening: Title/abstract: decided by you (exclude)" in text
    assert "colleagues' decisions on this record stay hidden" in text
    assert "Decision history" not in text
    assert reverse("decision-history", args=[team.review.slug, records.agreed_out.pk]) not in (
        detail.content.decode()
    )
    assert (
        reverse("screen-record", args=[team.review.slug, "ta", records.agreed_out.pk])
        in detail.content.decode()
    )


def test_two_colleagues_decisions_read_the_same_whether_they_agreed_or_not(client, team):
    review = team.review
    bob, carl = (add_member(review, make_user(name), Role.REVIEWER).user for name in "bc")
    agreed = make_record(review, title="Agreed")
    conflict = make_record(review, title="Conflict")
    for record, second in ((agreed, "include"), (conflict, "exclude")):
        screen(record, bob, "include")
        screen(record, carl, second)
    client.force_login(team.reviewer)

    cells = state_cells(record_list(client, review))

    assert cells["Agreed"] == cells["Conflict"] == "Title/abstract: decided by two reviewers"


def test_an_unblinded_review_tells_everyone_where_a_record_ended_up(client, team):
    records = screening_situations(team)
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    client.force_login(team.reviewer)

    cells = state_cells(record_list(client, team.review))

    assert cells["Both excluded"] == "Excluded at title/abstract"
    assert cells["Only bob decided"] == "Waiting for a second reviewer"
    detail = page_text(
        client.get(reverse("record-detail", args=[team.review.slug, records.bob_only.pk]))
    )
    assert "Screening: Waiting for a second reviewer" in detail
    assert "stay hidden" not in detail
