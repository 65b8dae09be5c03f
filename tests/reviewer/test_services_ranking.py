"""Relevance ranking in the app (reviewer.services.ranking): the retrain job, what it learns
from (blinding), when it runs, and the stopping sample."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started

from reviewer.models import (
    RankingJob,
    RankingStatus,
    RankingTrigger,
    Record,
    RelevanceScore,
    Removal,
    Role,
)
from reviewer.ranking import selectors
from reviewer.ranking.engine import Ranker
from reviewer.screening import queries
from reviewer.screening.rules import TA
from reviewer.services import after_response, jobs
from reviewer.services import ranking as services
from reviewer.services.jobs import Claim, claim_job
from reviewer.services.screening import adjudicate
from tests.factories import add_member, make_record, make_review, make_user, screen

pytestmark = pytest.mark.django_db

#: Titles that share words with the includes, and titles that share words with the excludes.
LIKELY_IN = [
    "Inflammatory myofibroblastic tumour of the bladder in children",
    "Paediatric inflammatory myofibroblastic tumour: outcomes after resection",
    "Recurrence of inflammatory myofibroblastic tumour in children after surgery",
    "Inflammatory myofibroblastic tumour of the lung in a paediatric cohort",
    "ALK-positive inflammatory myofibroblastic tumour in children: crizotinib",
]
LIKELY_OUT = [
    "Statin therapy and cardiovascular events in elderly adults",
    "Blood pressure control with statin therapy in adults",
    "Cardiovascular risk of statin therapy in older adults with diabetes",
    "Statin adherence and cardiovascular outcomes in adults",
    "Adults with hypertension: statin therapy and stroke",
]


@pytest.fixture
def review():
    return make_review(title="Pediatric IMT")


def two_reviewers(review):
    return (
        add_member(review, make_user("ann"), Role.REVIEWER).user,
        add_member(review, make_user("ben"), Role.REVIEWER).user,
    )


def corpus(review):
    """Ten records, alternating likely-in and likely-out, in import order."""
    records = []
    for inside, outside in zip(LIKELY_IN, LIKELY_OUT, strict=True):
        records.append(make_record(review, title=inside))
        records.append(make_record(review, title=outside))
    return records


def scores_of(job):
    return dict(job.scores.values_list("record_id", "score"))


# --- the job ---


def test_a_retrain_scores_every_record_from_the_reviewer_s_decisions(review):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[2], ann, "maybe")  # maybe counts as relevant
    screen(records[1], ann, "exclude")

    job = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert job.status == RankingStatus.SUCCEEDED
    assert job.trained
    assert (job.relevant, job.irrelevant, job.records) == (2, 1, 10)
    assert job.labels_fingerprint == selectors.fingerprint(
        {records[0].pk: True, records[2].pk: True, records[1].pk: False}
    )
    assert job.finished_at is not None and job.total_seconds > 0
    ranks = sorted(job.scores.values_list("rank", flat=True))
    assert ranks == list(range(1, 11))
    scores = scores_of(job)
    # the likely includes outrank every likely exclude
    assert min(scores[r.pk] for r in records[::2]) > max(scores[r.pk] for r in records[1::2])


def test_a_retrain_counts_its_steps_on_the_row_as_it_goes(review, monkeypatch):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    job = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.REQUESTED, enqueue=False
    )
    seen = []
    write = Claim.write

    def watched(claim, **fields):  # the real write, and what the row then says
        write(claim, **fields)
        row = RankingJob.objects.get(pk=claim.pk)
        if row.is_running:
            seen.append((row.phase, row.progress, row.progress_total, row.progress_known))

    monkeypatch.setattr(Claim, "write", watched)
    services.ranking_job_run(job_id=job.pk)

    assert seen == [
        ("Reading the records and your decisions", 0, 4, True),
        ("Reading the records' words", 1, 4, True),
        ("Learning from your decisions", 2, 4, True),
        ("Saving the scores", 3, 4, True),
    ]
    job.refresh_from_db()
    assert job.status == RankingStatus.SUCCEEDED and job.phase == ""


def test_a_retrain_cancelled_while_it_runs_stops_at_its_next_step_and_keeps_nothing(
    review, monkeypatch
):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    job = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.REQUESTED, enqueue=False
    )
    reached = []
    train = services.Ranker.train

    def cancelled_meanwhile(ranker, *args, **kwargs):  # the owner cancels as it learns
        jobs.job_cancel(job=RankingJob.objects.get(pk=job.pk), user=ann)
        reached.append("trained")
        return train(ranker, *args, **kwargs)

    monkeypatch.setattr(services.Ranker, "train", cancelled_meanwhile)
    services.ranking_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert reached == ["trained"]
    assert job.status == RankingStatus.CANCELLED
    assert not RelevanceScore.objects.filter(job=job).exists()


def test_a_job_delivered_twice_runs_once(review):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    job = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.DECISIONS, enqueue=False
    )

    services.ranking_job_run(job_id=job.pk)
    finished_at = RankingJob.objects.get(pk=job.pk).finished_at
    services.ranking_job_run(job_id=job.pk)  # a duplicate delivery

    job.refresh_from_db()
    assert job.status == RankingStatus.SUCCEEDED
    assert job.finished_at == finished_at
    assert RelevanceScore.objects.filter(job=job).count() == 10


def test_a_job_another_worker_holds_is_left_alone(review):
    ann, _ = two_reviewers(review)
    corpus(review)
    job = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.DECISIONS, enqueue=False
    )
    assert claim_job(RankingJob, job.pk) is not None  # a worker took it a moment ago

    services.ranking_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == RankingStatus.RUNNING
    assert not job.scores.exists()


def test_requests_while_one_waits_join_it(review):
    ann, ben = two_reviewers(review)
    first = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.DECISIONS, enqueue=False
    )
    again = services.ranking_job_request(
        review=review, user=ann, trigger=RankingTrigger.REQUESTED, enqueue=False
    )
    other = services.ranking_job_request(
        review=review, user=ben, trigger=RankingTrigger.REQUESTED, enqueue=False
    )

    assert again == first
    assert other != first
    assert RankingJob.objects.filter(review=review).count() == 2


def test_too_few_labels_trains_nothing_and_says_why(review):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[2], ann, "include")

    job = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert job.status == RankingStatus.SUCCEEDED
    assert not job.trained
    assert (job.relevant, job.irrelevant) == (2, 0)
    assert "at least one relevant and one irrelevant" in job.reason
    assert not job.scores.exists()
    state = selectors.ranking_state(review, ann)
    assert not state.trained
    assert "2 relevant, 0 irrelevant so far" in state.reason


def test_a_failed_retrain_says_why_and_the_previous_ranking_stays(review, monkeypatch):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    before = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    def broken(self, labels, *, seed=0, query=None):
        raise MemoryError("out of memory while fitting")

    monkeypatch.setattr(services.Ranker, "train", broken)  # a fault no real input causes
    failed = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert failed.status == RankingStatus.FAILED
    assert "MemoryError: out of memory while fitting" in failed.error
    assert "previous ranking stays in use" in failed.error
    state = selectors.ranking_state(review, ann)
    assert state.current == before
    assert state.failed == failed
    assert before.scores.count() == 10


def test_the_newest_ranking_and_the_one_before_keep_their_scores(review):
    """The page reads only the newest, but a request that read which one just before the
    next finished walks the one before for a moment more: its walk must still find the
    records waiting, in its order. The ones before that go."""
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    first = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    first_walk = queries.ranked_waiting(
        queries.members(review, ann, TA), ann, TA, first.pk, after=0, count=4
    )
    screen(records[2], ann, "include")
    second = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert first.scores.count() == 10
    assert second.scores.count() == 10
    assert (second.relevant, second.irrelevant) == (2, 1)
    # a walk of the first ranking, as a request that read it before the second finished
    walked = queries.ranked_waiting(
        queries.members(review, ann, TA), ann, TA, first.pk, after=0, count=3
    )
    assert [pk for _, pk, _ in walked] == [pk for _, pk, _ in first_walk if pk != records[2].pk][:3]

    screen(records[3], ann, "exclude")
    third = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert not first.scores.exists()
    assert second.scores.count() == 10
    assert third.scores.count() == 10


def engine_ranking(review, user):
    """(record, score, rank) as the engine ranks the review's records for `user`, without
    the app's plumbing (its cache, its reading of the records, its storing)."""
    records = services.rank_inputs(review)
    ranking = Ranker(records).train(
        selectors.labels(review, user), seed=0, query=selectors.review_query(review)
    )
    order = ranking.order([record.id for record in records])
    return [(pk, ranking.scores[pk], rank) for rank, pk in enumerate(order, start=1)]


