"""The senior's comparison of two extractors' copies, and the consensus built from it.

Seniors only. The comparison opens once both copies are done; every disagreeing value is
listed with both sides, and one click takes a side into the consensus copy. The consensus
copy is then checked and marked final on its own page (the same page extractors use).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from extraction.models import Extraction
from extraction.selectors import compare
from extraction.services.consensus import consensus_start, consensus_take, copies_of
from extraction.values import form_spec
from reviewer.access import current_user, review_for_request
from reviewer.models import Role, Study


@require_GET
def compare_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    study = get_object_or_404(Study, review=review, pk=pk)
    try:
        a, b = copies_of(study)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("extraction-study", slug=review.slug, pk=study.pk)
    consensus = Extraction.objects.filter(study=study, extractor__isnull=True).first()
    comparison = compare(a, b, consensus, spec=form_spec(review))
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "extraction/compare.html",
        {
            "review": review,
            "membership": membership,
            "study": study,
            "comparison": comparison,
            "show_all": show_all,
        },
    )


@require_POST
def compare_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    study = get_object_or_404(Study, review=review, pk=pk)
    try:
        consensus_start(study=study, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Consensus started from every value the two copies agree on.")
    return redirect("extraction-compare", slug=review.slug, pk=study.pk)


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@require_POST
def consensus_take_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    consensus = get_object_or_404(Extraction, review=review, pk=pk, extractor__isnull=True)
    side = request.POST.get("side", "")
    if side not in ("a", "b"):
        messages.error(request, "Say which copy to take the value from.")
    else:
        try:
            consensus_take(
                consensus=consensus,
                user=current_user(request),
                side="a" if side == "a" else "b",
                field_id=_number(request.POST.get("field", "")),
                position=_number(request.POST.get("position", "")),
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
    response = redirect("extraction-compare", slug=review.slug, pk=consensus.study_id)
    anchor = request.POST.get("anchor", "")
    if anchor.replace("-", "").isalnum():
        response["Location"] += f"#{anchor}"
    return response


urlpatterns: list[URLPattern] = [
    path("studies/<int:pk>/compare/", compare_page, name="extraction-compare"),
    path("studies/<int:pk>/compare/start/", compare_start, name="extraction-consensus-start"),
    path("copies/<int:pk>/take/", consensus_take_view, name="extraction-take"),
]
