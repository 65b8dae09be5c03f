"""Relevance rankings in the demo review, trained as soon as the demo's screening is done.

So a newcomer logging in as any demo user sees relevance scores and "most relevant
first" on the title/abstract queue at once, instead of after their fifth decision.
Each member's ranking learns from their own decisions and the resolved records, as in
real use (`reviewer.models.ranking`).
"""

from __future__ import annotations

from reviewer.models import RankingJob, RankingTrigger, Review
from reviewer.services.ranking import ranking_run_now


def rank_demo(review: Review) -> list[RankingJob]:
    """Train every member's ranking now, in this process; returns the finished jobs."""
    return [
        ranking_run_now(review=review, user=membership.user, trigger=RankingTrigger.DEMO)
        for membership in review.memberships.select_related("user").order_by("user__username")
    ]
