"""Extraction pages for everyone on the team: the studies with their progress, and a
study's page where one copy of its data is filled in beside the PDF.

Who sees what (`extraction.dual.rules.may_view`, appraisal's rule too): your own copy;
the consensus copy; and, for a senior who is not one of the study's extractors, either
extractor's copy once the study has all its extractors (so that looking cannot be
followed by extracting). With dual extraction the two extractors never see each other's
copy: the comparison opens only to seniors once both copies are done.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from extraction.dual import rules
from extraction.dual.selectors import study_copies
from extraction.models import Extraction, Field, FieldType
from extraction.selectors import Progress, extraction_setup_of, progress_seen_by
from extraction.services.entry import (
    CellError,
    PatientInput,
    extraction_done,
    extraction_reopen,
    extraction_save,
    extraction_start,
    may_edit,
)
from extraction.values import FormSpec, form_spec, show
from reviewer.access import current_user, review_for_request
from reviewer.models import Approval, Membership, Review, Study
from reviewer.screening.rules import may_see_review_wide_figures

#: Blank rows offered below the patient rows, so that rows can be added without JavaScript.
BLANK_ROWS = 3
_ROW_KEY = re.compile(r"^p-(\d+)-(id|label|delete|f(\d+))$")


def _cells(count: int) -> str:
    return f"{count} cell{'' if count == 1 else 's'}"


def may_view(extraction: Extraction, membership: Membership, copies: list[Extraction]) -> bool:
    """`extraction.dual.rules.may_view`, with as many extractors as the review has."""
    return rules.may_view(
        extraction, membership, copies, dual=extraction_setup_of(extraction.review).dual
    )


@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    review_wide = may_see_review_wide_figures(
        blinded=review.blinded, is_senior=membership.is_senior
    )
    rows = progress_seen_by(review, membership.user_id, review_wide=review_wide)
    counts = {status: 0 for status in Progress}
    for row in rows:
        counts[row.status] += 1
    setup = extraction_setup_of(review)
    shown = [
        (s, n)
        for s, n in counts.items()
        if setup.dual or s not in (Progress.DONE, Progress.NEEDS_CONSENSUS)
    ]
    return render(
        request,
        "extraction/overview.html",
        {
            "review": review,
            "membership": membership,
            "rows": rows,
            "counts": shown,
            "setup": setup,
            "fields": form_spec(review).fields,
            "user_id": membership.user_id,
            "review_wide": review_wide,
        },
    )


@dataclass
class CellView:
    field: Field
    text: str
    error: str = ""


@dataclass
class RowView:
    index: int
    id: int | None
    label: str
    cells: list[CellView]
    label_error: str = ""
    errors: list[str] = field(default_factory=list)


def study_pdfs(review: Review, study: Study) -> list[tuple[Approval, str]]:
    """The study's reports that have a PDF, with its address: shown beside the extraction
    form and the risk-of-bias form."""
    reports = study.reports.select_related("record__full_text").order_by(
        "record__year", "record_id"
    )
    found = []
    for approval in reports:
        full_text = getattr(approval.record, "full_text", None)
        if full_text is not None and full_text.pdf:
            found.append(
                (approval, reverse("fulltext-pdf", args=[review.slug, approval.record_id]))
            )
    return found


def _stored_grid(spec: FormSpec, extraction: Extraction) -> tuple[dict[int, str], list[RowView]]:
    study_text = {f.pk: show(spec, f, extraction.values.get(str(f.pk))) for f in spec.study_fields}
    rows = [
        RowView(
            index,
            row.pk,
            row.label,
            [CellView(f, show(spec, f, row.values.get(str(f.pk)))) for f in spec.patient_fields],
        )
        for index, row in enumerate(extraction.patients.all())
    ]
    return study_text, rows


def _blank_rows(spec: FormSpec, start: int) -> list[RowView]:
    return [
        RowView(start + i, None, "", [CellView(f, "") for f in spec.patient_fields])
        for i in range(BLANK_ROWS)
    ]


def _submitted(
    post: QueryDict, spec: FormSpec
) -> tuple[dict[int, str], list[PatientInput], list[RowView]]:
    """The study values and patient rows as typed, in page order; deleted rows and the blank
    new rows the page offered left out."""
    study_values = {
        f.pk: post.get(f"s-f{f.pk}", "") for f in spec.study_fields if f"s-f{f.pk}" in post
    }
    order: list[int] = []
    raw: dict[int, dict[str, str]] = {}
    for key in post:
        match = _ROW_KEY.match(key)
        if match is None:
            continue
        number = int(match.group(1))
        if number not in raw:
            order.append(number)
            raw[number] = {}
        raw[number][match.group(2)] = post.get(key, "")
    patients: list[PatientInput] = []
    views: list[RowView] = []
    fields = {f.pk: f for f in spec.patient_fields}
    for number in order:
        cells = raw[number]
        if cells.get("delete"):
            continue
        pk = int(cells["id"]) if cells.get("id", "").isdigit() else None
        values = {
            int(k[1:]): v for k, v in cells.items() if k.startswith("f") and int(k[1:]) in fields
        }
        if (
            pk is None
            and not cells.get("label", "").strip()
            and not any(v.strip() for v in values.values())
        ):
            continue  # a blank row the page offered: not a patient (the page offers new ones)
        patients.append(PatientInput(pk, cells.get("label", ""), values))
        views.append(
            RowView(
                len(views),
                pk,
                cells.get("label", ""),
                [CellView(f, values.get(f.pk, "")) for f in spec.patient_fields],
            )
        )
    return study_values, patients, views


def _copy_context(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    study: Study,
    extraction: Extraction,
    *,
    study_text: dict[int, str] | None = None,
    rows: list[RowView] | None = None,
    errors: Sequence[CellError] = (),
) -> dict[str, Any]:
    spec = form_spec(review)
    if study_text is None or rows is None:
        study_text, rows = _stored_grid(spec, extraction)
    study_errors = {e.field_id: e.message for e in errors if e.row is None}
    for error in errors:
        if error.row is None or error.row >= len(rows):
            continue
        row = rows[error.row]
        if error.field_id is None:
            row.label_error = error.message
            continue
        for cell in row.cells:
            if cell.field.pk == error.field_id:
                cell.error = error.message
    editable = may_edit(extraction, membership) and not extraction.done
    blank = _blank_rows(spec, max((r.index for r in rows), default=-1) + 1) if editable else []
    pdfs = study_pdfs(review, study)
    chosen = request.GET.get("report", "")
    pdf = next((p for p in pdfs if str(p[0].record_id) == chosen), pdfs[0] if pdfs else None)
    return {
        "review": review,
        "membership": membership,
        "study": study,
        "extraction": extraction,
        "editable": editable,
        "study_cells": [
            CellView(f, study_text.get(f.pk, ""), study_errors.get(f.pk, ""))
            for f in spec.study_fields
        ],
        "patient_fields": spec.patient_fields,
        "choices": {
            f.pk: [c.label for c in spec.choices.get(f.pk, []) if not c.retired]
            for f in spec.fields
            if f.kind.has_choices or f.kind == FieldType.YES_NO
        },
        "template_row": {
            "index": "__i__",
            "label": "",
            "cells": [CellView(f, "") for f in spec.patient_fields],
        },
        "rows": rows,
        "blank_rows": blank,
        "next_index": max((r.index for r in rows + blank), default=-1) + 1,
        "error_count": len(errors),
        "pdfs": pdfs,
        "pdf": pdf,
        "dual": extraction_setup_of(review).dual,
    }


def _study(review: Review, pk: int) -> Study:
    return get_object_or_404(Study, review=review, pk=pk)


def _render_copy(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, "extraction/copy.html", context, status=status)


@require_GET
def study_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Your copy of the study to fill in, or a page that offers to start one."""
    review, membership = review_for_request(request, slug)
    study = _study(review, pk)
    copies = study_copies(Extraction, study, related=("extractor", "review"))
    mine = next((c for c in copies if c.extractor_id == membership.user_id), None)
    if mine is not None:
        return _render_copy(request, _copy_context(request, review, membership, study, mine))
    others, consensus = rules.split(copies)
    allowed = rules.copies_needed(extraction_setup_of(review).dual)
    return render(
        request,
        "extraction/study.html",
        {
            "review": review,
            "membership": membership,
            "study": study,
            "copies": [c for c in copies if may_view(c, membership, copies)],
            "consensus": consensus,
            "can_start": len(others) < allowed,
            "extractors": [c.extractor for c in others],
            "pdfs": study_pdfs(review, study),
        },
    )