def stored_ranking(job):
    return list(job.scores.order_by("rank").values_list("record_id", "score", "rank"))


def test_the_stored_scores_and_ranks_are_exactly_the_engine_s(review):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    screen(records[3], ann, "exclude")

    job = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert stored_ranking(job) == engine_ranking(review, ann)  # the same floats, the same order


def test_cached_features_serve_until_a_record_s_text_changes(review, monkeypatch):
    monkeypatch.setattr(services, "_features", OrderedDict())
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    first = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    screen(records[2], ann, "include")
    second = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    assert first.vectorise_seconds > 0  # read and vectorised
    assert second.vectorise_seconds == 0  # the same records and text: cached
    assert stored_ranking(second) == engine_ranking(review, ann)

    # a record's text changes: its features are read again, and the scores follow
    Record.objects.filter(pk=records[9].pk).update(
        abstract="Inflammatory myofibroblastic tumour in children treated with crizotinib"
    )
    third = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    assert third.vectorise_seconds > 0
    assert stored_ranking(third) == engine_ranking(review, ann)
    assert stored_ranking(third) != stored_ranking(second)

    Record.objects.filter(pk=records[7].pk).update(keywords=["paediatric", "crizotinib"])
    fourth = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    assert fourth.vectorise_seconds > 0  # keywords are text the ranker reads too
    assert stored_ranking(fourth) == engine_ranking(review, ann)

    make_record(review, title="Crizotinib in paediatric inflammatory myofibroblastic tumour")
    fifth = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)
    assert fifth.vectorise_seconds > 0 and fifth.records == 11  # a new record: read again
    assert stored_ranking(fifth) == engine_ranking(review, ann)


