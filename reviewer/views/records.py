"""The records of a review: the searchable list and one record, each with where it ended up
in screening, as the member may be told it under blinding (`selectors.record_states_seen_by`).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from reviewer import selectors
from reviewer.access import review_for_request
from reviewer.services import labels as label_services

SHOW_CHOICES = {
    "": "All records",
    "unique": "Without duplicates",
    "duplicates": "Duplicates only",
}


@require_GET
def record_list(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    query = request.GET.get("q", "").strip()
    source_id = request.GET.get("source", "")
    show = request.GET.get("show", "")
    show = show if show in SHOW_CHOICES else ""
    label = " ".join(request.GET.get("label", "").split())
    records = selectors.records_search(
        review, query=query, source_id=int(source_id) if source_id.isdigit() else None, show=show
    )
    if label:  # of the labels this member may see (blinding: her own only)
        labelled = label_services.visible_labels(review, membership).filter(name=label)
        records = records.filter(pk__in=labelled.values("record"))
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    seen = selectors.record_states_seen_by(review, membership, [r.pk for r in page.object_list])
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        # where each record ended up, as this member may be told it (blinding)
        "rows": [(record, seen[record.pk]) for record in page.object_list],
        "query": query,
        "source_id": source_id,
        "show": show,
        "label": label,
        "label_choices": label_services.label_choices(review, membership),
        "page_params": f"{params.urlencode()}&" if params else "",
        "show_choices": SHOW_CHOICES.items(),
        "sources": review.sources.all(),
    }
    return render(request, "reviewer/record_list.html", context)


@require_GET
def record_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    record = get_object_or_404(
        review.records.select_related("source", "import_file", "duplicate_of"), pk=pk
    )
    seen = selectors.record_states_seen_by(review, membership, [record.pk])[record.pk]
    return render(
        request,
        "reviewer/record_detail.html",
        {
            "review": review,
            "membership": membership,
            "record": record,
            "duplicate_count": record.duplicates.count(),
            # where it ended up, as this member may be told it (blinding)
            "seen": seen,
            # a senior reads every decision on the history page; a reviewer opens her own
            # decision on the screening page of the stage the record is at
            "history_url": reverse("decision-history", args=[review.slug, record.pk])
            if membership.is_senior
            else "",
            "screening_url": reverse("screen-record", args=[review.slug, seen.stage, record.pk])
            if seen.stage
            else "",
        },
    )
