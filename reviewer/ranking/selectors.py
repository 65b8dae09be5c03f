"""Reads for the relevance ranking and the stopping test (the engine modules stay pure).

Blinding lives in `labels`: what a reviewer's model learns from and what their stopping
test counts are that reviewer's own title/abstract decisions plus the outcome of records
a senior adjudicated at title/abstract (and, for seniors or in an unblinded review, of
records two reviewers agreed on), as `rules.may_see_other_decisions` lets her see them. Another
reviewer's decision on a record still open never enters.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, QuerySet, Subquery

from reviewer.models import (
    Adjudication,
    Choice,
    Decision,
    RankingJob,
    RankingStatus,
    RelevanceScore,
    Review,
    StoppingSample,
    User,
)
from reviewer.prepared import Prepared
from reviewer.ranking.curve import Chart, chart
from reviewer.ranking.engine import QUESTION, Query
from reviewer.ranking.stopping import StoppingEstimate, recall_test, sample_size_to_stop
from reviewer.screening.queries import eligible
from reviewer.screening.rules import TA, State, may_see_other_decisions, title_abstract

RELEVANT_CHOICES = frozenset({Choice.INCLUDE, Choice.MAYBE})


def _ta_rows(review: Review) -> tuple[dict[int, list[tuple[int, str]]], dict[int, str]]:
    decisions: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for record_id, reviewer_id, choice in Decision.objects.filter(
        review=review, stage=TA
    ).values_list("record_id", "reviewer_id", "choice"):
        decisions[record_id].append((reviewer_id, choice))
    adjudicated = dict(
        Adjudication.objects.filter(review=review, stage=TA).values_list("record_id", "choice")
    )
    return decisions, adjudicated


def resolved_outcome(choices: list[str], adjudicated: str | None) -> bool | None:
    """A record's title/abstract outcome once resolved (relevant?), else None."""
    state = title_abstract(choices, adjudicated)
    if state is State.TA_EXCLUDED:
        return False
    if state is State.FT_SOUGHT:
        return True
    return None


def resolved_outcomes(review: Review) -> dict[int, bool]:
    """record id -> relevant?, for the records resolved at title/abstract."""
    decisions, adjudicated = _ta_rows(review)
    found = {}
    for record_id in set(decisions) | set(adjudicated):
        choices = [choice for _, choice in decisions.get(record_id, [])]
        outcome = resolved_outcome(choices, adjudicated.get(record_id))
        if outcome is not None:
            found[record_id] = outcome
    return found


def labels(review: Review, user: User) -> dict[int, bool]:
    """record id -> relevant?, for the records screened at title/abstract that `user`
    may learn from: resolved records (their outcome) and the user's own decisions.

    Include and maybe count as relevant, exclude as irrelevant. Duplicates, removed
    records and records found by other methods are left out (they are not screened at
    title/abstract)."""
    return _labelled(review, user)[0]


def _labelled(review: Review, user: User) -> tuple[dict[int, bool], list[bool]]:
    """`labels`, and for each of the user's own decisions resolved the other way (a
    senior's adjudication) whether the user had counted it relevant."""
    decisions, adjudicated = _ta_rows(review)
    screened = set(eligible(review, TA).values_list("pk", flat=True))
    membership = review.memberships.filter(user=user).first()
    agreement_hidden = not may_see_other_decisions(
        blinded=review.blinded,
        is_senior=membership is not None and membership.is_senior,
        state=State.TA_EXCLUDED,  # a record two reviewers agreed on, no senior involved
        stage=TA,
    )
    found: dict[int, bool] = {}
    overruled: list[bool] = []
    for record_id in screened:
        rows = decisions.get(record_id, [])
        outcome = resolved_outcome([c for _, c in rows], adjudicated.get(record_id))
        mine = next((c for reviewer, c in rows if reviewer == user.pk), None)
        if outcome is not None and agreement_hidden and record_id not in adjudicated:
            # agreed by colleagues: in a blinded review that stays hidden from her
            # (`rules.may_see_other_decisions`), so only her own decision counts
            outcome = None
        if outcome is None:
            if mine is None:
                continue
            outcome = mine in RELEVANT_CHOICES
        elif mine is not None and (mine in RELEVANT_CHOICES) != outcome:
            overruled.append(mine in RELEVANT_CHOICES)
        found[record_id] = outcome
    return found, overruled


