"""Extraction pages: the form builder, the studies, entry, consensus, import/export."""

from django.http import HttpRequest

from reviewer.models import User


def current_user(request: HttpRequest) -> User:
    """The requesting user, once `review_for_request` has let only members through."""
    assert isinstance(request.user, User)
    return request.user
