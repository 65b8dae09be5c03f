"""Removal before screening (reviewer.views.adjudication: removal-list, removal-restore):
rules, the two-step preview and confirm, what is skipped, the list, restoring."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reviewer.models import Record, Removal, Role
from reviewer.screening.queries import state_of
from reviewer.screening.rules import State
from reviewer.services import screening as services
from tests.factories import Endpoint, make_record, make_source, page_text, screen
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """A record removed before screening."""
    record = make_record(review, year=1970)
    owner = review.memberships.get(role=Role.OWNER).user
    services.remove_before_screening(
        review=review, user=owner, records=[record], reason="Published before 1990"
    )
    return SimpleNamespace(removed=record)


ENDPOINTS = [
    Endpoint("removal-list", "get", Role.OWNER, 200),
    Endpoint(
        "removal-list",
        "post",
        Role.OWNER,
        200,
        data=lambda c: {"before_year": "1990", "action": "preview"},
    ),
    Endpoint("removal-restore", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.removed.pk}),
]

WRONG_METHODS = [
    Endpoint("removal-list", "put", Role.OWNER, 405),
    Endpoint("removal-restore", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.removed.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def removal_url(review):
    return reverse("removal-list", args=[review.slug])


def preview(client, review, **rules):
    return client.post(removal_url(review), {**rules, "action": "preview"})


def token(response):
    """The confirm button's promise: the set of records the preview showed."""
    found = re.search(r'name="expected" value="([^"]+)"', response.content.decode())
    assert found, "the preview offers no confirm button"
    return found.group(1)


def confirm(client, review, expected=None, **rules):
    """Confirm a removal: after a preview of the same rules unless `expected` is given."""
    if expected is None:
        expected = token(preview(client, review, **rules))
    return client.post(
        removal_url(review), {**rules, "action": "confirm", "expected": expected}, follow=True
    )


def removed_titles():
    return set(Removal.objects.values_list("record__title", flat=True))


@pytest.fixture
def owner(client, team):
    client.force_login(team.owner)
    return team.owner


# --- the year rule, preview then confirm ---


def test_preview_counts_what_confirm_then_removes(client, team, owner):
    for year in (1975, 1988, 1989, 1990, 2005):
        make_record(team.review, title=f"From {year}", year=year)
    make_record(team.review, title="No year")

    text = page_text(preview(client, team.review, before_year="1990"))

    assert "3 records would be removed." in text
    assert not Removal.objects.exists()  # a preview removes nothing

    response = confirm(client, team.review, before_year="1990")

    assert Removal.objects.count() == 3
    assert removed_titles() == {"From 1975", "From 1988", "From 1989"}
    assertContains(response, "3 records removed before screening: “Published before 1990”.")


def test_removed_records_leave_screening_and_count_apart(client, team, owner):
    record = make_record(team.review, year=1970)

    confirm(client, team.review, before_year="1990", reason="Before the era of ALK testing")

    assert state_of(Record.objects.get(pk=record.pk)).state is State.REMOVED
    text = page_text(client.get(removal_url(team.review)))
    assert "Removed before screening (1)" in text
    assert "Before the era of ALK testing" in text
    assert "owner" in text  # who removed it


# --- the language rule ---


def test_language_rule_keeps_english_and_records_with_no_language(client, team, owner):
    for language in ("eng", "English", "en", "ENG", "English; French", "en-US", ""):
        make_record(team.review, title=f"Language {language or 'none'}", language=language)
    make_record(team.review, title="In French", language="fre")
    make_record(team.review, title="In Japanese", language="Japanese")

    assertContains(preview(client, team.review, not_english="on"), "2 records would be removed.")
    confirm(client, team.review, not_english="on")

    assert removed_titles() == {"In French", "In Japanese"}
    assert Removal.objects.first().reason == "Not in English"


