"""The one way a view gets at a review: by slug, for a member, with a role check.

Every child object is then fetched *through* the review (`review.sources.get(...)`),
never by bare primary key, so a member of one review cannot reach another's rows.
Outsiders get 404 (the review's existence is not revealed); members whose role
is too low get 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from reviewer.models import Membership, Review, Role, User
from reviewer.prepared import Prepared

#: A member's membership with its review and user: every view's first query, compiled once
#: per process (`reviewer.prepared`).
_MEMBERSHIP = Prepared(
    lambda slug, user: Membership.objects.select_related("review", "user").filter(
        review__slug=slug, user_id=user
    )[:1]
)

#: Methods that change nothing: the only ones an archived review answers.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def review_for_request(
    request: HttpRequest, slug: str, *, role: Role = Role.REVIEWER, while_archived: bool = False
) -> tuple[Review, Membership]:
    """Return the review and the requesting user's membership, or raise 404/403.

    An archived review is read-only: any other method gets 403, except in the views that
    restore or delete it (`while_archived`)."""
    if not request.user.is_authenticated:  # LoginRequiredMiddleware sends them to log in
        raise Http404("No such review.")
    found = _MEMBERSHIP.objects(slug=slug, user=request.user.pk)
    membership = found[0] if found else None
    if membership is None:
        raise Http404("No such review.")
    if not membership.has_role(role):
        raise PermissionDenied(f"This needs the {role.label.lower()} role in this review.")
    review = membership.review
    if review.is_archived and request.method not in READ_ONLY_METHODS and not while_archived:
        raise PermissionDenied(
            "This review is archived, so it is read-only. An owner can restore it from Settings."
        )
    return review, membership


def current_user(request: HttpRequest) -> User:
    """The requesting user, typed: for views that have let only members through."""
    assert isinstance(request.user, User)
    return request.user
