"""Undoing mistakes: a search deleted or hidden, a review archived, restored or deleted."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.forms.team import ReviewDeleteForm, SourceHideForm
from reviewer.models import ImportFile, Role
from reviewer.services import reviews as review_services
from reviewer.services import sources as services


@require_GET
def source_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """What can be undone for a search: deleting it, or (once screened) hiding it."""
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    source = get_object_or_404(review.sources.select_related("hidden_by"), pk=pk)
    context = {
        "review": review,
        "membership": membership,
        "source": source,
        "work": services.screening_work(source),
        "record_count": source.records.count(),
        "duplicate_count": source.records.exclude(duplicate_of=None).count(),
        "file_count": ImportFile.objects.filter(job__source=source).count(),
        "hide_form": SourceHideForm(),
    }
    return render(request, "reviewer/undo/source_remove.html", context)


@require_POST
def source_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    source = get_object_or_404(review.sources, pk=pk)
    name = str(source)
    try:
        count = services.source_delete(source=source)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("source-remove", slug=review.slug, pk=source.pk)
    messages.success(
        request, f"Search “{name}” deleted, with its {count} record{'s' if count != 1 else ''}."
    )
    return redirect("source-list", slug=review.slug)


@require_POST
def source_hide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    source = get_object_or_404(review.sources, pk=pk)
    form = SourceHideForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Say why the search is hidden; the reason stays with it.")
        services.source_hide(
            source=source, user=current_user(request), reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("source-remove", slug=review.slug, pk=source.pk)
    messages.success(request, f"Search “{source}” hidden. Its records still count.")
    return redirect("source-list", slug=review.slug)


@require_POST
def source_unhide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    source = get_object_or_404(review.sources, pk=pk)
    try:
        services.source_unhide(source=source)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Search “{source}” is listed again.")
    return redirect("source-list", slug=review.slug)


@require_GET
def review_end(request: HttpRequest, slug: str) -> HttpResponse:
    """Archive, restore or delete the review."""
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    context = {"review": review, "membership": membership, "delete_form": ReviewDeleteForm()}
    return render(request, "reviewer/undo/review_end.html", context)


@require_POST
def review_archive(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    try:
        review_services.review_archive(review=review, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("review-end", slug=review.slug)
    messages.success(
        request,
        f"“{review.title}” is archived: read-only, and no longer in the list of reviews. "
        "Restore it from “Archived reviews” there.",
    )
    return redirect("review-list")


@require_POST
def review_restore(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER, while_archived=True)
    try:
        review_services.review_restore(review=review)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"“{review.title}” is restored: everyone can work in it again.")
    return redirect(review)


@require_POST
def review_delete(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER, while_archived=True)
    form = ReviewDeleteForm(request.POST)
    if form.is_valid():
        try:
            review_services.review_delete(
                review=review,
                typed_title=form.cleaned_data["title"],
                has_archive=form.cleaned_data["has_archive"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"The review “{review.title}” and everything in it is deleted."
            )
            return redirect("review-list")
    context = {"review": review, "membership": membership, "delete_form": form}
    return render(request, "reviewer/undo/review_end.html", context)
