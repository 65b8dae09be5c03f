"""Writes to reviews, memberships and exclusion reasons (reviewer.services.reviews)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from reviewer.models import DEFAULT_EXCLUSION_REASONS, Membership, Review, Role
from reviewer.services import reviews as services
from tests.factories import add_member, make_reason, make_review, make_team, make_user

pytestmark = pytest.mark.django_db


def labels(review):
    return list(review.exclusion_reasons.values_list("label", flat=True))


# --- review_create ---


def test_creator_becomes_the_only_member_and_owner():
    alice = make_user("alice")

    review = services.review_create(title="Pediatric IMT", created_by=alice)

    assert [(m.user, m.role) for m in review.memberships.all()] == [(alice, Role.OWNER)]
    assert review.memberships.get().added_by == alice


def test_new_review_gets_the_default_exclusion_reasons_in_order():
    review = services.review_create(title="Pediatric IMT", created_by=make_user())

    assert labels(review) == list(DEFAULT_EXCLUSION_REASONS)
    assert all(review.exclusion_reasons.values_list("is_active", flat=True))


def test_slug_comes_from_the_title():
    review = services.review_create(title="Pediatric IMT: outcomes", created_by=make_user())

    assert review.slug == "pediatric-imt-outcomes"


def test_slug_is_made_unique_with_a_number():
    user = make_user()

    slugs = [services.review_create(title="Pediatric IMT", created_by=user).slug for _ in range(3)]

    assert slugs == ["pediatric-imt", "pediatric-imt-2", "pediatric-imt-3"]


def test_title_without_letters_gets_a_usable_slug():
    review = services.review_create(title="???", created_by=make_user())

    assert review.slug == "review"


def test_long_title_gives_a_slug_that_fits_the_column():
    user = make_user()
    title = ("Inflammatory myofibroblastic tumour " * 8).strip()  # 287 of 300 characters

    first = services.review_create(title=title, created_by=user)
    second = services.review_create(title=title, created_by=user)

    assert len(first.slug) <= 60
    assert len(second.slug) <= 60
    assert first.slug != second.slug


def test_explicit_slug_is_kept():
    review = services.review_create(title="Pediatric IMT", created_by=make_user(), slug="imt")

    assert Review.objects.get(slug="imt") == review


def test_other_fields_are_saved():
    review = services.review_create(
        title="Pediatric IMT",
        created_by=make_user(),
        question="Does margin status predict recurrence?",
        highlight_include=["myofibroblastic"],
    )

    review.refresh_from_db()
    assert review.question == "Does margin status predict recurrence?"
    assert review.highlight_include == ["myofibroblastic"]


# --- member_add ---


def test_member_add_finds_the_user_by_username_ignoring_case():
    review = make_review()
    bob = make_user("Bob")

    membership = services.member_add(
        review=review, username="  bob ", role=Role.SENIOR, added_by=review.created_by
    )

    assert membership.user == bob
    assert membership.role == Role.SENIOR
    assert membership.added_by == review.created_by


def test_member_add_refuses_an_unknown_username():
    review = make_review()

    with pytest.raises(ValidationError, match="There is no user called “ghost”"):
        services.member_add(
            review=review, username="ghost", role=Role.REVIEWER, added_by=review.created_by
        )

    assert review.memberships.count() == 1


def test_member_add_refuses_an_inactive_user():
    review = make_review()
    make_user("gone", is_active=False)

    with pytest.raises(ValidationError, match="no user called"):
        services.member_add(
            review=review, username="gone", role=Role.REVIEWER, added_by=review.created_by
        )


def test_member_add_refuses_someone_already_a_member():
    team = make_team()

    with pytest.raises(ValidationError, match="reviewer is already a member"):
        services.member_add(
            review=team.review, username="reviewer", role=Role.OWNER, added_by=team.owner
        )

    assert team.review.memberships.get(user=team.reviewer).role == Role.REVIEWER


# --- member_set_role / member_remove ---


def test_set_role_changes_the_role():
    team = make_team()
    membership = team.review.memberships.get(user=team.reviewer)

    services.member_set_role(membership=membership, role=Role.SENIOR)

    membership.refresh_from_db()
    assert membership.role == Role.SENIOR


def test_last_owner_cannot_be_demoted():
    team = make_team()
    owner = team.review.memberships.get(user=team.owner)

    with pytest.raises(ValidationError, match="at least one owner"):
        services.member_set_role(membership=owner, role=Role.SENIOR)

    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_can_step_down_when_another_owner_remains():
    team = make_team()
    services.member_set_role(
        membership=team.review.memberships.get(user=team.senior), role=Role.OWNER
    )
    owner = team.review.memberships.get(user=team.owner)

    services.member_set_role(membership=owner, role=Role.REVIEWER)

    owner.refresh_from_db()
    assert owner.role == Role.REVIEWER


def test_last_owner_cannot_be_removed():
    team = make_team()
    owner = team.review.memberships.get(user=team.owner)

    with pytest.raises(ValidationError, match="at least one owner"):
        services.member_remove(membership=owner)

    assert Membership.objects.filter(pk=owner.pk, role=Role.OWNER).exists()


def test_an_owner_can_be_removed_when_another_owner_remains():
    team = make_team()
    second_owner = add_member(team.review, make_user(), Role.OWNER)

    services.member_remove(membership=team.review.memberships.get(user=team.owner))

    assert list(team.review.memberships.filter(role=Role.OWNER)) == [second_owner]


def test_removing_a_reviewer_leaves_the_others():
    team = make_team()

    services.member_remove(membership=team.review.memberships.get(user=team.reviewer))

    assert {m.user for m in team.review.memberships.all()} == {team.owner, team.senior}


def test_owner_of_another_review_does_not_count_as_an_owner_here():
    team = make_team()
    other = make_review(title="Adult IMT")
    add_member(other, team.senior, Role.OWNER)

    with pytest.raises(ValidationError):
        services.member_remove(membership=team.review.memberships.get(user=team.owner))


# --- exclusion reasons ---


def test_reason_add_puts_the_reason_last_with_tidy_spacing():
    review = make_review()

    reason = services.exclusion_reason_add(review=review, label="  Animal   study ")

    assert reason.label == "Animal study"
    assert labels(review)[-1] == "Animal study"


def test_reason_add_to_an_empty_list_starts_at_position_zero():
    review = make_review()
    review.exclusion_reasons.all().delete()

    reason = services.exclusion_reason_add(review=review, label="Animal study")

    assert reason.position == 0


def test_reason_add_refuses_a_duplicate_ignoring_case():
    review = make_review()

    with pytest.raises(ValidationError, match="already on the list"):
        services.exclusion_reason_add(review=review, label="wrong POPULATION")

    assert labels(review) == list(DEFAULT_EXCLUSION_REASONS)


def test_reason_add_refuses_blank_text():
    review = make_review()

    with pytest.raises(ValidationError, match="needs some text"):
        services.exclusion_reason_add(review=review, label="   ")


def test_the_same_label_is_fine_in_another_review():
    pediatric, adult = make_review(title="Pediatric IMT"), make_review(title="Adult IMT")

    services.exclusion_reason_add(review=pediatric, label="Animal study")
    services.exclusion_reason_add(review=adult, label="Animal study")

    assert labels(pediatric)[-1] == labels(adult)[-1] == "Animal study"


def test_reason_update_renames_and_retires():
    review = make_review()
    reason = make_reason(review, "Animal study")

    services.exclusion_reason_update(
        reason=reason, label="Animal or in-vitro study", is_active=False
    )

    reason.refresh_from_db()
    assert reason.label == "Animal or in-vitro study"
    assert reason.is_active is False


def test_reason_update_may_keep_its_own_label():
    review = make_review()
    reason = make_reason(review, "Animal study")

    services.exclusion_reason_update(reason=reason, label="Animal study", is_active=False)

    reason.refresh_from_db()
    assert reason.is_active is False


def test_reason_update_refuses_another_reasons_label():
    review = make_review()
    reason = make_reason(review, "Animal study")

    with pytest.raises(ValidationError, match="already on the list"):
        services.exclusion_reason_update(reason=reason, label="Wrong population", is_active=True)

    reason.refresh_from_db()
    assert reason.label == "Animal study"


def test_reason_move_up_swaps_with_the_one_above():
    review = make_review()
    second = review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[1])

    services.exclusion_reason_move(reason=second, up=True)

    assert labels(review)[:2] == [DEFAULT_EXCLUSION_REASONS[1], DEFAULT_EXCLUSION_REASONS[0]]


def test_reason_move_down_swaps_with_the_one_below():
    review = make_review()
    first = review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[0])

    services.exclusion_reason_move(reason=first, up=False)

    assert labels(review)[:2] == [DEFAULT_EXCLUSION_REASONS[1], DEFAULT_EXCLUSION_REASONS[0]]


def test_reason_move_past_either_end_changes_nothing():
    review = make_review()
    first = review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[0])
    last = review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[-1])

    services.exclusion_reason_move(reason=first, up=True)
    services.exclusion_reason_move(reason=last, up=False)

    assert labels(review) == list(DEFAULT_EXCLUSION_REASONS)


def test_reason_move_leaves_other_reviews_alone():
    other = make_review(title="Adult IMT")
    review = make_review()

    services.exclusion_reason_move(
        reason=review.exclusion_reasons.get(label=DEFAULT_EXCLUSION_REASONS[1]), up=True
    )

    assert labels(other) == list(DEFAULT_EXCLUSION_REASONS)