@require_POST
def study_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    study = _study(review, pk)
    try:
        extraction_start(study=study, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("extraction-study", slug=review.slug, pk=study.pk)


def _copy(review: Review, pk: int) -> Extraction:
    return get_object_or_404(
        Extraction.objects.select_related("study", "extractor", "review"), review=review, pk=pk
    )


def _copy_url(extraction: Extraction) -> str:
    return reverse("extraction-copy", args=[extraction.review.slug, extraction.pk])


@require_http_methods(["GET", "POST"])
def copy_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One copy of a study's data: shown to those who may see it, saved by its editor.

    A save checks every cell; with any problem nothing is stored, and the page comes back
    with what was typed and the message at each cell.
    """
    review, membership = review_for_request(request, slug)
    extraction = _copy(review, pk)
    copies = study_copies(Extraction, extraction.study)
    if not may_view(extraction, membership, copies):
        raise Http404("No such copy.")
    if request.method == "POST" and not may_edit(extraction, membership):
        raise PermissionDenied("This copy is not yours to edit.")
    if request.method == "GET":
        return _render_copy(
            request, _copy_context(request, review, membership, extraction.study, extraction)
        )
    spec = form_spec(review)
    study_values, patients, views = _submitted(request.POST, spec)
    try:
        errors = extraction_save(
            extraction=extraction,
            user=current_user(request),
            study_values=study_values,
            patients=patients,
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_copy_url(extraction))
    if errors:
        study_text = {pk: str(v) for pk, v in study_values.items()}
        context = _copy_context(
            request,
            review,
            membership,
            extraction.study,
            extraction,
            study_text=study_text,
            rows=views,
            errors=errors,
        )
        messages.error(
            request,
            f"Nothing was saved: {_cells(len(errors))} to correct (marked below). "
            "What you typed is still here.",
        )
        return _render_copy(request, context, status=400)
    saved = extraction.patients.count()
    messages.success(request, f"Saved, with {saved} patient row{'' if saved == 1 else 's'}.")
    if request.POST.get("then") == "done":
        return copy_done(request, slug, pk)
    return redirect(_copy_url(extraction))


@require_POST
def copy_done(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    extraction = _copy(review, pk)
    if not may_edit(extraction, membership):
        raise PermissionDenied("This copy is not yours to mark done.")
    try:
        problems = extraction_done(extraction=extraction, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_copy_url(extraction))
    if problems:
        messages.error(
            request,
            f"Not marked done: {_cells(len(problems))} required but empty (marked below). "
            "Enter a value, or “not reported” where the paper does not say.",
        )
        return _render_copy(
            request,
            _copy_context(
                request, review, membership, extraction.study, extraction, errors=problems
            ),
            status=400,
        )
    messages.success(
        request,
        "Final: analysis now reads these data."
        if extraction.is_consensus or not extraction_setup_of(review).dual
        else "Marked done.",
    )
    return redirect(_copy_url(extraction))


@require_POST
def copy_reopen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    extraction = _copy(review, pk)
    copies = study_copies(Extraction, extraction.study)
    if not may_view(extraction, membership, copies):
        raise Http404("No such copy.")
    if not rules.may_reopen(extraction, membership, copies, dual=extraction_setup_of(review).dual):
        raise PermissionDenied("This copy is not yours to reopen.")
    try:
        extraction_reopen(extraction=extraction, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Reopened for changes.")
    return redirect(_copy_url(extraction))


urlpatterns: list[URLPattern] = [
    path("", overview, name="extraction-overview"),
    path("studies/<int:pk>/", study_page, name="extraction-study"),
    path("studies/<int:pk>/start/", study_start, name="extraction-start"),
    path("copies/<int:pk>/", copy_page, name="extraction-copy"),
    path("copies/<int:pk>/done/", copy_done, name="extraction-done"),
    path("copies/<int:pk>/reopen/", copy_reopen, name="extraction-reopen"),
]