def inclusion_criteria(criteria: str) -> str:
    """The inclusion part of free-text eligibility criteria: every line except those under
    a heading that starts with "Exclu" (until a heading that starts with "Inclu")."""
    kept: list[str] = []
    excluding = False
    for line in criteria.splitlines():
        start = line.strip(" \t-*•:").lower()
        if start.startswith("exclu"):
            excluding = True
        elif start.startswith("inclu"):
            excluding = False
        if not excluding:
            kept.append(line)
    return "\n".join(kept)


def review_query(review: Review) -> Query:
    """What the ranking looks for before it can learn: the review's question, its inclusion
    criteria and the terms highlighted as signs of relevance, against the terms highlighted
    as signs of irrelevance. Exclusion criteria are left out: they name the topic as often
    as what is out ("adults not analysable separately from children")."""
    seek = [review.question, inclusion_criteria(review.criteria), *review.highlight_include]
    return Query(
        seek="\n".join(part for part in seek if part),
        avoid="\n".join(str(term) for term in review.highlight_exclude or ()),
    )


def fingerprint(labelled: Mapping[int, bool]) -> str:
    """SHA-256 of the (record, label) pairs: equal exactly when the labels are."""
    text = "\n".join(f"{pk}:{int(value)}" for pk, value in sorted(labelled.items()))
    return hashlib.sha256(text.encode()).hexdigest()


# --- the reviewer's ranking ---


def latest_ranking(review: Review, user: User) -> RankingJob | None:
    """The newest finished ranking of `user` (what the screening page uses), if any."""
    return (
        RankingJob.objects.filter(review=review, reviewer=user, status=RankingStatus.SUCCEEDED)
        .order_by("-pk")
        .first()
    )


@dataclass(frozen=True)
class RankingState:
    """What the screening page says about `user`'s ranking."""

    current: RankingJob | None  # the newest finished one
    pending: RankingJob | None  # queued or running, newer than `current`
    failed: RankingJob | None  # the newest job, when it failed

    @property
    def newest(self) -> RankingJob | None:
        """The newest job of any status (what `services.ranking.ranking_after_decision`
        weighs), read with the rest: no query of its own."""
        return self.pending or self.failed or self.current

    @property
    def trained(self) -> bool:
        return self.current is not None and self.current.trained

    @property
    def by_question(self) -> bool:
        """Ordered by similarity to the review's question: nothing learnt yet."""
        return self.trained and self.current is not None and self.current.method == QUESTION

    @property
    def learnt_at(self) -> datetime | None:
        """When the labels of the ranking in use were read (its job started)."""
        job = self.current
        return (job.claimed_at or job.finished_at) if job is not None else None

    @property
    def decisions(self) -> int:
        """How many labelled records the ranking in use learnt from."""
        return self.current.relevant + self.current.irrelevant if self.current else 0

    @property
    def ranking_id(self) -> int | None:
        return self.current.pk if self.current is not None and self.current.trained else None

    @property
    def reason(self) -> str:
        """Why there are no scores, in the reviewer's words (empty when there are)."""
        job = self.current
        if job is not None and job.trained:
            return ""
        if job is not None and job.relevant and job.irrelevant:
            return f"No relevance scores yet. {job.reason}"
        counts = (
            f" ({job.relevant} relevant, {job.irrelevant} irrelevant so far)"
            if job is not None
            else ""
        )
        return (
            "No relevance scores yet: the ranking needs at least one relevant (include or "
            f"maybe) and one irrelevant (exclude) decision of yours{counts}."
        )


def ranking_state(review: Review, user: User) -> RankingState:
    """The reviewer's ranking jobs that matter now, in one query."""
    return ranking_state_and_sample(review, user)[0]


def _sample_query(review: int, user: int) -> QuerySet[StoppingSample, Any]:
    return (
        StoppingSample.objects.filter(review_id=review, reviewer_id=user)
        .order_by("-pk")
        .values("pk")[:1]
    )


