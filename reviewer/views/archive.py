"""The review archive in the browser: owners download it, anyone logged in restores one
(and becomes an owner of the copy). The archive itself is `reviewer.archive`."""

from __future__ import annotations

import secrets
import tempfile
from datetime import timedelta
from typing import IO, cast

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.archive import (
    ArchiveError,
    ArchiveWriteError,
    Checked,
    Restored,
    archive_check,
    archive_restore,
    archive_write,
)
from reviewer.archive.write import archive_download_mark, archive_summary
from reviewer.downloads import attachment_headers
from reviewer.forms.archive import RestoreForm
from reviewer.models import Review, Role, User


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


#: The session's archive waiting to be restored: checked, stored, shown, not yet restored.
#: It lives in the session, so only the person who uploaded it sees it and can confirm it.
_STAGED = "archive_restore"
_STAGING = "restore-staging"
#: Staged archives nobody confirmed or cancelled are deleted after this long.
_STAGED_MAX_AGE = timedelta(days=1)


def _unstage(request: HttpRequest) -> None:
    staged = request.session.pop(_STAGED, None)
    if staged:
        default_storage.delete(staged["file"])


def _forget_abandoned() -> None:
    try:
        _, names = default_storage.listdir(_STAGING)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - _STAGED_MAX_AGE
    for name in names:
        path = f"{_STAGING}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


def _free_address(slug: str) -> str:
    """The first of slug-copy, slug-copy-2, ... that no review has (within the 60 letters)."""
    base = f"{slug[:50]}-copy"
    taken = set(Review.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_staged(staged: dict[str, str]) -> Checked:
    with default_storage.open(staged["file"], "rb") as archive:
        return archive_check(source=cast(IO[bytes], archive))


@require_http_methods(["GET", "POST"])
def review_restore(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the archive. It is checked whole, then kept for step 2, which shows
    what it would restore (who becomes whom above all) before anything is written."""
    form = RestoreForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["archive"]
        try:
            checked = archive_check(source=cast(IO[bytes], upload.file))
        except ArchiveError as error:
            form.add_error("archive", f"{upload.name}: {error} Nothing was restored.")
        else:
            slug = form.cleaned_data["slug"]
            if not slug and Review.objects.filter(slug=checked.slug).exists():
                free = _free_address(checked.slug)
                data = request.POST.copy()
                data["slug"] = free  # offered in the field, to take or change
                form.data = data
                form.add_error(
                    "slug",
                    f"A review with the archived address “{checked.slug}” exists already: "
                    f"give the copy another address (“{free}” is free and filled in), then "
                    "choose the file again — a browser forgets a chosen file once the page "
                    "comes back.",
                )
            else:
                _unstage(request)
                _forget_abandoned()
                upload.seek(0)
                name = default_storage.save(f"{_STAGING}/{secrets.token_hex(16)}.zip", upload)
                request.session[_STAGED] = {"file": name, "slug": slug, "upload": upload.name}
                return redirect("review-restore-confirm")
    return render(request, "reviewer/review_restore.html", {"form": form})


@require_http_methods(["GET", "POST"])
def review_restore_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: what the archive restores, and onto which accounts of this server its people
    map; restore it, or cancel. Only the session that chose the archive has one here."""
    staged = request.session.get(_STAGED)
    if not staged:
        messages.info(request, "No archive waits to be restored: choose one.")
        return redirect("review-restore")
    user = current_user(request)
    if request.method == "POST" and "cancel" in request.POST:
        _unstage(request)
        messages.info(request, "Nothing was restored.")
        return redirect("review-list")
    if request.method == "POST":
        try:
            with default_storage.open(staged["file"], "rb") as archive:
                restored = archive_restore(
                    source=cast(IO[bytes], archive), slug=staged["slug"], owner=user
                )
        except ArchiveError as error:
            _unstage(request)
            messages.error(request, f"{staged['upload']}: {error} Nothing was restored.")
            return redirect("review-restore")
        _unstage(request)
        messages.success(request, _restored_message(restored, user))
        return redirect(restored.review)
    try:
        checked = _check_staged(staged)
    except (ArchiveError, FileNotFoundError) as error:
        _unstage(request)
        messages.error(request, f"{staged['upload']}: {error} Nothing was restored.")
        return redirect("review-restore")
    context = {
        "checked": checked,
        "upload": staged["upload"],
        "slug": staged["slug"] or checked.slug,
        "others": [p for p in checked.matched if p.account != user],
        "records": checked.rows.get("reviewer.Record", 0),
        "decisions": checked.rows.get("reviewer.Decision", 0),
    }
    return render(request, "reviewer/review_restore_confirm.html", context)


def _restored_message(restored: Restored, user: User) -> str:
    review, created = restored.review, restored.people_created
    new = {u.pk for u in created}
    who = []
    for person in restored.people:
        account = person.account
        assert account is not None
        if account == user:
            who.append(f"{person.email} → your account")
        elif account.pk in new:
            who.append(f"{person.email or person.name} → new inactive account {account.username}")
        else:
            who.append(f"{person.email} → existing account {account.username}")
    return (
        f"Restored “{review.title}” with its {len(restored.people_matched) + len(created)} "
        f"people ({len(restored.people_matched)} matched by email). You are an owner."
        + (f" Who is who: {'; '.join(who)}." if who else "")
        + (" New accounts stay inactive until activated." if created else "")
    )


urlpatterns: list[URLPattern] = [
    path("archive/", review_archive, name="review-archive"),
    path("archive/download/", review_archive_download, name="review-archive-download"),
]
