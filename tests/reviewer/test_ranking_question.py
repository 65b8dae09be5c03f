"""Before a reviewer's first relevant and irrelevant decision, their queue is ordered by
similarity to the review's question, criteria and highlight terms; then the learnt model
takes over (issue 16)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reviewer.models import RankingJob, RankingMethod, RankingTrigger, RelevanceScore, Role
from reviewer.ranking.selectors import inclusion_criteria, ranking_state, review_query
from reviewer.services.invitations import invitation_create, invitation_token
from reviewer.services.ranking import ranking_after_settings, ranking_for_members
from reviewer.services.reviews import member_add, member_set_role
from tests.factories import add_member, make_record, make_review, make_user, page_text
from tests.reviewer.test_services_ranking import LIKELY_IN, LIKELY_OUT

pytestmark = pytest.mark.django_db

QUESTION = "Outcomes of inflammatory myofibroblastic tumour in children"


def imported(review):
    """Ten records in import order, likely excludes first."""
    return [
        make_record(review, title=title)
        for pair in zip(LIKELY_OUT, LIKELY_IN, strict=True)
        for title in pair
    ]


def test_the_question_orders_the_queue_before_any_decision(
    client, django_capture_on_commit_callbacks
):
    review = make_review(question=QUESTION)
    reviewer = add_member(review, make_user("first"), Role.REVIEWER).user
    records = imported(review)
    with django_capture_on_commit_callbacks(execute=True):
        ranking_for_members(review=review, trigger=RankingTrigger.RECORDS)  # as an import does

    client.force_login(reviewer)
    page = client.get(
        reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"}), follow=True
    )

    assert page.context["record"].title in LIKELY_IN  # not records[0], a likely exclude
    assert page.context["record"] != records[0]
    assert "Ordered by similarity to the review's question" in page_text(page)
    job = RankingJob.objects.get(reviewer=reviewer)
    assert (job.method, job.trigger) == (RankingMethod.QUESTION, RankingTrigger.RECORDS)

    # one relevant and one irrelevant decision: the learnt model takes over at once
    for record, choice in ((page.context["record"], "include"), (records[0], "exclude")):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse(
                    "screen-decide", kwargs={"slug": review.slug, "stage": "ta", "pk": record.pk}
                ),
                {"choice": choice},
            )
    state = ranking_state(review, reviewer)
    assert state.current.method == RankingMethod.LEARNT and not state.by_question
    page = client.get(
        reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"}), follow=True
    )
    assert "from 2 decisions (yours and the resolved records): 1 relevant, 1 irrelevant" in (
        page_text(page)
    )


def test_without_a_question_nothing_is_ranked_before_the_decisions(
    django_capture_on_commit_callbacks,
):
    review = make_review()
    reviewer = add_member(review, make_user("plain"), Role.REVIEWER).user
    imported(review)
    with django_capture_on_commit_callbacks(execute=True):
        ranking_for_members(review=review, trigger=RankingTrigger.RECORDS)

    assert not RankingJob.objects.filter(reviewer=reviewer).exists()
    assert not ranking_state(review, reviewer).trained


def test_a_changed_question_reranks_only_rankings_that_have_not_learnt(
    django_capture_on_commit_callbacks,
):
    review = make_review(question=QUESTION)
    imported(review)
    waiting = add_member(review, make_user("waiting"), Role.REVIEWER).user
    learnt = add_member(review, make_user("learnt"), Role.REVIEWER).user
    RankingJob.objects.create(
        review=review,
        reviewer=learnt,
        trigger="decisions",
        status="succeeded",
        trained=True,
        method=RankingMethod.LEARNT,
    )

    assert ranking_after_settings(review=review, changed=["title"]) == []  # not read
    jobs = ranking_after_settings(review=review, changed=["question"])

    assert {job.reviewer for job in jobs} == {review.created_by, waiting}  # not `learnt`


def test_a_new_member_gets_the_question_ranking(django_capture_on_commit_callbacks):
    review = make_review(question=QUESTION)
    imported(review)
    make_user("newcomer")
    with django_capture_on_commit_callbacks(execute=True):
        member_add(
            review=review, username="newcomer", role=Role.REVIEWER, added_by=review.created_by
        )

    job = RankingJob.objects.get(reviewer__username="newcomer")
    assert (job.trigger, job.method) == (RankingTrigger.JOINED, RankingMethod.QUESTION)


def queue_order(client, review, user):
    """The records `user` sees, in their queue's order: the first waiting, then Next."""
    client.force_login(user)
    page = client.get(
        reverse("screen-queue", kwargs={"slug": review.slug, "stage": "ta"}), follow=True
    )
    seen = [page.context["record"].title]
    while page.context["next_id"]:
        page = client.get(
            reverse(
                "screen-record",
                kwargs={"slug": review.slug, "stage": "ta", "pk": page.context["next_id"]},
            )
        )
        seen.append(page.context["record"].title)
    return seen, page_text(page)


