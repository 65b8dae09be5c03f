"""The review archive in the browser: owners download it, anyone logged in restores one
(and becomes an owner of the copy). The archive itself is `reviewer.archive`."""

from __future__ import annotations

import tempfile
from typing import IO, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.archive import ArchiveError, ArchiveWriteError, archive_restore, archive_write
from reviewer.archive.write import archive_download_mark, archive_summary
from reviewer.downloads import attachment_headers
from reviewer.forms.archive import RestoreForm
from reviewer.models import Role


@require_GET
def review_archive(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    return render(
        request,
        "reviewer/review_archive.html",
        {"review": review, "membership": membership, "summary": archive_summary(review=review)},
    )


@require_POST
def review_archive_download(request: HttpRequest, slug: str) -> HttpResponseBase:
    # a POST that changes nothing in the review (it notes the download), so an archived
    # review's owner can take its archive too: deleting a review needs one
    review, _ = review_for_request(request, slug, role=Role.OWNER, while_archived=True)
    # written to a temporary file first: a review with its PDFs can be large, and a
    # failure must be a message, not a cut-off download
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed once read, below
    try:
        archive_write(review=review, out=out)
    except ArchiveWriteError as error:
        out.close()
        messages.error(request, f"The archive could not be written: {error}")
        return redirect("review-archive", slug=review.slug)
    archive_download_mark(review=review)
    out.seek(0)
    with out:
        data = out.read()
    return HttpResponse(
        data,
        content_type="application/zip",
        headers=attachment_headers(review, "archive", "zip"),
    )


@require_http_methods(["GET", "POST"])
def review_restore(request: HttpRequest) -> HttpResponse:
    form = RestoreForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["archive"]
        try:
            restored = archive_restore(
                source=cast(IO[bytes], upload.file),
                slug=form.cleaned_data["slug"],
                owner=current_user(request),
            )
        except ArchiveError as error:
            form.add_error("archive", f"{upload.name}: {error} Nothing was restored.")
        else:
            review = restored.review
            created = restored.people_created
            names = ", ".join(u.username for u in created)
            note = f" New accounts, inactive until activated: {names}." if created else ""
            messages.success(
                request,
                f"Restored “{review.title}” with its {len(restored.people_matched) + len(created)} "
                f"people ({len(restored.people_matched)} matched by email). You are an owner."
                + note,
            )
            return redirect(review)
    return render(request, "reviewer/review_restore.html", {"form": form})


urlpatterns: list[URLPattern] = [
    path("archive/", review_archive, name="review-archive"),
    path("archive/download/", review_archive_download, name="review-archive-download"),
]
