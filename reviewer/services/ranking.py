"""Relevance ranking in the app: retrain a reviewer's model in the background, store its
scores; draw the random samples of the stopping test.

The engine (`reviewer.ranking.engine`) is pure; this module feeds it a review's records
and the labels one reviewer may learn from (`reviewer.ranking.selectors.labels`: their
own title/abstract decisions plus the resolved records, never a colleague's open
decision; see `reviewer.models.ranking`), and stores what comes out.

When: after every `RANKING_RETRAIN_EVERY` title/abstract decisions of a reviewer
(`ranking_after_decision`, called by `screening.decide`) and when they ask on the ranking
page. A request while a retrain is already waiting joins it (one queued job per reviewer,
a database constraint). The screening page only ever reads the newest finished ranking,
so it never waits for one.

Eager mode (no broker): the task runs in the web process's background thread
(`background`), never in a request's thread, so deciding stays as fast as without ranking.

The text features of a review's records are the slow part of a retrain (about 5 s at
20,000 records; the model itself takes well under a second). Each process keeps the
features of the last `FEATURE_CACHE_SIZE` record sets it ranked, keyed by a digest of the
records' ids and text, so the next retrain of the same records — the usual case — skips
that step; any change of text or records changes the digest. The database hashes each
record's text, so such a retrain reads ids and digests, not the abstracts, and stores its
scores by COPY on PostgreSQL (`bench/ranking_retrain_cost.py`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Literal

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, TextField, Value
from django.db.models.functions import MD5, Cast, Concat
from django.utils import timezone

from reviewer.models import (
    Decision,
    Membership,
    RankingJob,
    RankingMethod,
    RankingStatus,
    RankingTrigger,
    RelevanceScore,
    Review,
    SampledRecord,
    StoppingSample,
    User,
)
from reviewer.ranking.engine import Ranker, RankInput, RecordId
from reviewer.ranking.selectors import RELEVANT_CHOICES, fingerprint, labels, review_query
from reviewer.ranking.stopping import DEFAULT_ALPHA, DEFAULT_TARGET
from reviewer.screening.queries import eligible
from reviewer.screening.rules import TA
from reviewer.services import background
from reviewer.services.jobs import Claim, job_is_undelivered, job_send_now, run_claimed

logger = logging.getLogger(__name__)

FEATURE_CACHE_SIZE = 2
#: How much a retrain yields the CPU to requests (added to the thread's nice value).
RETRAIN_NICENESS = 10
_features: OrderedDict[tuple[int, str], Ranker] = OrderedDict()
_features_lock = threading.Lock()


# --- asking for a retrain ---


def ranking_job_request(
    *,
    review: Review,
    user: User,
    trigger: str,
    enqueue: bool = True,
    waiting: RankingJob | None = None,
) -> RankingJob:
    """Queue a retrain of `user`'s ranking in `review`, or join the one already waiting
    (`waiting`: that job, when the caller has just read it as waiting)."""
    if waiting is None:
        waiting = RankingJob.objects.filter(
            review=review, reviewer=user, status=RankingStatus.QUEUED
        ).first()
    if waiting is not None:
        if enqueue and (job_is_undelivered(waiting) or _lost_in_this_process(waiting)):
            transaction.on_commit(lambda: _dispatch(waiting))  # its message was lost: send again
        return waiting
    try:
        with transaction.atomic():
            job = RankingJob.objects.create(review=review, reviewer=user, trigger=trigger)
    except IntegrityError:  # another request queued one a moment ago
        return RankingJob.objects.get(review=review, reviewer=user, status=RankingStatus.QUEUED)
    if enqueue:
        transaction.on_commit(lambda: _dispatch(job))
    return job


def _lost_in_this_process(job: RankingJob) -> bool:
    """Without a broker a waiting job runs in this process's background thread soon after
    it was queued, so one still waiting after `RANKING_RETRAIN_AFTER_SECONDS` was lost (the
    server stopped before it ran); sending it again does no harm: the background thread
    keeps one pending run per reviewer, and the claim lets only one through."""
    cutoff = timezone.now() - timedelta(seconds=settings.RANKING_RETRAIN_AFTER_SECONDS)
    return bool(current_app.conf.task_always_eager) and job.created_at < cutoff


def _dispatch(job: RankingJob) -> None:
    from reviewer import tasks

    if current_app.conf.task_always_eager:  # no worker: this process's background thread
        job_id = job.pk
        key = ("ranking", job.review_id, job.reviewer_id)
        background.submit(key, lambda: tasks.retrain_ranking.delay(job_id=job_id))
    else:
        job_send_now(job)


def ranking_after_decision(
    *, review: Review, user: User, newest: RankingJob | Literal[False] | None = False
) -> RankingJob | None:
    """After a new title/abstract decision of `user`: ask for a retrain when their ranking
    has fallen behind, so it never lags far while they screen.

    Behind means: `RANKING_RETRAIN_EVERY` or more of their decisions came after the labels
    of their newest job were read (a running job read them when it was claimed; a waiting
    one reads them when it starts, so it covers every decision and is joined); or at least
    one did and that read is `RANKING_RETRAIN_AFTER_SECONDS` old; or the newest job could
    not learn yet (no relevant or no irrelevant decision) and now it could. Requests never
    pile up: one waiting job per reviewer, which the next requests join, and a running one.
    """
    if newest is False:  # not read by the request already (`selectors.RankingState.newest`)
        newest = (
            RankingJob.objects.filter(review=review, reviewer=user)
            .order_by("-pk")
            .only("pk", "status", "method", "error", "created_at", "claimed_at")
            .first()
        )
    if newest is not None and newest.status == RankingStatus.QUEUED:
        # it reads the labels when it starts: nothing to add, unless its message was lost
        # (were it claimed since it was read, its labels were read then: the next
        # decision finds it running and one behind)
        return ranking_job_request(
            review=review, user=user, trigger=RankingTrigger.DECISIONS, waiting=newest
        )
    mine = Decision.objects.filter(review=review, stage=TA, reviewer=user)
    if newest is None:  # the first: by the review's question, or once it can learn
        waited = (
            mine.order_by()[: settings.RANKING_RETRAIN_EVERY].count()
            >= settings.RANKING_RETRAIN_EVERY
        )
        if not (waited or review_query(review) or _both_classes(mine)):
            return None
    else:
        read_at = newest.claimed_at or newest.created_at
        # counted up to what matters (an index range: `decision_user_review_stage_at`)
        behind = (
            mine.filter(created_at__gt=read_at).order_by()[: settings.RANKING_RETRAIN_EVERY].count()
        )
        old = timezone.now() - timedelta(seconds=settings.RANKING_RETRAIN_AFTER_SECONDS)
        fresh_enough = behind < settings.RANKING_RETRAIN_EVERY and not (behind and read_at < old)
        # a finished job that could not learn: learn as soon as there is something to
        # learn from (a running one's outcome is not known yet; a failed one is retried by
        # the next regular retrain, not on every decision)
        can_learn_now = (
            behind > 0
            and newest.status == RankingStatus.SUCCEEDED
            and newest.method != RankingMethod.LEARNT
            and _both_classes(mine)
        )
        if fresh_enough and not can_learn_now:
            return None
    return ranking_job_request(review=review, user=user, trigger=RankingTrigger.DECISIONS)


def ranking_for_members(
    *,
    review: Review,
    trigger: str,
    users: list[User] | None = None,
    unlearnt_only: bool = False,
    labels_changed: bool = False,
) -> list[RankingJob]:
    """Queue a retrain for every member of `review` (or `users`): after an import (new
    records need scores, and before the first decision the question ranks them), when the
    review's question changes (`unlearnt_only`: rankings that learnt ignore it), for a
    new member, or when what a member may learn from changed (`labels_changed`: the
    blinding or their role; they may have enough labels now, with no ranking before).
    Nothing when the review has no records to screen yet."""
    if not eligible(review, TA).exists():
        return []
    members = (
        users if users is not None else [m.user for m in review.memberships.select_related("user")]
    )
    by_question = bool(review_query(review))
    jobs = []
    for user in members:
        latest = (
            RankingJob.objects.filter(review=review, reviewer=user, status=RankingStatus.SUCCEEDED)
            .order_by("-pk")
            .only("trained", "method")
            .first()
        )
        learnt = latest is not None and latest.method == RankingMethod.LEARNT
        if unlearnt_only and learnt:
            continue  # the question is no longer what it ranks by
        if not (by_question or labels_changed or (latest and latest.trained)):
            continue  # nothing to rank by
        jobs.append(ranking_job_request(review=review, user=user, trigger=trigger))
    return jobs


def ranking_for_new_member(*, membership: Membership) -> list[RankingJob]:
    """The start every member gets, however they joined (added by name, by invitation, on
    the review's restore): their own ranking at once, by the review's question until they
    can learn from their decisions, so their queue is ordered before their first one."""
    return ranking_for_members(
        review=membership.review, trigger=RankingTrigger.JOINED, users=[membership.user]
    )


def ranking_after_role_change(*, membership: Membership, was_senior: bool) -> list[RankingJob]:
    """After a member's role changed: in a blinded review a senior learns from the records
    two reviewers agreed on and a reviewer does not (`selectors.labels`), so a move across
    that line changes what their ranking may learn from; it is retrained at once."""
    review = membership.review
    if not review.blinded or was_senior == membership.is_senior:
        return []
    return ranking_for_members(
        review=review, trigger=RankingTrigger.ROLE, users=[membership.user], labels_changed=True
    )


#: The review's fields the ranking reads before it can learn (`selectors.review_query`).
QUESTION_FIELDS = frozenset({"question", "criteria", "highlight_include", "highlight_exclude"})


def ranking_after_settings(*, review: Review, changed: Iterable[str]) -> list[RankingJob]:
    """After the review's settings were saved: when its question, criteria or highlight
    terms changed, re-rank for the members whose ranking has not learnt yet; when its
    blinding changed, for the reviewers below senior, whose labels it changes (the records
    two colleagues agreed on: `selectors.labels`)."""
    changed = set(changed)
    jobs = []
    if "blinded" in changed:
        reviewers = [m.user for m in review.memberships.select_related("user") if not m.is_senior]
        jobs += ranking_for_members(
            review=review, trigger=RankingTrigger.BLINDING, users=reviewers, labels_changed=True
        )
    if QUESTION_FIELDS.intersection(changed):
        asked = {job.pk for job in jobs}
        jobs += [
            job
            for job in ranking_for_members(
                review=review, trigger=RankingTrigger.QUESTION, unlearnt_only=True
            )
            if job.pk not in asked  # a reviewer's waiting job is joined, not listed twice
        ]
    return jobs


def _both_classes(decisions: QuerySet[Decision]) -> bool:
    """A relevant (include, maybe) and an irrelevant (exclude) decision among these."""
    return (
        decisions.filter(choice__in=RELEVANT_CHOICES).exists()
        and decisions.exclude(choice__in=RELEVANT_CHOICES).exists()
    )


def ranking_run_now(*, review: Review, user: User, trigger: str) -> RankingJob:
    """Retrain in this process, now (the demo, the bench)."""
    job = ranking_job_request(review=review, user=user, trigger=trigger, enqueue=False)
    ranking_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


# --- running one ---


def _row_digest() -> MD5:
    """A record's text as the ranker reads it, hashed by the database (so a retrain whose
    features are cached reads 32 characters a record, not its abstract)."""
    return MD5(
        Concat(
            "title",
            Value("\x1f"),
            "abstract",
            Value("\x1f"),
            Cast("keywords", TextField()),
            output_field=TextField(),
        )
    )


def _digest(rows: Iterable[tuple[int, str]]) -> str:
    """SHA-256 of the (record id, text digest) pairs: equal exactly when the records ranked
    and their text are."""
    digest = hashlib.sha256()
    for pk, text_digest in rows:
        digest.update(f"{pk}\x1f{text_digest}\x1e".encode())
    return digest.hexdigest()


def rank_inputs(review: Review) -> list[RankInput]:
    """The records in title/abstract screening as the ranker reads them."""
    return _rank_inputs_and_digest(review)[0]


def _rank_inputs_and_digest(review: Review) -> tuple[list[RankInput], str]:
    rows = list(
        eligible(review, TA)
        .order_by("pk")
        .annotate(text_digest=_row_digest())
        .values_list("pk", "title", "abstract", "keywords", "text_digest")
        .iterator(chunk_size=5000)
    )
    records = [
        RankInput(
            id=pk,
            title=title,
            abstract=abstract,
            keywords=tuple(str(k) for k in keywords or ()),
        )
        for pk, title, abstract, keywords, _ in rows
    ]
    return records, _digest((row[0], row[4]) for row in rows)


def _ranker(review: Review) -> tuple[Ranker, bool]:
    """The features of the review's records, from this process's cache when the records
    and their text are unchanged: then only their ids and text digests are read."""
    key = (
        review.pk,
        _digest(
            eligible(review, TA)
            .order_by("pk")
            .annotate(text_digest=_row_digest())
            .values_list("pk", "text_digest")
            .iterator(chunk_size=5000)
        ),
    )
    with _features_lock:
        cached = _features.get(key)
        if cached is not None:
            _features.move_to_end(key)
            return cached, True
    # not cached: read the text, with its digest again (the records may have changed since)
    records, digest = _rank_inputs_and_digest(review)
    ranker = Ranker(records)
    key = (review.pk, digest)
    with _features_lock:
        _features[key] = ranker
        while len(_features) > FEATURE_CACHE_SIZE:
            _features.popitem(last=False)
    return ranker, False


def scores_store(job_id: int, ordered: list[tuple[RecordId, float]]) -> None:
    """Store a ranking's scores, most relevant first (rank 1). On PostgreSQL by COPY (a
    fifth of the cost of INSERTs at 20,000 records: `bench/ranking_retrain_cost.py`);
    elsewhere through the ORM. Call inside the job's transaction."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(RelevanceScore._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} (job_id, record_id, score, rank) FROM STDIN") as copy,
        ):
            for rank, (pk, score) in enumerate(ordered, start=1):
                copy.write_row((job_id, pk, score, rank))
        return
    RelevanceScore.objects.bulk_create(
        (
            RelevanceScore(job_id=job_id, record_id=pk, score=score, rank=rank)
            for rank, (pk, score) in enumerate(ordered, start=1)
        ),
        batch_size=5000,
    )


