"""The review list, creating a review, its dashboard (reviewer.project.dashboard)
and settings (reviewer.views.reviews)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import DEFAULT_EXCLUSION_REASONS, Review, Role
from tests.factories import (
    Endpoint,
    add_member,
    make_record,
    make_review,
    make_source,
    make_user,
    page_text,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """The URLs below name no child object."""
    return SimpleNamespace()


def settings_form(**changes):
    data = {
        "title": "Pediatric IMT",
        "question": "",
        "criteria": "",
        "highlight_include": "",
        "highlight_exclude": "",
        "blinded": "on",
    }
    data.update(changes)
    return data


# --- permissions ---

#: Pages that belong to no review: any signed-in user may use them.
URLS_OUTSIDE_A_REVIEW = {"review-list", "review-new", "review-restore", "review-restore-confirm"}
#: Pages for people who are not logged in (their cases are in test_team_views.py).
URLS_OUTSIDE_A_REVIEW |= {"invitation-accept", "first-account"}

ENDPOINTS = [
    Endpoint("review-dashboard", "get", Role.REVIEWER, 200),
    Endpoint("review-settings", "get", Role.OWNER, 200),
    Endpoint("review-settings", "post", Role.OWNER, 302, data=lambda c: settings_form()),
]

WRONG_METHODS = [
    Endpoint("review-dashboard", "post", Role.REVIEWER, 405),
    Endpoint("review-settings", "put", Role.OWNER, 405),
    Endpoint("review-settings", "delete", Role.OWNER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # These URLs name no child object.
    test_child_of_another_review_gets_404_even_for_an_owner = None


@pytest.mark.parametrize(
    ("url", "method"),
    [("/", "get"), ("/reviews/new/", "get"), ("/reviews/new/", "post")],
)
def test_anonymous_is_sent_to_login_outside_a_review(client, url, method):
    response = getattr(client, method)(url)

    assertRedirects(response, f"/accounts/login/?next={url}", fetch_redirect_response=False)


@pytest.mark.parametrize("url", ["/", "/reviews/new/"])
def test_any_signed_in_user_gets_the_pages_outside_a_review(client, url):
    client.force_login(make_user())

    response = client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "method"), [("/", "post"), ("/reviews/new/", "put"), ("/reviews/new/", "delete")]
)
def test_wrong_method_gets_405_outside_a_review(client, url, method):
    client.force_login(make_user())

    response = getattr(client, method)(url)

    assert response.status_code == 405


def test_unknown_review_gets_404(client, team):
    client.force_login(team.owner)

    response = client.get(reverse("review-dashboard", args=["no-such-review"]))

    assert response.status_code == 404


# --- the review list ---


def make_review_with_records(owner, title, records):
    review = make_review(owner=owner, title=title)
    source = make_source(review)
    for n in range(records):
        make_record(review, source, title=f"{title} record {n}")
    return review


def test_review_list_shows_only_my_reviews(client):
    me = make_user("me")
    make_review(owner=me, title="Pediatric IMT")
    joined = make_review(title="Adult IMT")
    add_member(joined, me, Role.REVIEWER)
    make_review(title="Someone else's secret review")
    client.force_login(me)

    response = client.get("/")

    assertContains(response, "Pediatric IMT")
    assertContains(response, "Adult IMT")
    assertNotContains(response, "secret review")


def test_review_list_counts_each_reviews_records(client):
    me = make_user("me")
    make_review_with_records(me, "Pediatric IMT", records=3)
    make_review_with_records(me, "Adult IMT", records=1)
    client.force_login(me)

    response = client.get("/")

    text = page_text(response)
    assert "Adult IMT 1 record 1 search 1 member" in text
    assert "Pediatric IMT 3 records 1 search 1 member" in text


def test_review_list_counts_every_member_not_just_me(client):
    me = make_user("me")
    review = make_review(owner=me, title="Pediatric IMT")
    add_member(review, make_user(), Role.SENIOR)
    add_member(review, make_user(), Role.REVIEWER)
    client.force_login(me)

    response = client.get("/")

    assert "Pediatric IMT 0 records 0 searches 3 members" in page_text(response)


def test_review_list_with_no_reviews_still_works(client):
    client.force_login(make_user())

    response = client.get("/")

    assert response.status_code == 200
    assert list(response.context["reviews"]) == []


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_review_list_query_count_does_not_grow_with_the_number_of_reviews(
    client, django_assert_num_queries
):
    me = make_user("me")
    make_review_with_records(me, "Review 1", records=2)
    client.force_login(me)
    client.get("/")  # warm caches (session, content types)
    with_one = count_queries(client, "/")
    for n in range(2, 6):
        review = make_review_with_records(me, f"Review {n}", records=2)
        add_member(review, make_user(), Role.REVIEWER)

    with django_assert_num_queries(with_one):
        response = client.get("/")

    assert len(response.context["reviews"]) == 5


# --- creating a review ---


def test_new_review_form_is_shown(client):
    client.force_login(make_user())

    response = client.get("/reviews/new/")

    assertContains(response, 'name="title"')


def test_creating_a_review_makes_you_its_owner(client):
    me = make_user("me")
    client.force_login(me)

    response = client.post(
        "/reviews/new/",
        {"title": "Pediatric IMT", "question": "Margins and recurrence?", "criteria": ""},
        follow=True,
    )

    review = Review.objects.get()
    assertRedirects(response, reverse("review-dashboard", args=[review.slug]))
    assertContains(response, "Review created.")
    assert review.title == "Pediatric IMT"
    assert review.question == "Margins and recurrence?"
    assert review.created_by == me
    assert review.memberships.get().user == me
    assert review.memberships.get().role == Role.OWNER


def test_creating_a_review_seeds_the_default_exclusion_reasons(client):
    client.force_login(make_user())
    client.post("/reviews/new/", {"title": "Pediatric IMT"})
    review = Review.objects.get()

    response = client.get(reverse("reason-list", args=[review.slug]))

    for label in DEFAULT_EXCLUSION_REASONS:
        assertContains(response, label)


def test_creating_a_review_without_a_title_shows_the_error(client):
    client.force_login(make_user())

    response = client.post("/reviews/new/", {"title": ""})

    assert response.status_code == 200
    assertContains(response, "This field is required.")
    assert not Review.objects.exists()


def test_highlight_terms_are_read_one_per_line_without_repeats(client):
    client.force_login(make_user())

    client.post(
        "/reviews/new/",
        {
            "title": "Pediatric IMT",
            "highlight_include": "myofibroblastic\n child* ; Myofibroblastic\n\n",
            "highlight_exclude": "adult",
        },
    )

    review = Review.objects.get()
    assert review.highlight_include == ["myofibroblastic", "child*"]
    assert review.highlight_exclude == ["adult"]


# --- dashboard ---


def test_dashboard_shows_the_review_and_its_sources(client, team):
    source = make_source(team.review, name="Embase")
    make_record(team.review, source)
    client.force_login(team.reviewer)

    response = client.get(reverse("review-dashboard", args=[team.review.slug]))

    text = page_text(response)
    assert "Pediatric IMT" in text
    assert "1 record identified" in text
    assert "Embase" in text


# --- settings ---


def test_owner_changes_the_settings(client, team):
    client.force_login(team.owner)
    url = reverse("review-settings", args=[team.review.slug])

    response = client.post(
        url,
        settings_form(
            title="Pediatric IMT: margins",
            criteria="Patients under 18",
            highlight_include="myofibroblastic\nALK",
            blinded="",
        ),
        follow=True,
    )

    assertRedirects(response, url)
    assertContains(response, "Review settings saved.")
    team.review.refresh_from_db()
    assert team.review.title == "Pediatric IMT: margins"
    assert team.review.criteria == "Patients under 18"
    assert team.review.highlight_include == ["myofibroblastic", "ALK"]
    assert team.review.blinded is False


def test_settings_form_shows_the_current_values(client, team):
    team.review.criteria = "Patients under 18"
    team.review.highlight_include = ["myofibroblastic", "ALK"]
    team.review.save()
    client.force_login(team.owner)

    response = client.get(reverse("review-settings", args=[team.review.slug]))

    assertContains(response, "Patients under 18")
    assertContains(response, "myofibroblastic\nALK")


def test_settings_keep_the_update_of_an_earlier_review_apart_from_blinding(client, team):
    # walk: "An update of an earlier review?" was a fieldset inside "Blinding"
    client.force_login(team.owner)

    html = client.get(reverse("review-settings", args=[team.review.slug])).content.decode()

    blinding = html[html.index("<legend>Blinding</legend>") :]
    blinding = blinding[: blinding.index("</fieldset>")]
    assert 'name="blinded"' in blinding
    assert "previous_studies" not in blinding and "<fieldset" not in blinding
    update = html[html.index("<legend>An update of an earlier review?</legend>") :]
    update = update[: update.index("</fieldset>")]
    assert 'name="previous_studies"' in update and 'name="previous_reports"' in update


def test_settings_without_a_title_are_not_saved(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("review-settings", args=[team.review.slug]), settings_form(title="")
    )

    assert response.status_code == 200
    assertContains(response, "This field is required.")
    team.review.refresh_from_db()
    assert team.review.title == "Pediatric IMT"


def test_senior_cannot_change_the_settings(client, team):
    client.force_login(team.senior)

    client.post(reverse("review-settings", args=[team.review.slug]), settings_form(title="Mine"))

    team.review.refresh_from_db()
    assert team.review.title == "Pediatric IMT"
