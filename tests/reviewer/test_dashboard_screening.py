"""The dashboard's screening part (reviewer.views.reviews.screening_summary, shown by
reviewer.project.dashboard): counts per stage and state, conflicts, the member's own queue,
and agreement between reviewers."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from reviewer.models import Record, Role
from reviewer.services import screening as services
from tests.factories import (
    add_member,
    make_reason,
    make_record,
    make_user,
    page_text,
    pass_title_abstract,
    release,
    screen,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(team):
    return add_member(
        team.review, make_user("bob", first_name="Bob", last_name="Ng"), Role.REVIEWER
    ).user


def dashboard(client, review):
    response = client.get(reverse("review-dashboard", args=[review.slug]))
    assert response.status_code == 200
    return response


def counted(text, label):
    """The number the screening table shows beside `label`."""
    match = re.search(rf"{re.escape(label)} (\d[\d,]*)", text)
    assert match, f"{label!r} not on the page"
    return int(match.group(1).replace(",", ""))


def test_counts_per_stage_and_state_after_some_screening(client, team, bob):
    records = [make_record(team.review, title=f"IMT case series {n}") for n in range(7)]
    screen(records[0], team.reviewer, "include")  # one decision
    screen(records[1], team.reviewer, "include")  # conflict
    screen(records[1], bob, "exclude")
    screen(records[2], team.reviewer, "exclude")  # excluded
    screen(records[2], bob, "exclude")
    pass_title_abstract(records[3], team.reviewer, bob)  # full text sought
    pass_title_abstract(records[4], team.reviewer, bob)
    services.full_text_not_retrieved(
        record=records[4], user=team.reviewer, note="Asked the authors; no answer"
    )
    Record.objects.filter(pk=records[5].pk).update(duplicate_of=records[6])
    client.force_login(team.senior)  # review-wide figures: seniors (issue 13)

    text = page_text(dashboard(client, team.review))

    assert counted(text, "Records identified") == 7
    assert counted(text, "Duplicates removed") == 1
    assert counted(text, "Removed before screening") == 0
    assert counted(text, "Not screened yet") == 1
    assert counted(text, "Waiting for a second reviewer") == 1
    assert counted(text, "Conflict (title/abstract)") == 1
    assert counted(text, "Excluded at title/abstract") == 1
    assert counted(text, "Passed to full text") == 2
    assert counted(text, "Full text sought") == 1
    assert counted(text, "Full text not retrieved") == 1
    assert counted(text, "Included and approved") == 0
    assert "1 record waiting for the senior author" in text


def test_my_queue_counts_what_waits_for_me_at_each_stage(client, team, bob):
    first, second, _waiting = (make_record(team.review) for _ in range(3))
    screen(first, team.reviewer, "include")
    pass_title_abstract(second, team.senior, bob)
    client.force_login(team.reviewer)

    text = page_text(dashboard(client, team.review))

    # `first` is mine already; `second` has two decisions; only the third waits for me
    assert "1 record to screen at title and abstract" in text
    assert "1 full text to assess" in text


def test_waiting_for_you_is_a_region_of_the_page_not_a_nested_sidebar(client, team):
    # walk (axe, landmark-complementary-is-top-level): "Waiting for you" was an <aside>
    # inside the screening section, a sidebar landmark a screen reader lists out of place
    make_record(team.review)
    client.force_login(team.reviewer)

    html = dashboard(client, team.review).content.decode()

    assert '<section aria-labelledby="my-screening">' in html
    assert '<aside aria-labelledby="my-screening">' not in html


def test_agreement_per_stage_and_pair_is_shown_to_seniors(client, team, bob):
    for mine, theirs in [("include", "include"), ("include", "exclude"), ("exclude", "exclude"),
                         ("exclude", "exclude")]:  # fmt: skip
        record = make_record(team.review)
        screen(record, team.reviewer, mine)
        screen(record, bob, theirs)
    client.force_login(team.senior)  # review-wide figures: seniors (issue 13)

    text = page_text(dashboard(client, team.review))

    # po = 3/4; pe = (2*1 + 2*3)/16 = 0.5; kappa = (0.75 - 0.5) / 0.5 = 0.5
    assert "Title and abstract All reviewers" not in text  # one pair: the same figures
    assert "Title and abstract reviewer and Bob Ng 0.50 75.0% 4" in text
    assert (
        "Title and abstract, include or maybe vs exclude reviewer and Bob Ng 0.50 75.0% 4" in text
    )
    assert "Full text All reviewers — — 0" in text


def test_kappa_undefined_when_both_used_one_category_says_so(client, team, bob):
    for _ in range(3):
        record = make_record(team.review)
        screen(record, team.reviewer, "exclude")
        screen(record, bob, "exclude")
    client.force_login(team.senior)  # review-wide figures: seniors (issue 13)

    response = dashboard(client, team.review)

    assert "Title and abstract reviewer and Bob Ng undefined 100.0% 3" in page_text(response)
    assert "agreement by chance is already 100%" in response.content.decode()


def test_the_exports_are_offered_to_seniors_only(client, team):
    make_record(team.review)
    export = reverse("export-decisions", args=[team.review.slug])

    client.force_login(team.reviewer)
    assert export not in dashboard(client, team.review).content.decode()
    client.force_login(team.senior)
    assert export in dashboard(client, team.review).content.decode()


def test_no_screening_section_before_any_record(client, team):
    client.force_login(team.owner)

    assert "Agreement between reviewers" not in page_text(dashboard(client, team.review))


def _fill(review, count, users, reason):
    """`count` records at every stage and state, two reviewers deciding."""
    first, second = users
    for n in range(count):
        record = make_record(review, title=f"Record {n}")
        kind = n % 5
        if kind == 0:
            continue
        screen(record, first, "include" if kind != 2 else "exclude")
        if kind == 1:
            continue
        screen(record, second, "exclude" if kind in (2, 3) else "maybe")
        if kind == 4:
            release(record)
            screen(record, first, "exclude", stage="ft", reason=reason)


def test_dashboard_queries_do_not_grow_with_the_records(client, team, bob):
    reason = make_reason(team.review, "Adults only")
    client.force_login(team.reviewer)
    _fill(team.review, 5, (team.reviewer, bob), reason)
    dashboard(client, team.review)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        dashboard(client, team.review)
    _fill(team.review, 50, (team.reviewer, bob), reason)
    with CaptureQueriesContext(connection) as many:
        dashboard(client, team.review)

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_my_queue_and_conflicts_link_to_their_pages(client, team, bob):
    record = make_record(team.review)
    screen(record, team.reviewer, "include")
    screen(record, bob, "exclude")
    make_record(team.review)
    client.force_login(team.senior)

    text = dashboard(client, team.review).content.decode()

    for name in ("screen-next", "screen-queue"):
        try:
            assert f'href="{reverse(name, args=[team.review.slug, "ta"])}"' in text
        except NoReverseMatch:
            continue
        break
    for name in ("conflicts", "conflict-list"):
        try:
            assert f'href="{reverse(name, args=[team.review.slug])}"' in text
        except NoReverseMatch:
            continue
        break


def test_with_three_reviewers_the_pooled_figure_comes_first(client, team, bob):
    records = [make_record(team.review) for _ in range(3)]
    screen(records[0], team.reviewer, "include")
    screen(records[0], bob, "include")
    screen(records[1], team.reviewer, "exclude")
    screen(records[1], team.senior, "include")
    client.force_login(team.senior)  # review-wide figures: seniors (issue 13)

    text = page_text(dashboard(client, team.review))

    # pooled: include/include 1, include/exclude 1: po = 0.5, pe = (2*1 + 0*1)/4 = 0.5
    assert "Title and abstract All reviewers 0.00 50.0% 2" in text
    assert "Title and abstract reviewer and Bob Ng undefined 100.0% 1" in text
    assert "Title and abstract senior and reviewer 0.00 0.0% 1" in text


# --- blinding (issue 13): a reviewer sees her own progress only ---


def test_a_blinded_reviewers_dashboard_does_not_move_with_bobs_open_decision(client, team, bob):
    # the reproduction: alice includes a record bob excluded
    records = [make_record(team.review, title=f"IMT {n}") for n in range(4)]
    screen(records[0], team.reviewer, "include")
    screen(records[0], bob, "exclude")
    screen(records[1], bob, "exclude")
    client.force_login(team.reviewer)
    before = page_text(dashboard(client, team.review))
    alice_alone = make_record(team.review, title="IMT alone")

    screen(records[1], team.reviewer, "include")  # a conflict, had bob not hidden it
    screen(alice_alone, team.reviewer, "include")  # nobody else decided this one
    after = page_text(dashboard(client, team.review))

    for text in (before, after):
        assert "waiting for the senior author" not in text
        assert "Kappa" not in text and "Conflict (title/abstract)" not in text
        assert "Waiting for a second reviewer" not in text
        assert "PRISMA 2020 flow diagram" not in text
        assert "shown to senior authors, and to everyone once the owner unblinds" in text
    assert "1 record decided by you at title and abstract" in before
    assert "3 records decided by you at title and abstract" in after
    assert "3 records to screen at title and abstract" in before
    assert "2 records to screen at title and abstract" in after


def test_an_unblinded_reviewer_and_an_owner_see_the_review_wide_figures(client, team, bob):
    record = make_record(team.review)
    screen(record, team.reviewer, "include")
    screen(record, bob, "exclude")
    client.force_login(team.owner)
    by_owner = page_text(dashboard(client, team.review))
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    client.force_login(team.reviewer)
    by_reviewer = page_text(dashboard(client, team.review))

    for text in (by_owner, by_reviewer):
        assert counted(text, "Conflict (title/abstract)") == 1
        assert "1 record waiting for the senior author" in text
        assert "Kappa" in text


def test_risk_of_bias_kappa_per_domain_is_beside_the_screening_agreement_for_seniors(client, team):
    from tests.extraction.test_appraisal_views import children

    children(team.review)
    make_record(team.review)  # the screening part shows once the review has records
    url = reverse("review-dashboard", args=[team.review.slug])
    client.force_login(team.senior)

    text = page_text(client.get(url))

    assert "Agreement between risk-of-bias assessors" in text
    assert "JBI case series Q4: Consecutive inclusion 0.00 0.0% 1" in text
    assert "JBI case series Overall" in text
    client.force_login(team.reviewer)
    assert "risk-of-bias assessors" not in page_text(client.get(url))
