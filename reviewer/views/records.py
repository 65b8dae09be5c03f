from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
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
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "review": review,
        "membership": membership,
        "page": page,
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
    return render(
        request,
        "reviewer/record_detail.html",
        {
            "review": review,
            "membership": membership,
            "record": record,
            "duplicate_count": record.duplicates.count(),
        },
    )
