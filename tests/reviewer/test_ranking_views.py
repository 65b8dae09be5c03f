"""The ranking and stopping page (reviewer.views.ranking), and ranking on the screening
pages: the queue's orders, the relevance score shown, blinding with ranking on."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from reviewer.models import RankingJob, RankingStatus, RankingTrigger, Role, StoppingSample
from reviewer.screening import queries
from reviewer.screening.queries import Order, queue, waiting
from reviewer.services import ranking as services
from reviewer.services.screening import adjudicate
from tests.factories import Endpoint, add_member, make_record, make_user, page_text, screen
from tests.permissions import PermissionCases
from tests.reviewer.test_services_ranking import LIKELY_IN, LIKELY_OUT, corpus

pytestmark = pytest.mark.django_db


def children(review):
    return None


ENDPOINTS = [
    Endpoint("ranking-progress", "get", Role.REVIEWER, 200),
    Endpoint("ranking-retrain", "post", Role.REVIEWER, 302),
    Endpoint(
        "ranking-sample",
        "post",
        Role.REVIEWER,
        302,
        data=lambda c: {"size": "1", "target": "95", "alpha": "0.05"},
    ),
]

WRONG_METHODS = [
    Endpoint("ranking-progress", "post", Role.REVIEWER, 405),
    Endpoint("ranking-retrain", "get", Role.REVIEWER, 405),
    Endpoint("ranking-sample", "get", Role.REVIEWER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every member screens, so every member has a ranking and a stopping test of their own.
    test_member_with_too_low_a_role_gets_403 = None
    # No URL here names a child object: each member only ever reaches their own rows.
    test_child_of_another_review_gets_404_even_for_an_owner = None


def url(name, review, **kwargs):
    return reverse(name, kwargs={"slug": review.slug, **kwargs})


def screening_of(client, review, record=None, **params):
    """The title/abstract page: the first record of the queue, or `record`."""
    if record is None:
        return client.get(url("screen-queue", review, stage="ta"), params, follow=True)
    return client.get(url("screen-record", review, stage="ta", pk=record.pk), params)


def heading_of(response):
    return response.context["record"].title


@pytest.fixture
def labelled(team):
    """The team's reviewer has decided one likely include and one likely exclude, and
    their ranking is trained; eight records wait, in import order in/out/in/out."""
    records = corpus(team.review)
    screen(records[0], team.reviewer, "include")
    screen(records[1], team.reviewer, "exclude")
    services.ranking_run_now(
        review=team.review, user=team.reviewer, trigger=RankingTrigger.REQUESTED
    )
    return records


# --- the queue's orders ---


def test_most_relevant_first_is_the_default_once_a_ranking_exists(client, team, labelled):
    client.force_login(team.reviewer)

    response = screening_of(client, team.review)

    assert heading_of(response) in LIKELY_IN
    ordered = list(
        queue(
            team.review,
            team.reviewer,
            "ta",
            order=Order.RELEVANCE,
            ranking_id=RankingJob.objects.get().pk,
        ).values_list("title", flat=True)
    )
    # every likely include comes before every likely exclude
    assert set(ordered[:5]) == set(LIKELY_IN)
    assert set(ordered[5:]) == set(LIKELY_OUT)
    assertContains(response, '<option value="relevance" selected>Most relevant first</option>')


def test_the_queue_walks_the_likely_includes_first(client, team, labelled):
    client.force_login(team.reviewer)
    seen = []
    response = screening_of(client, team.review)
    for _ in range(4):
        record = response.context["record"]
        seen.append(record.title)
        response = client.post(
            url("screen-decide", team.review, stage="ta", pk=record.pk),
            {"choice": "include" if record.title in LIKELY_IN else "exclude"},
            follow=True,
        )

    assert set(seen) == set(LIKELY_IN[1:])  # the four waiting likely includes, one by one


def test_import_order_and_random_order_can_be_chosen(client, team, labelled):
    client.force_login(team.reviewer)

    imported = screening_of(client, team.review, order="import")
    shuffled = [
        screening_of(client, team.review, order="random").context["record"].pk for _ in range(3)
    ]

    assert imported.context["record"] == labelled[2]  # the first waiting, in import order
    assert len(set(shuffled)) == 1  # the same random order on every visit
    assertContains(imported, '<option value="import" selected>Import order</option>')


def test_random_order_is_a_different_shuffle_per_reviewer(team):
    records = [make_record(team.review, title=f"Record {n}") for n in range(40)]
    other = add_member(team.review, make_user(), Role.REVIEWER).user

    mine = list(queue(team.review, team.reviewer, "ta", order=Order.RANDOM).values_list("pk"))
    again = list(queue(team.review, team.reviewer, "ta", order=Order.RANDOM).values_list("pk"))
    theirs = list(queue(team.review, other, "ta", order=Order.RANDOM).values_list("pk"))

    assert mine == again
    assert mine != theirs
    assert sorted(mine) == sorted(theirs) == sorted((r.pk,) for r in records)
    assert mine != sorted(mine)


def test_least_screened_by_others_is_not_offered_under_blinding(client, team, labelled):
    screen(labelled[2], team.senior, "include")  # a colleague's open decision
    client.force_login(team.reviewer)

    response = screening_of(client, team.review, order="others")

    assertContains(response, "Least screened by others (senior authors, or once unblinded)")
    assertContains(response, 'value="others" disabled')
    assert response.context["order_used"] == Order.RELEVANCE  # the request is ignored


def test_least_screened_by_others_puts_records_no_one_decided_first(client, team):
    team.review.blinded = False
    team.review.save()
    first, second, third = (make_record(team.review, title=f"Record {n}") for n in range(3))
    screen(first, team.senior, "include")
    client.force_login(team.reviewer)

    response = screening_of(client, team.review, order="others")

    assert response.context["record"] == second
    assert response.context["next_id"] == third.pk
    ordered = queue(team.review, team.reviewer, "ta", order=Order.OTHERS)
    assert list(ordered.values_list("pk", flat=True)) == [second.pk, third.pk, first.pk]


def test_previous_and_next_follow_the_order(client, team, labelled):
    client.force_login(team.reviewer)

    response = screening_of(client, team.review)
    top = response.context["record"]
    following = client.get(
        url("screen-record", team.review, stage="ta", pk=response.context["next_id"])
    )

    assert following.context["previous_id"] == top.pk
    assert following.context["relevance"].rank == response.context["relevance"].rank + 1


def test_walking_the_ranking_in_batches_gives_the_sorted_queue_order(team, labelled, monkeypatch):
    monkeypatch.setattr(queries, "RANK_BATCH", 3)  # several batches on a small queue
    job = RankingJob.objects.get()
    ordered = queue(team.review, team.reviewer, "ta", order=Order.RELEVANCE, ranking_id=job.pk)
    still = waiting(team.review, team.reviewer, "ta", ordered)

    assert queries.ranked_first(still, job.pk, 5) == list(still.values_list("pk", flat=True)[:5])
    ids = list(ordered.values_list("pk", flat=True))
    for before, pk, after in zip(ids, ids[1:], ids[2:], strict=False):
        assert queries.ranked_neighbours(ordered, job.pk, pk) == (before, after)
        assert queries.neighbours(ordered, pk) == (before, after)


def test_the_relevance_walk_compiled_once_gives_what_the_orm_walk_gives(
    team, labelled, monkeypatch
):
    # the look after each decision in a queue without filters runs SQL compiled once per
    # process (`reviewer.prepared`): the same records, ranks and scores as the ORM's query,
    # whatever the cursor, the record left out and the batch sizes
    monkeypatch.setattr(queries, "RANK_BATCH", 3)
    monkeypatch.setattr(queries, "NEIGHBOUR_BATCH", 1)
    review, user = team.review, team.reviewer
    job = RankingJob.objects.get(reviewer=user)
    one, two = (add_member(review).user for _ in range(2))
    screen(labelled[4], one, "include")  # still waiting for me: one decision
    screen(labelled[5], one, "exclude")
    screen(labelled[5], two, "exclude")  # decided by two: not waiting
    members = queries.members(review, user, "ta")
    ranked = list(
        queue(review, user, "ta", order=Order.RELEVANCE, ranking_id=job.pk).values_list(
            "pk", flat=True
        )
    )
    assert len(ranked) == 10

    for after in range(0, 11):
        for but in (None, ranked[2]):
            for count in (1, 3, 12):
                left = members if but is None else members.exclude(pk=but)
                expected = queries.ranked_waiting(
                    left, user, "ta", job.pk, after=after, count=count
                )
                got = queries.ranked_waiting_whole(
                    review, user, "ta", job.pk, after=after, count=count, but=but
                )
                assert got == expected
    walked = [
        pk
        for _, pk, _ in queries.ranked_waiting_whole(review, user, "ta", job.pk, after=0, count=12)
    ]
    assert labelled[5].pk not in walked and labelled[4].pk in walked
    assert labelled[0].pk not in walked  # decided by me
    for pk in ranked:
        around = partial(queries.ranked_around_whole, review, "ta", job.pk)
        assert queries.ranked_neighbours(
            lambda: members, job.pk, pk, around=around
        ) == queries.ranked_neighbours(members, job.pk, pk)
    # compiled, not fallen back to compiling on every call
    for prepared in (queries._RANKED_BATCH, queries._RANKED_AROUND):
        assert prepared._compiled and None not in prepared._compiled.values()


def test_neighbours_in_a_narrowed_queue_walk_past_the_first_batch(team, labelled, monkeypatch):
    # a queue narrowed (a label, a search) holds few of the ranking's records: the first
    # batch on either side may hold none of them, and the walk goes on in batches
    monkeypatch.setattr(queries, "RANK_BATCH", 2)
    monkeypatch.setattr(queries, "NEIGHBOUR_BATCH", 1)
    job = RankingJob.objects.get()
    ordered = queue(team.review, team.reviewer, "ta", order=Order.RELEVANCE, ranking_id=job.pk)
    ids = list(ordered.values_list("pk", flat=True))
    kept = ids[::3]
    assert len(kept) >= 3
    narrowed = ordered.filter(pk__in=kept)

    for before, pk, after in zip(kept, kept[1:], kept[2:], strict=False):
        assert queries.ranked_neighbours(narrowed, job.pk, pk) == (before, after)


def test_a_record_imported_after_the_ranking_still_comes_in_relevance_order(client, team, labelled):
    job = RankingJob.objects.get()
    late = make_record(team.review, title="Crizotinib for IMT in a child, imported later")
    client.force_login(team.reviewer)
    ordered = queue(team.review, team.reviewer, "ta", order=Order.RELEVANCE, ranking_id=job.pk)
    last_scored = list(ordered.values_list("pk", flat=True))[-2]

    # not scored yet: last in the queue, reached from the last scored record
    assert queries.ranked_neighbours(ordered, job.pk, late.pk) is None
    page = client.get(url("screen-record", team.review, stage="ta", pk=last_scored))
    assert page.context["next_id"] == late.pk
    for record in team.review.records.exclude(pk=late.pk):
        if not record.decisions.filter(reviewer=team.reviewer).exists():
            screen(record, team.reviewer, "exclude")
    assert heading_of(screening_of(client, team.review)) == late.title


def test_filters_keep_the_order_chosen(client, team, labelled):
    client.force_login(team.reviewer)

    response = screening_of(client, team.review, order="import", q="children")

    assert 'name="order" value="import"' in response.content.decode()
    assert "order=import" in response.context["filter_qs"]


# --- the score on the screening page ---


def test_each_record_shows_its_relevance_score_and_rank(client, team, labelled):
    client.force_login(team.reviewer)

    response = screening_of(client, team.review)

    relevance = response.context["relevance"]
    assert f"Relevance {relevance.score:.2f} · rank {relevance.rank} of 10" in page_text(response)


def test_without_a_ranking_the_page_says_why_and_keeps_import_order(client, team):
    records = corpus(team.review)
    screen(records[0], team.reviewer, "include")
    client.force_login(team.reviewer)

    response = screening_of(client, team.review)

    assert response.context["record"] == records[1]
    text = page_text(response)
    assert (
        "No relevance scores yet: the ranking needs at least one relevant (include or maybe) "
        "and one irrelevant (exclude) decision of yours." in text
    )
    assertContains(response, 'value="relevance" disabled')


def test_a_record_imported_after_the_ranking_says_so(client, team, labelled):
    late = make_record(team.review, title="Inflammatory myofibroblastic tumour, a late import")
    client.force_login(team.reviewer)

    response = screening_of(client, team.review, record=late)

    assertContains(response, "Not ranked yet: imported after your latest ranking")


def test_full_text_screening_has_no_ranking(client, team, labelled):
    client.force_login(team.reviewer)

    response = client.get(url("screen-queue", team.review, stage="ft"))

    assertNotContains(response, 'id="queue-order"')


# --- blinding with ranking on ---


def test_a_colleague_deciding_an_open_record_changes_nothing_on_my_page(client, team, labelled):
    """The senior decides records the reviewer has not (open records), the reviewer's
    ranking is retrained: the score, rank and order the reviewer sees are the same."""
    client.force_login(team.reviewer)
    before = screening_of(client, team.review)
    before_text = page_text(before)

    for record in labelled[2:]:  # the opposite of what the words suggest
        screen(record, team.senior, "exclude" if record.title in LIKELY_IN else "include")
    services.ranking_run_now(
        review=team.review, user=team.reviewer, trigger=RankingTrigger.REQUESTED
    )
    after = screening_of(client, team.review)

    assert after.context["record"] == before.context["record"]
    assert after.context["relevance"].score == before.context["relevance"].score
    assert after.context["relevance"].rank == before.context["relevance"].rank
    assert "Relevance" in before_text
    assert (
        before_text.split("Waiting for your decision")[1][:40]
        == (page_text(after).split("Waiting for your decision")[1][:40])
    )


def test_the_ranking_page_shows_no_colleague_s_line_under_blinding(client, team, labelled):
    screen(labelled[2], team.senior, "include")
    client.force_login(team.reviewer)

    blinded = page_text(client.get(url("ranking-progress", team.review)))
    team.review.blinded = False
    team.review.save()
    unblinded = page_text(client.get(url("ranking-progress", team.review)))

    assert "You: 1 relevant in 2 screened" in blinded
    assert team.senior.display_name() not in blinded.split("Relevant records found")[1]
    assert f"{team.senior.display_name()}: 1 relevant in 1 screened" in unblinded


# --- the ranking page ---


def test_the_page_charts_relevant_found_against_screened(client, team, labelled):
    screen(labelled[0], team.senior, "include")  # agreed: resolved
    client.force_login(team.reviewer)

    response = client.get(url("ranking-progress", team.review))

    text = page_text(response)
    assert "Trained on 1 relevant and 1 irrelevant records" in text
    assert "You: 1 relevant in 2 screened" in text
    # the resolved line rises with a colleague's decision: a review-wide figure (issue 13)
    assert "Resolved (both reviewers or the senior)" not in text
    assertContains(response, '<polyline class="chart-line line--mine"')
    client.force_login(team.senior)
    by_senior = page_text(client.get(url("ranking-progress", team.review)))
    assert "Resolved (both reviewers or the senior): 1 relevant in 1 screened" in by_senior


def test_the_page_says_which_of_my_decisions_the_senior_resolved_otherwise(client, team):
    """The stopping test and the ranking count a resolved record as resolved, the chart's
    line as I decided it: the page says why their relevant counts differ."""
    records = [make_record(team.review, title=f"R {n}") for n in range(4)]
    for record, mine, colleague, final in (
        (records[0], "include", "exclude", "exclude"),
        (records[1], "maybe", "exclude", "exclude"),
        (records[2], "exclude", "include", "include"),
    ):
        screen(record, team.reviewer, mine)
        screen(record, team.owner, colleague)
        adjudicate(record=record, user=team.senior, stage="ta", choice=final)
    screen(records[3], team.reviewer, "include")
    client.force_login(team.reviewer)

    text = page_text(client.get(url("ranking-progress", team.review)))

    assert "You: 3 relevant in 4 screened" in text  # include, maybe, include
    assert "You have screened 4 of 4 records (counting the resolved ones) and found 2" in text
    assert (
        "Counted as the senior author resolved them, not as you decided: 2 records you "
        "included or marked maybe were excluded, and 1 record you excluded was included." in text
    )


def test_the_page_says_nothing_of_the_senior_when_no_decision_was_overruled(client, team, labelled):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("ranking-progress", team.review)))

    assert "You have screened 2 of 10 records" in text and "found 1 relevant" in text
    assert "Counted as the senior author resolved them" not in text


def test_asking_for_a_retrain_runs_one(client, team, labelled, django_capture_on_commit_callbacks):
    screen(labelled[2], team.reviewer, "include")
    client.force_login(team.reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("ranking-retrain", team.review), follow=True)

    assertContains(response, "Your ranking is being retrained")
    newest = RankingJob.objects.order_by("-pk").first()
    assert (newest.trigger, newest.status) == (RankingTrigger.REQUESTED, RankingStatus.SUCCEEDED)
    assert "Trained on 2 relevant and 1 irrelevant records" in page_text(
        client.get(url("ranking-progress", team.review))
    )


def test_a_running_retrain_shows_its_steps_on_the_ranking_page(client, team):
    RankingJob.objects.create(
        review=team.review,
        reviewer=team.reviewer,
        trigger=RankingTrigger.REQUESTED,
        status=RankingStatus.RUNNING,
        claimed_at=timezone.now(),
        progress=2,
        progress_total=4,
        phase="Learning from your decisions",
    )
    client.force_login(team.reviewer)

    response = client.get(url("ranking-progress", team.review))

    assert '<progress id="ranking-progress" max="4" value="2">' in response.content.decode()
    assert "Learning from your decisions 2 of 4 steps done" in page_text(response)


def test_the_stopping_test_against_a_hand_computed_example(client, team):
    """35 records. Before the sample the reviewer screened 25: 19 relevant, 6 not; 10 are
    left. Recall below 95% needs K relevant among the 10 with 19 / (19 + K) < 0.95, i.e.
    K > 1, so K_tar = 2. A random sample of 8 of the 10 that finds none relevant happens,
    with 2 relevant among the 10, with probability C(8, 8) / C(10, 8) = 1 / 45 = 0.0222
    (R: phyper(0, 2, 8, 8) = 0.02222222), below 0.05."""
    records = [make_record(team.review, title=f"Record {n}") for n in range(35)]
    for n, record in enumerate(records[:25]):
        screen(record, team.reviewer, "include" if n < 19 else "exclude")
    client.force_login(team.reviewer)

    client.post(url("ranking-sample", team.review), {"size": "8", "target": "95", "alpha": "0.05"})
    sample = StoppingSample.objects.get()
    drawn = list(sample.entries.select_related("record"))
    queue_first = screening_of(client, team.review).context["record"]
    for entry in drawn:
        screen(entry.record, team.reviewer, "exclude")
    response = client.get(url("ranking-progress", team.review))

    assert queue_first == drawn[0].record  # the sample comes first in the queue
    assert (sample.n_total, sample.n_seen_before, sample.relevant_before) == (35, 25, 19)
    text = page_text(response)
    assert "p = 0.022 for “your recall is below 95%”" in text
    assert (
        "If recall were below 95%, a random sample of 8 of the 10 unscreened records with no "
        "relevant one would happen with probability 0.022 (< 0.05)." in text
    )
    assert "At the 5% level, the data reject the hypothesis that you have found fewer than 95%" in (
        text
    )
    assert "not a guarantee" in text
    assert "you can stop now" not in text.lower()
    assert response.context["progress"].estimate.p_value == pytest.approx(1 / 45, rel=1e-12)


def test_part_of_a_sample_gives_an_interim_p_value_and_no_rejection(client, team):
    records = [make_record(team.review, title=f"Record {n}") for n in range(35)]
    for n, record in enumerate(records[:25]):
        screen(record, team.reviewer, "include" if n < 19 else "exclude")
    services.stopping_sample_draw(review=team.review, user=team.reviewer, size=8, seed=3)
    first = StoppingSample.objects.get().entries.first().record
    screen(first, team.reviewer, "exclude")
    client.force_login(team.reviewer)

    text = page_text(client.get(url("ranking-progress", team.review)))

    # one of the 10 screened, not relevant; K_tar = 2: P = C(8, 1) / C(10, 1) = 0.8
    assert "p = 0.800" in text
    assert "Not enough evidence yet that your recall has reached 95%" in text
    assert "1 of 8 screened" in text
    assert "The p-value uses the part of the sample screened so far." in text


def test_an_empty_review_says_there_is_nothing_to_rank_or_sample_yet(client, team):
    client.force_login(team.reviewer)

    response = client.get(url("ranking-progress", team.review))

    text = page_text(response)
    assert "Nothing to rank or sample yet: no record is in title/abstract screening." in text
    assert "Records to sample" not in text and "a sample of 0 records" not in text
    assert "Draw the sample" not in text
    assert reverse("source-list", args=[team.review.slug]) in response.content.decode()


def test_with_every_record_screened_there_is_nothing_left_to_sample(client, team):
    for n, record in enumerate(make_record(team.review, title=f"R {n}") for n in range(3)):
        screen(record, team.reviewer, "include" if n else "exclude")
    client.force_login(team.reviewer)

    text = page_text(client.get(url("ranking-progress", team.review)))

    assert "You have screened 3 of 3 records" in text and "0 are left." in text
    assert "Nothing left to sample: you have screened every record" in text
    assert "Records to sample" not in text and "a sample of 0 records" not in text


def test_with_records_left_the_sample_form_suggests_a_size(client, team, labelled):
    client.force_login(team.reviewer)

    text = page_text(client.get(url("ranking-progress", team.review)))

    assert "Records to sample" in text and "Draw the sample" in text
    assert "Nothing left to sample" not in text and "Nothing to rank" not in text


def test_a_sample_too_large_is_refused_with_a_message(client, team, labelled):
    client.force_login(team.reviewer)

    response = client.post(
        url("ranking-sample", team.review),
        {"size": "500", "target": "95", "alpha": "0.05"},
        follow=True,
    )

    assertContains(response, "Choose a sample of 1 to 8 records")
    assert not StoppingSample.objects.exists()


def test_a_bad_target_is_refused_naming_the_field(client, team, labelled):
    client.force_login(team.reviewer)

    response = client.post(
        url("ranking-sample", team.review),
        {"size": "3", "target": "20", "alpha": "0.05"},
        follow=True,
    )

    assertContains(response, "Recall target (%):")
    assert not StoppingSample.objects.exists()


def test_screening_page_queries_do_not_grow_with_records_when_ranked(client, team):
    def add(n):
        for i in range(n):
            make_record(team.review, title=f"Inflammatory tumour {i}", abstract="child " * 20)

    def count(path):
        cache.clear()  # cold: the screening counters are counted, not read from the cache
        with CaptureQueriesContext(connection) as context:
            response = client.get(path)
        assert response.status_code == 200
        return len(context.captured_queries)

    records = corpus(team.review)
    screen(records[0], team.reviewer, "include")
    screen(records[1], team.reviewer, "exclude")
    services.ranking_run_now(
        review=team.review, user=team.reviewer, trigger=RankingTrigger.REQUESTED
    )
    client.force_login(team.reviewer)
    path = url("screen-record", team.review, stage="ta", pk=records[2].pk)
    few = (count(path), count(url("ranking-progress", team.review)))
    add(30)
    services.ranking_run_now(
        review=team.review, user=team.reviewer, trigger=RankingTrigger.REQUESTED
    )

    assert (count(path), count(url("ranking-progress", team.review))) == few


def test_the_ranking_card_polls_while_a_retrain_waits_and_answers_its_poll_alone(
    client, team, labelled
):
    client.force_login(team.reviewer)
    waiting = RankingJob.objects.create(
        review=team.review, reviewer=team.reviewer, trigger=RankingTrigger.REQUESTED
    )
    page = client.get(url("ranking-progress", team.review)).content.decode()
    assert 'id="ranking-card"' in page and 'hx-trigger="every 2s"' in page

    poll = client.get(
        url("ranking-progress", team.review),
        headers={"hx-request": "true", "hx-target": "ranking-card"},
    ).content.decode()
    assert "A retrain is waiting to run" in poll
    assert 'id="ranking-retrain"' in poll and 'hx-swap-oob="true"' in poll
    assert "Relevant records found" not in poll  # the card, not the page

    waiting.delete()  # over: the card stops asking
    poll = client.get(
        url("ranking-progress", team.review),
        headers={"hx-request": "true", "hx-target": "ranking-card"},
    ).content.decode()
    assert 'id="ranking-card"' in poll and "every 2s" not in poll
    assert "Retrain my ranking" in poll