def _jobs_and_sample_query(review: int, user: int) -> QuerySet[RankingJob]:
    return (
        RankingJob.objects.filter(review_id=review, reviewer_id=user)
        .annotate(sample_id=Subquery(_sample_query(review, user)))
        .order_by("-pk")
        .only(
            "pk",
            "status",
            "trained",
            "method",
            "reason",
            "records",
            "relevant",
            "irrelevant",
            "error",
            "created_at",
            "claimed_at",
            "finished_at",
            "progress",
            "progress_total",
            "phase",
        )[:10]
    )


#: read on every screening request: compiled once per process (`reviewer.prepared`)
_JOBS_AND_SAMPLE = Prepared(_jobs_and_sample_query)


def current_sample_id(review: Review, user: User) -> int | None:
    """The id of the reviewer's current stopping sample, if any."""
    found: int | None = _sample_query(review.pk, user.pk).values_list("pk", flat=True).first()
    return found


def ranking_state_and_sample(review: Review, user: User) -> tuple[RankingState, int | None]:
    """`ranking_state` and the id of the reviewer's current stopping sample
    (`current_sample`), in one query when they have a ranking job (the screening queue
    reads both on every request)."""
    jobs: list[RankingJob] = _JOBS_AND_SAMPLE.objects(review=review.pk, user=user.pk)
    current = next((j for j in jobs if j.status == RankingStatus.SUCCEEDED), None)
    newest = jobs[0] if jobs else None
    pending = newest if newest is not None and newest.is_running else None
    failed = newest if newest is not None and newest.status == RankingStatus.FAILED else None
    state = RankingState(current=current, pending=pending, failed=failed)
    if newest is None:
        return state, current_sample_id(review, user)
    return state, newest.sample_id  # type: ignore[attr-defined]


def record_relevance(
    job: RankingJob | None, record_id: int, *, known: dict[int, tuple[int, float]] | None = None
) -> RelevanceScore | None:
    """The record's score and rank in `job`; `known`: (rank, score) by record id of the
    records just read from that ranking (`ScreeningQueue.walked`)."""
    if job is None or not job.trained:
        return None
    if known and record_id in known:
        rank, score = known[record_id]
        return RelevanceScore(job=job, record_id=record_id, rank=rank, score=score)
    # no `.first()`: its ORDER BY id LIMIT 1 lets PostgreSQL walk the primary key through
    # every ranking's scores (11 ms at 20,000 records) instead of the (job, record) index
    found = list(RelevanceScore.objects.filter(job=job, record_id=record_id)[:1])
    return found[0] if found else None


# --- the progress chart ---


def _my_curve(review: Review, user: User) -> list[bool]:
    rows = (
        Decision.objects.filter(review=review, stage=TA, reviewer=user)
        .filter(record__in=eligible(review, TA))
        .order_by("created_at", "pk")
        .values_list("choice", flat=True)
    )
    return [choice in RELEVANT_CHOICES for choice in rows]


def _others_curves(review: Review, user: User) -> list[tuple[str, list[bool]]]:
    rows = (
        Decision.objects.filter(review=review, stage=TA)
        .exclude(reviewer=user)
        .filter(record__in=eligible(review, TA))
        .select_related("reviewer")
        .order_by("created_at", "pk")
    )
    per_reviewer: dict[int, tuple[str, list[bool]]] = {}
    for decision in rows:
        _, found = per_reviewer.setdefault(
            decision.reviewer_id, (decision.reviewer.display_name(), [])
        )
        found.append(decision.choice in RELEVANT_CHOICES)
    return sorted(per_reviewer.values())


def _resolved_curve(review: Review) -> list[bool]:
    """The records resolved at title/abstract, in the order they were resolved."""
    decisions, adjudicated = _ta_rows(review)
    screened = set(eligible(review, TA).values_list("pk", flat=True))
    decided_at = dict(
        Decision.objects.filter(review=review, stage=TA)
        .values("record_id")
        .annotate(last=Max("created_at"))
        .values_list("record_id", "last")
    )
    adjudicated_at = dict(
        Adjudication.objects.filter(review=review, stage=TA).values_list("record_id", "created_at")
    )
    resolved: list[tuple[datetime, int, bool]] = []
    for record_id in screened:
        outcome = resolved_outcome(
            [c for _, c in decisions.get(record_id, [])], adjudicated.get(record_id)
        )
        if outcome is None:
            continue
        when = adjudicated_at.get(record_id) or decided_at[record_id]
        resolved.append((when, record_id, outcome))
    return [outcome for _, _, outcome in sorted(resolved)]