def test_the_removed_records_name_their_language_whatever_code_the_export_gave(client, team, owner):
    make_record(team.review, title="Coded", language="ger", year=1970)
    make_record(team.review, title="Named", language="German", year=1970)
    make_record(team.review, title="Two codes", language="chi; eng", year=1970)
    make_record(team.review, title="Unknown code", language="xx", year=1970)
    confirm(client, team.review, before_year="1990")

    text = page_text(client.get(removal_url(team.review)))

    assert "Coded 1970 · German · record" in text
    assert "Named 1970 · German · record" in text
    assert "Two codes 1970 · Chinese, English · record" in text
    assert "Unknown code 1970 · xx · record" in text  # kept as the export wrote it
    assert "· ger ·" not in text and "· chi; eng ·" not in text


# --- the source rule, and rules together ---


def test_source_rule_removes_one_search_only(client, team, owner):
    pubmed, scopus = make_source(team.review, "PubMed"), make_source(team.review, "Scopus")
    make_record(team.review, pubmed, title="PubMed record")
    make_record(team.review, scopus, title="Scopus record")

    confirm(client, team.review, source=scopus.pk)

    assert removed_titles() == {"Scopus record"}
    assert Removal.objects.get().reason == "From Scopus"


def test_rules_together_remove_records_meeting_all_of_them(client, team, owner):
    make_record(team.review, title="Old French", year=1980, language="fre")
    make_record(team.review, title="Old English", year=1980, language="eng")
    make_record(team.review, title="New French", year=2010, language="fre")

    confirm(client, team.review, before_year="1990", not_english="on")

    assert removed_titles() == {"Old French"}


def test_no_rule_is_refused(client, team, owner):
    make_record(team.review)

    response = preview(client, team.review, reason="Everything")

    assertContains(response, "Set at least one rule")
    assertNotContains(response, "would be removed")


# --- what is never removed ---


def test_screened_records_and_duplicates_are_skipped_and_counted(client, team, owner):
    kept = make_record(team.review, title="Old kept", year=1970)
    make_record(team.review, title="Old duplicate", year=1970, duplicate_of=kept)
    screened = make_record(team.review, title="Old screened", year=1975)
    screen(screened, team.reviewer, "include")
    make_record(team.review, title="Old plain", year=1980)

    text = page_text(preview(client, team.review, before_year="1990"))

    assert "2 records would be removed." in text
    assert "4 records match the rules; 2 are skipped (1 duplicate, 1 already screened)" in text

    response = confirm(client, team.review, before_year="1990")

    assert removed_titles() == {"Old kept", "Old plain"}
    assertContains(response, "2 matching records were skipped (1 duplicate, 1 already screened).")


def test_records_changed_since_the_preview_are_not_removed_unseen(client, team, owner):
    make_record(team.review, year=1970)
    shown = token(preview(client, team.review, before_year="1990"))
    make_record(team.review, year=1971)  # arrived after the preview

    response = confirm(client, team.review, shown, before_year="1990")

    assert not Removal.objects.exists()
    assertContains(response, "The records changed since the preview")
    assertContains(response, "2 records would be removed.")


def test_rules_edited_after_the_preview_remove_nothing(client, team, owner):
    make_record(team.review, title="Old", year=1970)
    make_record(team.review, title="French", year=2010, language="fre")
    shown = token(preview(client, team.review, before_year="1990"))

    confirm(client, team.review, shown, not_english="on")  # one record either way

    assert not Removal.objects.exists()


def test_preview_says_the_reason_that_will_be_recorded(client, team, owner):
    make_record(team.review, year=1970, language="ger")

    text = page_text(preview(client, team.review, before_year="1990", not_english="on"))

    assert "Reason recorded: “Published before 1990, not in English”." in text


# --- restoring ---


def test_restore_puts_a_record_back_into_screening(client, team, owner):
    record = children(team.review).removed

    response = client.post(
        reverse("removal-restore", args=[team.review.slug, record.pk]), follow=True
    )

    assert not Removal.objects.exists()
    assert state_of(Record.objects.get(pk=record.pk)).state is State.TA_UNSCREENED
    assertContains(response, f"Record {record.pk} is back in screening.")


def test_restoring_a_record_not_removed_says_so(client, team, owner):
    record = make_record(team.review)

    response = client.post(
        reverse("removal-restore", args=[team.review.slug, record.pk]), follow=True
    )

    assertContains(response, "This record was not removed.")
