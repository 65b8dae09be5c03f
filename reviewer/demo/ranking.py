"""Relevance rankings in the demo review, trained as soon as the demo's screening is done.

So a newcomer logging in as any demo user sees relevance scores and "most relevant
first" on the title/abstract queue at once, instead of after their fifth decision.
Each member's ranking learns from their own decisions and the resolved records, as in
real use (`reviewer.models.ranking`). `question_head` shows what a new member's queue looks
like before their first decision: ordered by similarity to the review's question.
"""

from __future__ import annotations

from reviewer.models import RankingJob, RankingTrigger, Review
from reviewer.ranking.engine import Ranker
from reviewer.ranking.selectors import resolved_outcomes, review_query
from reviewer.services.ranking import rank_inputs, ranking_run_now


def rank_demo(review: Review) -> list[RankingJob]:
    """Train every member's ranking now, in this process; returns the finished jobs."""
    return [
        ranking_run_now(review=review, user=membership.user, trigger=RankingTrigger.DEMO)
        for membership in review.memberships.select_related("user").order_by("user__username")
    ]


def question_head(review: Review, size: int = 20) -> tuple[int, int, int]:
    """Of the `size` records a newcomer would see first (by similarity to the review's
    question), how many passed title/abstract screening; and how many passed in all."""
    records = rank_inputs(review)
    ranking = Ranker(records).train({}, query=review_query(review))
    passed = {pk for pk, outcome in resolved_outcomes(review).items() if outcome}
    head = ranking.order([record.id for record in records])[:size]
    return sum(pk in passed for pk in head), len(passed), len(records)