def progress_chart(review: Review, user: User, *, review_wide: bool) -> Chart:
    """My line, and for those who may see review-wide figures
    (`rules.may_see_review_wide_figures`) the resolved records' line and each colleague's:
    both rise with a colleague's decision on a record still open."""
    series: list[tuple[str, str, list[bool]]] = [("You", "line--mine", _my_curve(review, user))]
    if review_wide:
        series.append(
            ("Resolved (both reviewers or the senior)", "line--resolved", _resolved_curve(review))
        )
        for n, (name, found) in enumerate(_others_curves(review, user)):
            series.append((name, f"line--other line--other-{n % 3}", found))
    return chart(series)


# --- the stopping test ---


def current_sample(review: Review, user: User) -> StoppingSample | None:
    return StoppingSample.objects.filter(review=review, reviewer=user).order_by("-pk").first()


@dataclass(frozen=True)
class SampleProgress:
    sample: StoppingSample
    size: int  # records of the sample still in title/abstract screening
    screened: int  # of those, labelled for this reviewer
    relevant: int
    left_out: int  # sampled records since removed, or marked duplicates
    estimate: StoppingEstimate

    @property
    def complete(self) -> bool:
        return self.screened == self.size

    @property
    def p_text(self) -> str:
        """The p-value as journals print it."""
        p = self.estimate.p_value
        return "< 0.0001" if 0 < p < 0.0001 else f"{p:.2g}" if p < 0.01 else f"{p:.3f}"

    @property
    def target_percent(self) -> str:
        return f"{self.sample.target * 100:g}%"

    @property
    def alpha_percent(self) -> str:
        return f"{self.sample.alpha * 100:g}%"


def sample_progress(review: Review, user: User, sample: StoppingSample) -> SampleProgress:
    """How far the reviewer is with `sample`, and the test on its screened part."""
    entries = list(sample.entries.values_list("record_id", flat=True))
    screened_here = set(eligible(review, TA).filter(pk__in=entries).values_list("pk", flat=True))
    known = labels(review, user)
    in_sample = [pk for pk in entries if pk in screened_here]
    done = [known[pk] for pk in in_sample if pk in known]
    estimate = recall_test(
        n_total=sample.n_total,
        n_seen_before=sample.n_seen_before,
        relevant_before=sample.relevant_before,
        n_sampled=len(done),
        relevant_in_sample=sum(done),
        target=sample.target,
        alpha=sample.alpha,
    )
    return SampleProgress(
        sample=sample,
        size=len(in_sample),
        screened=len(done),
        relevant=sum(done),
        left_out=len(entries) - len(in_sample),
        estimate=estimate,
    )


@dataclass(frozen=True)
class Screened:
    """A reviewer's screening so far, as the stopping test counts it."""

    total: int  # records in title/abstract screening
    seen: int  # labelled for this reviewer (own decisions and resolved records)
    relevant: int
    # of my own decisions, those resolved the other way (a senior's adjudication): counted
    # as resolved here and in my ranking, as I decided in my line of the chart
    overruled_relevant: int = 0  # I included (or maybe), resolved as excluded
    overruled_irrelevant: int = 0  # I excluded, resolved as included

    @property
    def remaining(self) -> int:
        return self.total - self.seen


def screened_so_far(review: Review, user: User) -> Screened:
    known, turned = _labelled(review, user)
    return Screened(
        total=eligible(review, TA).count(),
        seen=len(known),
        relevant=sum(known.values()),
        overruled_relevant=sum(turned),
        overruled_irrelevant=len(turned) - sum(turned),
    )


def suggested_sample_size(screened: Screened, target: float, alpha: float) -> int:
    return sample_size_to_stop(
        n_total=screened.total,
        n_seen_before=screened.seen,
        relevant_before=screened.relevant,
        target=target,
        alpha=alpha,
    )
