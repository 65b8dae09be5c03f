"""Who a management command acts as."""

from __future__ import annotations

from django.core.management.base import CommandError

from reviewer.models import Review, Role, User


def acting_user(review: Review, username: str) -> User:
    """The user named by --user, or else one of the review's owners."""
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called “{username}”.")
        return user
    owner = review.memberships.filter(role=Role.OWNER).select_related("user").first()
    if owner is None:
        raise CommandError("The review has no owner; give --user.")
    return owner.user


def review_by_slug(slug: str) -> Review:
    review = Review.objects.filter(slug=slug).first()
    if review is None:
        raise CommandError(f"No review with the slug “{slug}”.")
    return review
