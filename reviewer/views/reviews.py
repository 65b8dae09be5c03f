from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from reviewer import selectors
from reviewer.access import review_for_request
from reviewer.forms.reviews import ReviewForm, ReviewSettingsForm
from reviewer.models import Role
from reviewer.services.reviews import review_create


@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    reviews = selectors.reviews_for_user(request.user)  # type: ignore[arg-type]
    return render(request, "reviewer/review_list.html", {"reviews": reviews})


@require_http_methods(["GET", "POST"])
def review_new(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review = review_create(created_by=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        messages.success(request, "Review created. Next: add the searches you ran.")
        return redirect(review)
    return render(request, "reviewer/review_form.html", {"form": form})


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
    }
    return render(request, "reviewer/review_dashboard.html", context)


@require_http_methods(["GET", "POST"])
def review_settings(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    form = ReviewSettingsForm(request.POST or None, instance=review)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Review settings saved.")
        return redirect("review-settings", slug=review.slug)
    return render(
        request,
        "reviewer/review_settings.html",
        {"review": review, "membership": membership, "form": form},
    )
