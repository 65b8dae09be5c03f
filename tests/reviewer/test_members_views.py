"""Members and exclusion reasons of a review (reviewer.views.members)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import DEFAULT_EXCLUSION_REASONS, Membership, Role
from tests.factories import (
    Endpoint,
    add_member,
    make_reason,
    make_review,
    make_user,
    page_text,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """The child objects the URLs below point at."""
    return SimpleNamespace(
        membership=add_member(review, make_user(), Role.REVIEWER),
        reason=review.exclusion_reasons.order_by("position").last(),
    )


# --- permissions ---

ENDPOINTS = [
    Endpoint("member-list", "get", Role.REVIEWER, 200),
    Endpoint(
        "member-add",
        "post",
        Role.OWNER,
        302,
        data=lambda c: {"user": "", "role": Role.REVIEWER},
    ),
    Endpoint(
        "member-role",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.membership.pk},
        data=lambda c: {"role": Role.SENIOR},
    ),
    Endpoint("member-remove", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.membership.pk}),
    Endpoint("reason-list", "get", Role.REVIEWER, 200),
    Endpoint("reason-add", "post", Role.OWNER, 302, data=lambda c: {"label": "Animal study"}),
    Endpoint(
        "reason-update",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.reason.pk},
        data=lambda c: {"label": "Animal study", "is_active": "on"},
    ),
    Endpoint(
        "reason-move",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.reason.pk},
        data=lambda c: {"direction": "up"},
    ),
]

WRONG_METHODS = [
    Endpoint("member-list", "post", Role.REVIEWER, 405),
    Endpoint("member-add", "get", Role.OWNER, 405),
    Endpoint("member-role", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.membership.pk}),
    Endpoint("member-remove", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.membership.pk}),
    Endpoint("reason-list", "post", Role.REVIEWER, 405),
    Endpoint("reason-add", "get", Role.OWNER, 405),
    Endpoint("reason-update", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.reason.pk}),
    Endpoint("reason-move", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.reason.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def test_owner_cannot_remove_a_member_of_another_review_through_their_own(client, team):
    other = make_review(title="Adult IMT")
    victim = add_member(other, make_user("victim"))
    client.force_login(team.owner)

    client.post(reverse("member-remove", args=[team.review.slug, victim.pk]))

    assert Membership.objects.filter(pk=victim.pk).exists()


def test_owner_cannot_rename_a_reason_of_another_review_through_their_own(client, team):
    other = make_review(title="Adult IMT")
    reason = other.exclusion_reasons.first()
    client.force_login(team.owner)

    client.post(
        reverse("reason-update", args=[team.review.slug, reason.pk]),
        {"label": "Hijacked", "is_active": "on"},
    )

    reason.refresh_from_db()
    assert reason.label == DEFAULT_EXCLUSION_REASONS[0]


def test_senior_cannot_remove_a_member(client, team):
    client.force_login(team.senior)
    membership = team.review.memberships.get(user=team.reviewer)

    client.post(reverse("member-remove", args=[team.review.slug, membership.pk]))

    assert Membership.objects.filter(pk=membership.pk).exists()


# --- members ---


def member_list(client, review):
    return client.get(reverse("member-list", args=[review.slug]))


def test_member_list_shows_everyone_and_their_role(client, team):
    client.force_login(team.reviewer)

    text = page_text(member_list(client, team.review))

    assert "owner Owner" in text
    assert "senior Senior author" in text
    assert "reviewer (you) Reviewer" in text
    assert "outsider" not in text


def test_the_owner_role_is_said_to_include_the_senior_authors_work(client, team):
    # walk: "Owner — manages the review ... May also screen." while the demo's owner (carol)
    # adjudicates conflicts and approves inclusions: roles nest
    client.force_login(team.reviewer)

    text = page_text(member_list(client, team.review))

    assert "Owner Everything a senior author does, and manages the review:" in text
    assert "May also screen" not in text


def colleague_of(owner, username="bob", **fields):
    """Someone who shares another review with `owner`."""
    colleague = make_user(username, **fields)
    other = make_review(owner=owner, title="Another review", slug=f"other-{username}")
    add_member(other, colleague, Role.REVIEWER)
    return colleague


def test_owner_adds_a_colleague_from_another_review(client, team):
    bob = colleague_of(team.owner, first_name="Bob", last_name="Okafor")
    client.force_login(team.owner)

    page = client.get(reverse("member-list", args=[team.review.slug]))
    response = client.post(
        reverse("member-add", args=[team.review.slug]),
        {"user": bob.pk, "role": Role.SENIOR},
        follow=True,
    )

    assert "Add a colleague from your other reviews" in page_text(page)
    assertContains(page, "Bob Okafor (bob)")
    assertRedirects(response, reverse("member-list", args=[team.review.slug]))
    assertContains(response, "Bob Okafor added as Senior author.")
    assert team.review.memberships.get(user__username="bob").role == Role.SENIOR


def test_someone_sharing_no_review_is_neither_listed_nor_added(client, team):
    stranger = make_user("stranger")
    client.force_login(team.owner)

    page = client.get(reverse("member-list", args=[team.review.slug]))
    response = client.post(
        reverse("member-add", args=[team.review.slug]),
        {"user": stranger.pk, "role": Role.REVIEWER},
        follow=True,
    )

    assertNotContains(page, "stranger")
    assertContains(page, "Everyone you share another review with is in this one already.")
    assertContains(response, "Choose one of your colleagues")
    assertContains(response, "Anyone else joins by invitation.")
    assert not team.review.memberships.filter(user=stranger).exists()
    assert team.review.memberships.count() == 3


def test_a_member_cannot_be_added_twice(client, team):
    other = make_review(owner=team.owner, title="Another review", slug="other")
    add_member(other, team.reviewer, Role.REVIEWER)
    client.force_login(team.owner)

    response = client.post(
        reverse("member-add", args=[team.review.slug]),
        {"user": team.reviewer.pk, "role": Role.OWNER},
        follow=True,
    )

    assertContains(response, "Choose one of your colleagues")
    assert team.review.memberships.get(user=team.reviewer).role == Role.REVIEWER


def test_adding_without_choosing_asks_for_a_colleague(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("member-add", args=[team.review.slug]), {"role": Role.REVIEWER}, follow=True
    )

    assertContains(response, "Choose one of your colleagues")


def test_an_inactive_colleague_is_not_offered(client, team):
    colleague_of(team.owner, "gone", is_active=False)
    client.force_login(team.owner)

    page = client.get(reverse("member-list", args=[team.review.slug]))

    assertNotContains(page, "gone")


def test_owner_changes_a_members_role(client, team):
    client.force_login(team.owner)
    membership = team.review.memberships.get(user=team.reviewer)

    response = client.post(
        reverse("member-role", args=[team.review.slug, membership.pk]),
        {"role": Role.SENIOR},
        follow=True,
    )

    assertContains(response, "reviewer is now Senior author.")
    membership.refresh_from_db()
    assert membership.role == Role.SENIOR


def test_last_owner_cannot_be_demoted(client, team):
    client.force_login(team.owner)
    ownership = team.review.memberships.get(user=team.owner)

    response = client.post(
        reverse("member-role", args=[team.review.slug, ownership.pk]),
        {"role": Role.REVIEWER},
        follow=True,
    )

    assertContains(response, "A review needs at least one owner")
    ownership.refresh_from_db()
    assert ownership.role == Role.OWNER


def test_last_owner_cannot_be_removed(client, team):
    client.force_login(team.owner)
    ownership = team.review.memberships.get(user=team.owner)

    response = client.post(
        reverse("member-remove", args=[team.review.slug, ownership.pk]), follow=True
    )

    assertContains(response, "A review needs at least one owner")
    assert team.review.memberships.get(user=team.owner).role == Role.OWNER


def test_owner_removes_a_member(client, team):
    client.force_login(team.owner)
    membership = team.review.memberships.get(user=team.reviewer)

    response = client.post(
        reverse("member-remove", args=[team.review.slug, membership.pk]), follow=True
    )

    assertContains(response, "reviewer removed from the review.")
    assert not team.review.memberships.filter(user=team.reviewer).exists()


def test_removed_member_loses_access(client, team):
    client.force_login(team.owner)
    membership = team.review.memberships.get(user=team.reviewer)
    client.post(reverse("member-remove", args=[team.review.slug, membership.pk]))

    client.force_login(team.reviewer)
    response = client.get(reverse("review-dashboard", args=[team.review.slug]))

    assert response.status_code == 404


# --- exclusion reasons ---


def reason_list(client, review):
    return client.get(reverse("reason-list", args=[review.slug]))


def test_reason_list_says_the_reasons_serve_title_abstract_exclusions_too(client, team):
    # walk: the page said "when they exclude a full text" while keys 1-9 give the same
    # reasons at title/abstract
    client.force_login(team.reviewer)

    text = page_text(reason_list(client, team.review))

    assert "when they exclude a full text (a reason is required there)" in text
    assert "when they exclude at title/abstract (keys 1 – 9 on the screening page)" in text


def test_links_to_the_reasons_do_not_call_them_full_text_reasons(client, team):
    # walk: the members and settings pages linked to "full-text exclusion reasons" while
    # the same reasons serve title/abstract exclusions
    client.force_login(team.owner)
    reasons_url = reverse("reason-list", args=[team.review.slug])

    for page in ("member-list", "review-settings"):
        response = client.get(reverse(page, args=[team.review.slug]))
        link = re.search(rf'<a href="{reasons_url}">([^<]+)</a>', response.content.decode())
        assert link and link.group(1).endswith("exclusion reasons"), page
        assert "full-text exclusion reasons" not in page_text(response), page


def test_reason_list_shows_the_default_reasons_in_order(client, team):
    client.force_login(team.reviewer)

    page = reason_list(client, team.review).content.decode()

    positions = [page.index(label) for label in DEFAULT_EXCLUSION_REASONS]
    assert positions == sorted(positions)


def test_owner_adds_a_reason(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-add", args=[team.review.slug]), {"label": "Animal study"}, follow=True
    )

    assertRedirects(response, reverse("reason-list", args=[team.review.slug]))
    assertContains(response, "Animal study")
    assert team.review.exclusion_reasons.filter(label="Animal study").exists()


def test_a_duplicate_reason_is_refused_with_a_message(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-add", args=[team.review.slug]),
        {"label": "wrong population"},
        follow=True,
    )

    assertContains(response, "“wrong population” is already on the list.")
    assert team.review.exclusion_reasons.count() == len(DEFAULT_EXCLUSION_REASONS)


def test_a_blank_reason_is_refused_with_a_message(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-add", args=[team.review.slug]), {"label": "  "}, follow=True
    )

    assertContains(response, "A reason needs some text.")
    assert team.review.exclusion_reasons.count() == len(DEFAULT_EXCLUSION_REASONS)


def test_owner_renames_a_reason(client, team):
    reason = make_reason(team.review, "Animal study")
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-update", args=[team.review.slug, reason.pk]),
        {"label": "Animal or in-vitro study", "is_active": "on"},
        follow=True,
    )

    assertContains(response, "Reason saved.")
    assertContains(response, "Animal or in-vitro study")
    reason.refresh_from_db()
    assert reason.label == "Animal or in-vitro study"
    assert reason.is_active


def test_owner_retires_a_reason_by_unticking_it(client, team):
    reason = make_reason(team.review, "Animal study")
    client.force_login(team.owner)
    assertNotContains(reason_list(client, team.review), "Retired")

    response = client.post(
        reverse("reason-update", args=[team.review.slug, reason.pk]),
        {"label": "Animal study"},
        follow=True,
    )

    assertContains(response, "Reason saved.")
    assertContains(response, "Retired", count=1)
    reason.refresh_from_db()
    assert reason.is_active is False


def test_reviewers_see_which_reasons_are_retired(client, team):
    make_reason(team.review, "Animal study", is_active=False)
    client.force_login(team.reviewer)

    text = page_text(reason_list(client, team.review))

    assert "Animal study Retired" in text


def test_renaming_to_another_reasons_label_is_refused(client, team):
    reason = make_reason(team.review, "Animal study")
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-update", args=[team.review.slug, reason.pk]),
        {"label": "Wrong population", "is_active": "on"},
        follow=True,
    )

    assertContains(response, "“Wrong population” is already on the list.")
    reason.refresh_from_db()
    assert reason.label == "Animal study"


def test_renaming_to_blank_is_refused(client, team):
    reason = make_reason(team.review, "Animal study")
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-update", args=[team.review.slug, reason.pk]),
        {"label": "", "is_active": "on"},
        follow=True,
    )

    assertContains(response, "A reason needs some text.")
    reason.refresh_from_db()
    assert reason.label == "Animal study"


def test_owner_moves_a_reason_up(client, team):
    second = team.review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[1])
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-move", args=[team.review.slug, second.pk]),
        {"direction": "up"},
        follow=True,
    )

    page = response.content.decode()
    assert page.index(DEFAULT_EXCLUSION_REASONS[1]) < page.index(DEFAULT_EXCLUSION_REASONS[0])


def test_owner_moves_a_reason_down(client, team):
    first = team.review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[0])
    client.force_login(team.owner)

    response = client.post(
        reverse("reason-move", args=[team.review.slug, first.pk]),
        {"direction": "down"},
        follow=True,
    )

    page = response.content.decode()
    assert page.index(DEFAULT_EXCLUSION_REASONS[1]) < page.index(DEFAULT_EXCLUSION_REASONS[0])