@contextmanager
def _background_priority() -> Iterator[None]:
    """Run the block at a lower CPU priority (Linux: this thread only), so that a retrain
    never takes the CPU from the screening pages served beside it; then restore it."""
    thread = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(before + RETRAIN_NICENESS, 19))
    except (AttributeError, OSError):  # not Linux, or not allowed: run as is
        yield
        return
    try:
        yield
    finally:
        with suppress(OSError):  # lowering niceness again needs a privilege a worker may lack
            os.setpriority(os.PRIO_PROCESS, thread, before)


def ranking_job_run(*, job_id: int) -> None:
    """Train and store one reviewer's ranking. Run by the `retrain_ranking` task."""
    with _background_priority():
        _run(job_id)


#: A retrain's steps, as its progress counts them (`Claim.progress`: the steps done of these,
#: and the one under way). The engine's own steps are single calls, so a step is the unit.
RETRAIN_STEPS = (
    "Reading the records and your decisions",
    "Reading the records' words",
    "Learning from your decisions",
    "Saving the scores",
)


def _run(job_id: int) -> None:
    def run(claim: Claim) -> None:
        def step(done: int) -> None:
            claim.progress(done, len(RETRAIN_STEPS), RETRAIN_STEPS[done])

        job = RankingJob.objects.select_related("review", "reviewer").get(pk=job_id)
        step(0)
        tick = time.perf_counter()
        known = labels(job.review, job.reviewer)
        load_seconds = time.perf_counter() - tick

        step(1)
        tick = time.perf_counter()
        ranker, cached = _ranker(job.review)  # reads the records (their text when not cached)
        reading = time.perf_counter() - tick
        load_seconds += reading if cached else 0.0
        vectorise_seconds = 0.0 if cached else reading
        ranked = set(ranker.ids)
        known = {pk: value for pk, value in known.items() if pk in ranked}
        engine_labels: dict[RecordId, bool] = {pk: value for pk, value in known.items()}

        step(2)
        tick = time.perf_counter()
        # a fixed seed: the same labels always give the same scores
        ranking = ranker.train(engine_labels, seed=0, query=review_query(job.review))
        train_seconds = time.perf_counter() - tick

        step(3)
        tick = time.perf_counter()
        with transaction.atomic():
            if ranking.trained:
                scores_store(job_id, [(pk, ranking.scores[pk]) for pk in ranking.order(ranker.ids)])
            relevant = sum(known.values())
            claim.finish(
                trained=ranking.trained,
                method=ranking.method,
                reason=ranking.reason,
                records=len(ranker.ids),
                relevant=relevant,
                irrelevant=len(known) - relevant,
                labels_fingerprint=fingerprint(known),
                load_seconds=load_seconds,
                vectorise_seconds=vectorise_seconds,
                train_seconds=train_seconds,
            )
            # Only the newest finished ranking is read, but a request that read which one
            # just before this one finished walks the one before for a few milliseconds
            # more: its scores stay until the next ranking finishes, older ones go.
            # (Deleting them at once sent 1 request in 20 at 20,000 records down the
            # whole-queue fallback, 60-190 ms: `bench/screening_latency.py --direct`.)
            mine = RankingJob.objects.filter(
                review_id=job.review_id, reviewer_id=job.reviewer_id, pk__lt=job_id
            )
            previous = (
                mine.filter(status=RankingStatus.SUCCEEDED, trained=True)
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
            if previous is not None:
                older = mine.filter(pk__lt=previous).values("pk")
                RelevanceScore.objects.filter(job_id__in=older).delete()
        RankingJob.objects.filter(pk=job_id).update(store_seconds=time.perf_counter() - tick)

    run_claimed(
        RankingJob,
        job_id,
        run,
        failed=lambda error: (
            f"Unexpected error ({type(error).__name__}: {error}). The previous ranking "
            "stays in use."
        ),
        label=f"Ranking job {job_id}",
    )


# --- the stopping test's random sample ---


def stopping_sample_draw(
    *,
    review: Review,
    user: User,
    size: int,
    target: float = DEFAULT_TARGET,
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = None,
) -> StoppingSample:
    """Draw `size` records at random from those `user` has not screened yet, and keep them
    (in their random order) as the reviewer's current sample. The seed is stored, so the
    draw can be repeated and checked."""
    if not review.memberships.filter(user=user).exists():
        raise ValidationError(f"{user.display_name()} is not a member of this review.")
    if not 0.5 <= target < 1:
        raise ValidationError("Choose a recall target between 50% and 99.9%.")
    if not 0 < alpha <= 0.2:
        raise ValidationError("Choose a significance level between 0 and 0.2.")
    known = labels(review, user)
    screened = sorted(eligible(review, TA).values_list("pk", flat=True))
    pool = [pk for pk in screened if pk not in known]
    if not pool:
        raise ValidationError("You have screened every record: there is nothing left to sample.")
    if not 1 <= size <= len(pool):
        raise ValidationError(
            f"Choose a sample of 1 to {len(pool):,} records (the records you have not screened)."
        )
    seed = secrets.randbits(32) if seed is None else seed
    chosen = random.Random(seed).sample(pool, size)
    with transaction.atomic():
        sample = StoppingSample.objects.create(
            review=review,
            reviewer=user,
            seed=seed,
            target=target,
            alpha=alpha,
            n_total=len(screened),
            n_seen_before=len(screened) - len(pool),
            relevant_before=sum(known.values()),
        )
        SampledRecord.objects.bulk_create(
            SampledRecord(sample=sample, record_id=pk, position=n)
            for n, pk in enumerate(chosen, start=1)
        )
    return sample