def test_removed_records_and_duplicates_are_not_ranked(review):
    ann, _ = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    Removal.objects.create(review=review, record=records[9], reason="1985", removed_by=ann)
    records[8].duplicate_of = records[0]
    records[8].save()

    job = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert job.records == 8
    assert not job.scores.filter(record__in=[records[8], records[9]]).exists()


# --- blinding ---


def test_a_colleague_s_open_decisions_never_reach_my_ranking(review):
    """Ben's ranking, scores and fingerprint stay exactly the same while Ann decides
    records Ben has not decided (still open): a model that used Ann's decisions would
    change, since Ann labels the records the other way round."""
    ann, ben = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ben, "include")
    screen(records[1], ben, "exclude")
    before = services.ranking_run_now(review=review, user=ben, trigger=RankingTrigger.REQUESTED)
    scores_before = scores_of(before)
    ann_before = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    for inside, outside in zip(records[2::2], records[3::2], strict=True):
        screen(inside, ann, "exclude")  # the opposite of what the words suggest
        screen(outside, ann, "include")
    after = services.ranking_run_now(review=review, user=ben, trigger=RankingTrigger.REQUESTED)
    ann_after = services.ranking_run_now(review=review, user=ann, trigger=RankingTrigger.REQUESTED)

    assert after.labels_fingerprint == before.labels_fingerprint
    assert (after.relevant, after.irrelevant) == (1, 1)
    assert scores_of(after) == scores_before
    # Ann's own ranking did learn from her decisions
    assert ann_after.labels_fingerprint != ann_before.labels_fingerprint
    assert ann_after.relevant == 4


def test_resolved_records_teach_every_reviewer(review):
    ann, ben = two_reviewers(review)
    carol = add_member(review, make_user("carol"), Role.SENIOR).user
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[0], ben, "maybe")  # agreed: relevant
    screen(records[1], ann, "exclude")
    screen(records[1], ben, "exclude")  # agreed: irrelevant
    screen(records[2], ann, "include")
    screen(records[2], ben, "exclude")  # a conflict: open until carol decides
    assert selectors.labels(review, carol) == {records[0].pk: True, records[1].pk: False}

    adjudicate(record=records[2], user=carol, stage="ta", choice="exclude")

    assert selectors.labels(review, carol)[records[2].pk] is False
    assert selectors.labels(review, ann)[records[2].pk] is False  # the outcome, not her include


def test_in_a_conflict_each_reviewer_learns_their_own_call(review):
    ann, ben = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[0], ben, "exclude")

    assert selectors.labels(review, ann) == {records[0].pk: True}
    assert selectors.labels(review, ben) == {records[0].pk: False}


# --- when it runs ---


def decide_each(records, user, choices, capture):
    """One decision per record, each committed (and its retrain run) before the next."""
    for record, choice in zip(records, choices, strict=True):
        with capture(execute=True):
            screen(record, user, choice)


def test_the_first_retrain_comes_once_it_can_learn_then_every_fifth_new_decision(
    review, settings, django_capture_on_commit_callbacks
):
    settings.RANKING_RETRAIN_EVERY = 5
    ann, ben = two_reviewers(review)
    records = corpus(review)
    ins = [r for r in records if r.title in LIKELY_IN]
    outs = [r for r in records if r.title in LIKELY_OUT]
    decide_each(ins[:4], ann, ["include"] * 4, django_capture_on_commit_callbacks)
    decide_each(outs[:1], ben, ["exclude"], django_capture_on_commit_callbacks)
    assert not RankingJob.objects.filter(reviewer=ann).exists()  # nothing to learn from yet

    decide_each(outs[:1], ann, ["exclude"], django_capture_on_commit_callbacks)

    job = RankingJob.objects.get(reviewer=ann)
    assert job.trigger == RankingTrigger.DECISIONS
    assert job.status == RankingStatus.SUCCEEDED  # eager: run once the decision committed
    assert (job.relevant, job.irrelevant) == (4, 1)

    decide_each(outs[1:5], ann, ["exclude"] * 4, django_capture_on_commit_callbacks)
    assert RankingJob.objects.filter(reviewer=ann).count() == 1  # four new: not yet
    decide_each(ins[4:5], ann, ["include"], django_capture_on_commit_callbacks)
    latest = RankingJob.objects.filter(reviewer=ann).order_by("pk").last()
    assert (latest.relevant, latest.irrelevant) == (5, 5)


