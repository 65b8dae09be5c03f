"""Extraction data as spreadsheets: the import/export page, the exports, and an import's
upload, preview, commit and cancel (any member; the consensus as target needs a senior).

An upload is kept in the default storage under a random token, which the uploader's
session remembers with what the file is (kind, target, name) and which review it is
for. The preview reads the file again and lists every problem (the page shows the first
`SHOWN_PROBLEMS`; every one is in a CSV); commit checks it again and writes all or
nothing, then forgets it; so does cancel. A token from another session, another review
or an earlier import is "no longer here".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from extraction.services import transfer
from extraction.models import Extraction
from extraction.selectors import final_copies
from extraction.services.transfer import FileFormat, Kind, Scope, Target
from extraction.values import form_spec
from reviewer.access import review_for_request
from reviewer.downloads import attachment, attachment_headers
from reviewer.exports import BOM
from reviewer.exports import text as defuse
from reviewer.models import Membership, Review, Role

SESSION_KEY = "extraction_imports"
UPLOAD_DIR = "extraction-imports"
#: Problems listed on the preview page; the CSV of problems has every one.
SHOWN_PROBLEMS = 500
#: Uploads nobody committed or cancelled are deleted after this long.
UPLOAD_KEPT = dt.timedelta(days=1)


class ExportForm(forms.Form):
    """The export's query; left out, each part takes the first choice (the patient rows
    of the final data, as CSV)."""

    kind = forms.ChoiceField(choices=Kind.choices, required=False)
    scope = forms.ChoiceField(choices=Scope.choices, required=False)
    format = forms.ChoiceField(choices=FileFormat.choices, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["kind"] = cleaned.get("kind") or Kind.PATIENTS
        cleaned["scope"] = cleaned.get("scope") or Scope.FINAL
        cleaned["format"] = cleaned.get("format") or FileFormat.CSV
        return cleaned


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="CSV or Excel workbook (.xlsx) with one sheet, laid out as the exports "
        "above: the first row names the columns.",
    )
    kind = forms.ChoiceField(
        choices=Kind.choices,
        initial=Kind.PATIENTS,
        label="The file holds",
        widget=forms.RadioSelect,
    )
    target = forms.ChoiceField(
        choices=Target.choices, initial=Target.MINE, label="Import into", widget=forms.RadioSelect
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"“{upload.name}” is {filesizeformat(upload.size)}; the upload limit is "
                f"{settings.IMPORT_MAX_UPLOAD_MB} MB."
            )
        return upload


# --- the page and the exports ---------------------------------------------------------


def _page(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: UploadForm,
    status: int = 200,
) -> HttpResponse:
    spec = form_spec(review)
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "final_studies": len(final_copies(review)),
        "my_copies": Extraction.objects.filter(review=review, extractor=membership.user).count(),
        "guides": [
            (Kind.PATIENTS, transfer.column_guide(spec, Kind.PATIENTS)),
            (Kind.STUDIES, transfer.column_guide(spec, Kind.STUDIES)),
        ],
    }
    return render(request, "extraction/transfer.html", context, status=status)


@require_GET
def import_export(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    return _page(request, review, membership, UploadForm())


@require_GET
def export(request: HttpRequest, slug: str) -> HttpResponse:
    """?kind=patients|studies&scope=final|mine&format=csv|xlsx (see ExportForm)."""
    review, membership = review_for_request(request, slug)
    form = ExportForm(request.GET)
    if not form.is_valid():
        raise Http404("No such export.")
    exported = transfer.export_file(
        review=review,
        user=membership.user,
        kind=form.cleaned_data["kind"],
        scope=form.cleaned_data["scope"],
        file_format=form.cleaned_data["format"],
    )
    return HttpResponse(
        exported.content,
        content_type=exported.content_type,
        headers=attachment(exported.filename),
    )


# --- the stored upload ---------------------------------------------------------------------


def _uploads(request: HttpRequest) -> dict[str, dict[str, Any]]:
    uploads: dict[str, dict[str, Any]] = request.session.get(SESSION_KEY, {})
    return uploads


def _forget(request: HttpRequest, token: str) -> None:
    uploads = _uploads(request)
    pending = uploads.pop(token, None)
    if pending is not None:
        default_storage.delete(pending["path"])
        request.session[SESSION_KEY] = uploads


def _delete_abandoned() -> None:
    """Uploads left behind by sessions that ended before commit or cancel."""
    if not default_storage.exists(UPLOAD_DIR):
        return
    cutoff = timezone.now() - UPLOAD_KEPT
    for name in default_storage.listdir(UPLOAD_DIR)[1]:
        stored = f"{UPLOAD_DIR}/{name}"
        if default_storage.get_modified_time(stored) < cutoff:
            default_storage.delete(stored)


def _store(request: HttpRequest, review: Review, cleaned: dict[str, Any]) -> str:
    """Keep the upload and remember it in the session; earlier uploads for the review
    are forgotten (one pending import per review and person)."""
    for token, pending in list(_uploads(request).items()):
        if pending["review"] == review.pk:
            _forget(request, token)
    _delete_abandoned()
    upload = cleaned["file"]
    token = secrets.token_urlsafe(16)
    suffix = PurePath(upload.name).suffix.lower()[:8]
    stored = default_storage.save(f"{UPLOAD_DIR}/{token}{suffix}", upload)
    uploads = _uploads(request)
    uploads[token] = {
        "review": review.pk,
        "path": stored,
        "name": PurePath(upload.name).name,
        "size": upload.size,
        "kind": cleaned["kind"],
        "target": cleaned["target"],
    }
    request.session[SESSION_KEY] = uploads
    return token


def _pending(
    request: HttpRequest, review: Review, token: str
) -> tuple[dict[str, Any], bytes] | None:
    pending = _uploads(request).get(token)
    if pending is None or pending["review"] != review.pk:
        return None
    try:
        with default_storage.open(pending["path"], "rb") as handle:
            data: bytes = handle.read()
    except FileNotFoundError:
        return None
    return pending, data


def _gone(request: HttpRequest, review: Review) -> HttpResponse:
    messages.info(
        request,
        "That upload is no longer here: it was imported or cancelled, or your session "
        "ended. Upload the file again.",
    )
    return redirect("extraction-transfer", review.slug)


def _check_target(membership: Membership, target: str) -> None:
    if target == Target.CONSENSUS and not membership.has_role(Role.SENIOR):
        raise PermissionDenied("Only a senior author imports into the consensus copies.")


# --- import: upload, preview, commit, cancel ----------------------------------------------


@require_POST
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, review, membership, form)
    _check_target(membership, form.cleaned_data["target"])
    token = _store(request, review, form.cleaned_data)
    return redirect(f"{reverse('extraction-import-preview', args=[review.slug])}?token={token}")


def _preview_page(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    token: str,
    pending: dict[str, Any],
    result: transfer.Preview,
) -> HttpResponse:
    context = {
        "review": review,
        "membership": membership,
        "token": token,
        "pending": pending,
        "preview": result,
        "problems": result.problems[:SHOWN_PROBLEMS],
        "hidden_problems": result.problem_total - min(len(result.problems), SHOWN_PROBLEMS),
        "by_column": result.problems_by_column.most_common(),
        "patient_rows": sum(change.rows for change in result.changes),
    }
    return render(request, "extraction/transfer_preview.html", context)


def _previewed(
    request: HttpRequest, review: Review, membership: Membership, token: str
) -> tuple[dict[str, Any], transfer.Preview] | None:
    """The pending upload named by `token`, checked again; None when it is gone."""
    found = _pending(request, review, token)
    if found is None:
        return None
    pending, data = found
    _check_target(membership, pending["target"])
    result = transfer.import_preview(
        review=review,
        user=membership.user,
        kind=pending["kind"],
        target=pending["target"],
        name=pending["name"],
        data=data,
    )
    return pending, result


@require_GET
def import_preview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    token = request.GET.get("token", "")
    previewed = _previewed(request, review, membership, token)
    if previewed is None:
        return _gone(request, review)
    pending, result = previewed
    return _preview_page(request, review, membership, token, pending, result)


@require_GET
def import_problems(request: HttpRequest, slug: str) -> HttpResponse:
    """Every problem of the pending upload as CSV: row, column, value, why."""
    review, membership = review_for_request(request, slug)
    previewed = _previewed(request, review, membership, request.GET.get("token", ""))
    if previewed is None:
        return _gone(request, review)
    pending, result = previewed
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(["row", "column", "value", "why"])
    for problem in result.problems:
        writer.writerow(
            [problem.row or "", defuse(problem.column), defuse(problem.value), problem.message]
        )
    if result.problem_total > len(result.problems):
        left = result.problem_total - len(result.problems)
        writer.writerow(["", "", "", f"… and {left} more problems, not listed: fix these first."])
    what = f"import-problems-{slugify(PurePath(pending['name']).stem)[:40]}"
    return HttpResponse(
        out.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers=attachment_headers(review, what, "csv"),
    )


@require_POST
def import_commit(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    token = request.POST.get("token", "")
    found = _pending(request, review, token)
    if found is None:
        return _gone(request, review)
    pending, data = found
    _check_target(membership, pending["target"])
    result = transfer.import_commit(
        review=review,
        user=membership.user,
        kind=pending["kind"],
        target=pending["target"],
        name=pending["name"],
        data=data,
    )
    if not result.committed:
        messages.error(request, "Nothing was imported: the file no longer passes every check.")
        return _preview_page(request, review, membership, token, pending, result)
    _forget(request, token)
    studies = len(result.changes)
    into = "your copies" if result.target == Target.MINE else "the consensus copies"
    if result.kind == Kind.PATIENTS:
        rows = sum(change.rows for change in result.changes)
        what = f"{rows} patient row{'s' if rows != 1 else ''}"
    else:
        what = "study values"
    messages.success(
        request,
        f"Imported {what} of {studies} stud{'ies' if studies != 1 else 'y'} from "
        f"“{pending['name']}” into {into}.",
    )
    return redirect("extraction-transfer", review.slug)


@require_POST
def import_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    token = request.POST.get("token", "")
    if _pending(request, review, token) is not None:
        _forget(request, token)
        messages.info(request, "Import cancelled; nothing was imported.")
    return redirect("extraction-transfer", review.slug)


urlpatterns: list[URLPattern] = [
    path("transfer/", import_export, name="extraction-transfer"),
    path("transfer/export/", export, name="extraction-export"),
    path("transfer/import/", import_upload, name="extraction-import"),
    path("transfer/import/preview/", import_preview, name="extraction-import-preview"),
    path("transfer/import/problems.csv", import_problems, name="extraction-import-problems"),
    path("transfer/import/commit/", import_commit, name="extraction-import-commit"),
    path("transfer/import/cancel/", import_cancel, name="extraction-import-cancel"),
]
