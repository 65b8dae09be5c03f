"""A review's dashboard (`reviews/<slug>/`): where the review stands in every app at once —
records, sources and imports, screening (`reviewer.views.reviews.screening_summary`),
extraction progress, risk-of-bias agreement and the newest analysis runs.

It reads all three apps, so it lives in the project corner (see `reviewer.project`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analysis.selectors import runs_of
from extraction.appraisal.selectors import agreement_by_domain
from extraction.selectors import Progress, progress_seen_by
from reviewer import selectors
from reviewer.access import review_for_request
from reviewer.models import Membership, Review
from reviewer.screening.rules import may_see_review_wide_figures
from reviewer.views.adjudication import release_offer
from reviewer.views.reviews import screening_summary


@require_GET
def review_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    context = {
        "review": review,
        "membership": membership,
        "counts": selectors.review_counts(review),
        "dedup_waiting": selectors.pending_duplicate_pairs(review).count(),
        "sources": selectors.sources_with_counts(review),
        "recent_imports": review.import_jobs.select_related("source", "created_by")[:5],
        "screening": screening_summary(
            review,
            membership.user,
            review_wide=may_see_review_wide_figures(
                blinded=review.blinded, is_senior=membership.is_senior
            ),
        ),
        **_extraction_summary(review, membership),
        # what waits for a senior's release to full text (blinded reviews)
        "release": release_offer(review) if membership.is_senior else None,
    }
    return render(request, "reviewer/review_dashboard.html", context)


def _extraction_summary(review: Review, membership: Membership) -> dict[str, Any]:
    """Studies per extraction progress (as this member may see it), the agreement of the
    risk-of-bias assessors (for those who may see review-wide figures), and the newest
    analysis runs, for the dashboard."""
    review_wide = may_see_review_wide_figures(
        blinded=review.blinded, is_senior=membership.is_senior
    )
    studies = progress_seen_by(review, membership.user_id, review_wide=review_wide)
    counts = Counter(item.status for item in studies)
    return {
        "extraction": [(status, counts[status]) for status in Progress if counts[status]],
        "extraction_studies": len(studies),
        # kappa per risk-of-bias domain moves with the assessors' done appraisals
        "appraisal_agreement": agreement_by_domain(review) if review_wide else [],
        "analysis_runs": list(runs_of(review)[:3]),
    }