def test_an_invited_member_starts_with_the_same_ordered_queue_as_one_added_by_name(
    client, django_capture_on_commit_callbacks
):
    # issue 16: only member_add queued the question ranking; an invitee waited for a decision
    review = make_review(question=QUESTION)
    records = imported(review)
    make_user("added")
    with django_capture_on_commit_callbacks(execute=True):
        member_add(review=review, username="added", role=Role.REVIEWER, added_by=review.created_by)
    invited = make_user("invited", email="invited@example.org")
    invitation = invitation_create(
        review=review, email=invited.email, role=Role.REVIEWER, created_by=review.created_by
    )
    client.force_login(invited)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitation-accept", kwargs={"token": invitation_token(invitation)}))

    order, text = queue_order(client, review, invited)

    # the order of the ranking a member added by name got (the same question, the same start)
    expected = RelevanceScore.objects.filter(job__reviewer__username="added").order_by("rank")
    assert order == [score.record.title for score in expected.select_related("record")]
    assert "Ordered by similarity to the review's question" in text
    assert set(order[:5]) == set(LIKELY_IN)  # the likely relevant first, not import order
    assert order != [r.title for r in records]
    job = RankingJob.objects.get(reviewer=invited)
    assert (job.trigger, job.method) == (RankingTrigger.JOINED, RankingMethod.QUESTION)


def test_a_role_change_across_senior_retrains_in_a_blinded_review(
    django_capture_on_commit_callbacks,
):
    # a senior learns from the records two reviewers agreed on, a reviewer does not
    review = make_review(question=QUESTION, blinded=True)
    imported(review)
    membership = add_member(review, make_user("promoted"), Role.REVIEWER)

    with django_capture_on_commit_callbacks(execute=True):
        member_set_role(membership=membership, role=Role.SENIOR)
        member_set_role(membership=membership, role=Role.OWNER)  # senior still: no change

    jobs = RankingJob.objects.filter(reviewer=membership.user)
    assert [(job.trigger, job.method) for job in jobs] == [
        (RankingTrigger.ROLE, RankingMethod.QUESTION)
    ]


def test_a_change_of_blinding_retrains_the_reviewers_below_senior(
    django_capture_on_commit_callbacks,
):
    review = make_review(blinded=True)  # no question: nothing ranked so far
    imported(review)
    reviewer = add_member(review, make_user("plain"), Role.REVIEWER).user
    add_member(review, make_user("senior"), Role.SENIOR)

    jobs = ranking_after_settings(review=review, changed=["blinded"])

    # unblinded, what colleagues agreed on may now teach her: asked even with no ranking yet
    assert [(job.reviewer, job.trigger) for job in jobs] == [(reviewer, RankingTrigger.BLINDING)]


def test_the_query_is_the_question_inclusion_criteria_and_highlight_terms():
    review = make_review(
        question="Children with IMT",
        criteria="Include\n- At least 3 patients\n\nExclude\n- Adults\n- Case reports",
        highlight_include=["pediatric"],
        highlight_exclude=["IgG4", "adults"],
    )

    query = review_query(review)

    assert "Children with IMT" in query.seek and "pediatric" in query.seek
    assert "At least 3 patients" in query.seek
    assert "Case reports" not in query.seek
    assert query.avoid == "IgG4\nadults"
    assert inclusion_criteria("Adults only") == "Adults only"  # no headings: all of it
