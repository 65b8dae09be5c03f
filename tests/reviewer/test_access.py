"""review_for_request: the one way a view reaches a review, and the URL table's coverage."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from reviewer.access import review_for_request
from reviewer.models import Role
from tests.factories import add_member, make_review, make_team, make_user

pytestmark = pytest.mark.django_db


def request_by(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_member_gets_the_review_and_their_membership():
    team = make_team()

    review, membership = review_for_request(request_by(team.reviewer), team.review.slug)

    assert review == team.review
    assert membership.user == team.reviewer
    assert membership.role == Role.REVIEWER


def test_outsider_gets_404():
    team = make_team()

    with pytest.raises(Http404):
        review_for_request(request_by(team.outsider), team.review.slug)


def test_anonymous_user_gets_404():
    team = make_team()

    with pytest.raises(Http404):
        review_for_request(request_by(AnonymousUser()), team.review.slug)


def test_unknown_slug_gets_404():
    team = make_team()

    with pytest.raises(Http404):
        review_for_request(request_by(team.owner), "no-such-review")


def test_membership_of_another_review_does_not_open_this_one():
    team = make_team()
    other = make_review(title="Adult IMT")
    add_member(other, team.outsider, Role.OWNER)

    with pytest.raises(Http404):
        review_for_request(request_by(team.outsider), team.review.slug)


@pytest.mark.parametrize(
    ("member_role", "needed_role"),
    [
        (Role.REVIEWER, Role.SENIOR),
        (Role.REVIEWER, Role.OWNER),
        (Role.SENIOR, Role.OWNER),
    ],
)
def test_role_too_low_gets_403(member_role, needed_role):
    team = make_team()

    with pytest.raises(PermissionDenied):
        review_for_request(request_by(team.user(member_role)), team.review.slug, role=needed_role)


@pytest.mark.parametrize(
    ("member_role", "needed_role"),
    [
        (Role.REVIEWER, Role.REVIEWER),
        (Role.SENIOR, Role.REVIEWER),
        (Role.SENIOR, Role.SENIOR),
        (Role.OWNER, Role.REVIEWER),
        (Role.OWNER, Role.SENIOR),
        (Role.OWNER, Role.OWNER),
    ],
)
def test_roles_nest_so_a_higher_role_passes(member_role, needed_role):
    team = make_team()

    review, membership = review_for_request(
        request_by(team.user(member_role)), team.review.slug, role=needed_role
    )

    assert review == team.review
    assert membership.role == member_role


def test_default_role_needed_is_reviewer():
    team = make_team()

    review, _ = review_for_request(request_by(team.reviewer), team.review.slug)

    assert review == team.review


def test_403_message_names_the_role_needed():
    team = make_team()

    with pytest.raises(PermissionDenied, match="owner"):
        review_for_request(request_by(team.senior), team.review.slug, role=Role.OWNER)


def test_user_without_membership_but_staff_is_still_an_outsider():
    team = make_team()
    staff = make_user("staff", is_staff=True)

    with pytest.raises(Http404):
        review_for_request(request_by(staff), team.review.slug)


# --- every URL has its permission cases ---

#: Not ours to test: Django's admin and auth views.
FRAMEWORK_URL_NAMES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def url_names(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            yield from url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def view_test_modules():
    """Every test module under tests/ that declares a permission table."""
    import importlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("test_*views.py")):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        if hasattr(module, "ENDPOINTS"):
            yield module


def test_every_url_has_permission_tests():
    from tests.reviewer import test_reviews_views

    modules = list(view_test_modules())
    assert test_reviews_views in modules
    tested = {
        endpoint.name for module in modules for endpoint in module.ENDPOINTS
    } | test_reviews_views.URLS_OUTSIDE_A_REVIEW

    untested = set(url_names(get_resolver().url_patterns)) - FRAMEWORK_URL_NAMES - tested

    assert not untested, f"no permission tests for: {sorted(untested)}"
