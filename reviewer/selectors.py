"""Reads that more than one view needs."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from reviewer.models import ImportStatus, Membership, Record, Review, Source, User
from reviewer.models.sources import RUNNING_STATUSES


def reviews_for_user(user: User) -> QuerySet[Review]:
    """The reviews a user belongs to, with the counts the list page shows."""
    # Filter through a subquery: filtering on the memberships join would make
    # Count("memberships") count only the user's own row.
    mine = Membership.objects.filter(user=user).values("review_id")
    return (
        Review.objects.filter(pk__in=mine)
        .annotate(
            record_count=Count("records", distinct=True),
            member_count=Count("memberships", distinct=True),
            source_count=Count("sources", distinct=True),
        )
        .order_by("title")
    )


def sources_with_counts(review: Review) -> QuerySet[Source]:
    return review.sources.annotate(
        record_count=Count("records", distinct=True),
        file_count=Count(
            "import_jobs__files",
            filter=Q(import_jobs__status=ImportStatus.DONE),
            distinct=True,
        ),
    )


def records_search(
    review: Review, *, query: str = "", source_id: int | None = None
) -> QuerySet[Record]:
    records = review.records.select_related("source").order_by("pk")
    if source_id:
        records = records.filter(source_id=source_id)
    for term in query.split():
        records = records.filter(
            Q(title__icontains=term)
            | Q(doi__iexact=term)
            | Q(pmid=term)
            | Q(journal__icontains=term)
        )
    return records


def review_counts(review: Review) -> dict[str, int]:
    records = review.records.all()
    return {
        "records": records.count(),
        "sources": review.sources.count(),
        "members": review.memberships.count(),
        "with_abstract": records.exclude(abstract="").count(),
        "running_imports": review.import_jobs.filter(status__in=RUNNING_STATUSES).count(),
    }