def test_retrains_never_pile_up_and_the_waiting_one_learns_from_every_decision(
    review, settings, django_capture_on_commit_callbacks
):
    """The bug of issue 16: after a retrain, the next ones were refused for 30 s, so a fast
    screener's ranking stayed on its first five decisions. Now requests join the waiting
    job, which reads the labels when it starts."""
    settings.RANKING_RETRAIN_EVERY = 2
    ann, _ = two_reviewers(review)
    records = corpus(review)
    with django_capture_on_commit_callbacks(execute=True):
        for record in records[:8]:  # nothing runs until the block ends: all join one job
            screen(record, ann, "include" if record.title in LIKELY_IN else "exclude")
    job = RankingJob.objects.get()
    assert (job.status, job.relevant + job.irrelevant) == (RankingStatus.SUCCEEDED, 8)

    decide_each(
        records[8:10], ann, ["include", "exclude"], django_capture_on_commit_callbacks
    )  # two more, seconds later: a new retrain, not refused
    latest = RankingJob.objects.order_by("pk").last()
    assert RankingJob.objects.count() == 2
    assert latest.relevant + latest.irrelevant == 10


def test_changing_a_decision_does_not_count_as_a_new_one(
    review, settings, django_capture_on_commit_callbacks
):
    settings.RANKING_RETRAIN_EVERY = 2
    ann, _ = two_reviewers(review)
    records = corpus(review)
    with django_capture_on_commit_callbacks(execute=True):
        screen(records[0], ann, "include")
        screen(records[0], ann, "exclude")
        screen(records[0], ann, "maybe")
    assert not RankingJob.objects.exists()


def test_work_queued_in_a_request_runs_after_its_response():
    done = []
    request_started.send(sender=None)
    after_response.run_after_response(lambda: done.append("retrained"))
    assert done == []  # the response is still being made

    request_finished.send(sender=None)

    assert done == ["retrained"]
    after_response.run_after_response(lambda: done.append("outside a request"))
    assert done == ["retrained", "outside a request"]


def test_a_failure_after_the_response_is_logged_not_raised(caplog):
    request_started.send(sender=None)
    after_response.run_after_response(lambda: 1 / 0)

    request_finished.send(sender=None)

    assert "failed" in caplog.text


# --- the stopping sample ---


def test_a_sample_is_drawn_from_the_records_i_have_not_screened(review):
    ann, ben = two_reviewers(review)
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[1], ann, "exclude")
    screen(records[2], ben, "include")  # ben's open decision: still unscreened for ann

    sample = services.stopping_sample_draw(review=review, user=ann, size=4, seed=7)

    drawn = list(sample.entries.values_list("record_id", flat=True))
    assert len(drawn) == 4
    assert not {records[0].pk, records[1].pk} & set(drawn)
    assert (sample.n_total, sample.n_seen_before, sample.relevant_before) == (10, 2, 1)
    assert (sample.target, sample.alpha, sample.seed) == (0.95, 0.05, 7)
    again = services.stopping_sample_draw(review=review, user=ann, size=4, seed=7)
    assert list(again.entries.values_list("record_id", flat=True)) == drawn  # seeded


def test_a_sample_larger_than_what_is_left_is_refused(review):
    ann, _ = two_reviewers(review)
    corpus(review)

    with pytest.raises(ValidationError, match="1 to 10 records"):
        services.stopping_sample_draw(review=review, user=ann, size=11)
    assert not ann.stopping_samples.exists()


def test_in_a_blinded_review_a_third_reviewer_does_not_learn_what_two_colleagues_agreed(review):
    # blinding (issue 21, item 8): agreed and disputed records look alike to her
    ann, ben = two_reviewers(review)
    cleo = add_member(review, make_user("cleo"), Role.REVIEWER).user
    records = corpus(review)
    screen(records[0], ann, "include")
    screen(records[0], ben, "include")  # agreed by two colleagues
    screen(records[1], cleo, "exclude")

    assert selectors.labels(review, cleo) == {records[1].pk: False}
    review.blinded = False
    review.save(update_fields=["blinded"])
    assert selectors.labels(review, cleo) == {records[0].pk: True, records[1].pk: False}
