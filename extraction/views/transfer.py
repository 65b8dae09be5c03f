"""Extraction data as spreadsheets: the import/export page, the exports, and an import's
upload, preview, commit, cancel and restart (any member; the consensus as target needs a
senior).

An upload is a `PendingImport` row (`extraction.services.uploads`), found by the random
token in the preview's address together with the review and the uploader. It is read and
checked once — in the upload's request for a small file, by a worker for a large one,
while the preview page polls — and the preview lists every problem (the page shows the
first `SHOWN_PROBLEMS`; every one is in a CSV). Commit checks the file again and writes
all or nothing, then deletes the row and its file; so does cancel. Another person's token,
another review's, or an earlier import's is "no longer here".
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from extraction.models import Extraction, PendingImport
from extraction.selectors import final_copies
from extraction.services import transfer, uploads
from extraction.services.transfer import FileFormat, Kind, Scope, Target
from extraction.values import form_spec
from reviewer.access import review_for_request
from reviewer.downloads import attachment, attachment_headers
from reviewer.exports import BOM
from reviewer.exports import text as defuse
from reviewer.models import Membership, Review, Role

#: Problems listed on the preview page; the CSV of problems has every one.
SHOWN_PROBLEMS = 500


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


# --- the pending upload (extraction.services.uploads) ------------------------------------


def _gone(request: HttpRequest, review: Review) -> HttpResponse:
    messages.info(
        request,
        "That upload is no longer here: it was imported or cancelled, or was left for more "
        "than a day. Upload the file again.",
    )
    return redirect("extraction-transfer", review.slug)


def _check_target(membership: Membership, target: str) -> None:
    if target == Target.CONSENSUS and not membership.has_role(Role.SENIOR):
        raise PermissionDenied("Only a senior author imports into the consensus copies.")


def _found(request: HttpRequest, review: Review, membership: Membership) -> PendingImport | None:
    token = request.POST.get("token", "") or request.GET.get("token", "")
    pending = uploads.pending_import_get(review=review, user=membership.user, token=token)
    if pending is not None:
        _check_target(membership, pending.target)
    return pending


def _preview_url(pending: PendingImport) -> str:
    url = reverse("extraction-import-preview", args=[pending.review.slug])
    return f"{url}?token={pending.token}"


# --- import: upload, preview, commit, cancel ----------------------------------------------


@require_POST
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, review, membership, form)
    _check_target(membership, form.cleaned_data["target"])
    pending = uploads.pending_import_create(
        review=review,
        user=membership.user,
        upload=form.cleaned_data["file"],
        kind=form.cleaned_data["kind"],
        target=form.cleaned_data["target"],
    )
    return redirect(_preview_url(pending))


def _preview_page(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    pending: PendingImport,
    result: transfer.Preview | None,
) -> HttpResponse:
    """The preview once the file is read; while it is read, its status, which an htmx poll
    asks for every second (`extraction/partials/transfer_preview_body.html`)."""
    context: dict[str, Any] = {
        "review": review,
        "membership": membership,
        "pending": pending,
        "token": pending.token,
        "preview": result,
    }
    if result is not None:
        context.update(
            problems=result.problems[:SHOWN_PROBLEMS],
            hidden_problems=result.problem_total - min(len(result.problems), SHOWN_PROBLEMS),
            by_column=result.problems_by_column.most_common(),
            patient_rows=sum(change.rows for change in result.changes),
        )
    template = (
        "extraction/partials/transfer_preview_body.html"
        if getattr(request, "htmx", False)
        else "extraction/transfer_preview.html"
    )
    return render(request, template, context)


@require_GET
def import_preview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    pending = _found(request, review, membership)
    if pending is None:
        return _gone(request, review)
    return _preview_page(
        request, review, membership, pending, uploads.pending_import_preview(pending)
    )


@require_GET
def import_problems(request: HttpRequest, slug: str) -> HttpResponse:
    """Every problem of the pending upload as CSV: row, column, value, why."""
    review, membership = review_for_request(request, slug)
    pending = _found(request, review, membership)
    result = uploads.pending_import_preview(pending) if pending is not None else None
    if pending is None or result is None:
        return _gone(request, review)
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
    what = f"import-problems-{slugify(PurePath(pending.name).stem)[:40]}"
    return HttpResponse(
        out.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers=attachment_headers(review, what, "csv"),
    )


@require_POST
def import_commit(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    pending = _found(request, review, membership)
    data = uploads.pending_import_data(pending) if pending is not None else None
    if pending is None or data is None:
        return _gone(request, review)
    result = transfer.import_commit(
        review=review,
        user=membership.user,
        kind=pending.kind,
        target=pending.target,
        name=pending.name,
        data=data,
    )
    if not result.committed:
        messages.error(request, "Nothing was imported: the file no longer passes every check.")
        return _preview_page(request, review, membership, pending, result)
    uploads.pending_import_forget(pending=pending)
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
        f"“{pending.name}” into {into}.",
    )
    return redirect("extraction-transfer", review.slug)


@require_POST
def import_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    """Drop the pending upload, whether it is read, being read or failed."""
    review, membership = review_for_request(request, slug)
    pending = _found(request, review, membership)
    if pending is not None:
        uploads.pending_import_forget(pending=pending)
        messages.info(request, "Import cancelled; nothing was imported.")
    return redirect("extraction-transfer", review.slug)


@require_POST
def import_restart(request: HttpRequest, slug: str) -> HttpResponse:
    """Send a reading that never reached a worker, or whose worker stopped, again."""
    review, membership = review_for_request(request, slug)
    pending = _found(request, review, membership)
    if pending is None:
        return _gone(request, review)
    try:
        uploads.pending_import_restart(pending=pending)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.info(request, "Sent to a worker again.")
    return redirect(_preview_url(pending))


urlpatterns: list[URLPattern] = [
    path("transfer/", import_export, name="extraction-transfer"),
    path("transfer/export/", export, name="extraction-export"),
    path("transfer/import/", import_upload, name="extraction-import"),
    path("transfer/import/preview/", import_preview, name="extraction-import-preview"),
    path("transfer/import/problems.csv", import_problems, name="extraction-import-problems"),
    path("transfer/import/commit/", import_commit, name="extraction-import-commit"),
    path("transfer/import/cancel/", import_cancel, name="extraction-import-cancel"),
    path("transfer/import/restart/", import_restart, name="extraction-import-restart"),
]
