"""Exports: every decision, the agreement between reviewers, every record with its final
state, the included studies (CSV and RIS), and one ZIP bundle of them all (with the PRISMA
diagram and its data) — all from the exports page.

Both are for senior authors and owners only: the decisions file names who decided what on
each record (it unblinds the review), and the agreement file's confusion tables, read next
to one's own decisions, can give away another reviewer's decision on a record.

The files stream (a review can have tens of thousands of decisions), start with a UTF-8 byte
order mark so Excel reads accents right, and are named after the review and the day.

The page and the bundle list every app's files (screening from the core, the final
extraction data and risk of bias, the newest analysis results), so they live in the
project corner (see `reviewer.project`); the screening files themselves are written by
`reviewer.exports`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from analysis.exports import file_name, forest_files, tables_bytes
from analysis.selectors import newest_runs
from extraction.appraisal import selectors as appraisal_selectors
from extraction.appraisal.results import bundle_files as appraisal_files
from extraction.selectors import final_copies, patient_count
from extraction.services.transfer import export_file
from reviewer import exports, selectors
from reviewer.access import current_user, review_for_request
from reviewer.downloads import attachment_headers
from reviewer.models import Review, Role, User
from reviewer.prisma.counts import prisma_report


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_response(
    review: Review, name: str, rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield exports.BOM
        for row in rows:
            yield writer.writerow(row)

    return StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
        headers=attachment_headers(review, name, "csv"),
    )


@require_GET
def export_decisions(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    return _csv_response(review, "decisions", exports.decision_rows(review))


@require_GET
def export_agreement(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    return _csv_response(review, "agreement", exports.agreement_rows(review))


def _attachment(
    review: Review, what: str, ext: str, content: str | bytes, content_type: str
) -> HttpResponse:
    return HttpResponse(
        content, content_type=content_type, headers=attachment_headers(review, what, ext)
    )


@require_GET
def export_records(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    return _csv_response(review, "records", exports.record_rows(review))


@require_GET
def export_included_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    return _csv_response(review, "included-studies", exports.included_rows(review))


@require_GET
def export_included_ris(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    return _attachment(
        review,
        "included-studies",
        "ris",
        exports.included_ris(review),
        "application/x-research-info-systems; charset=utf-8",
    )


def _extraction_files(review: Review, user: User) -> tuple[dict[str, str | bytes], dict[str, int]]:
    """The final extraction data (what analysis reads), the risk-of-bias results and the
    newest result of each analysis asked for, as the bundle's `extraction/`,
    `risk-of-bias/` and `analysis/` files."""
    files: dict[str, str | bytes] = {}
    counts: dict[str, int] = {}
    if review.extraction_fields.exists():
        for kind in ("patients", "studies"):
            exported = export_file(
                review=review, user=user, kind=kind, scope="final", file_format="csv"
            )
            files[f"extraction/{kind}-final.csv"] = exported.content
            counts[f"extraction/{kind}-final.csv"] = exported.rows
    for run in newest_runs(review):
        files[f"analysis/{file_name(run, 'tables', 'csv')}"] = tables_bytes(run, "csv")
        for name, body in forest_files(run).items():
            files[f"analysis/{name}"] = body
    files.update(appraisal_files(review))
    return files, counts


def _extraction_and_analysis(review: Review) -> dict[str, Any]:
    """What the exports page lists besides the screening files: the final extraction data
    (studies and patients with final data), the final risk-of-bias appraisals, and each
    analysis's newest result, with the titles of its tables."""
    context: dict[str, Any] = {"extraction": review.extraction_fields.exists()}
    if context["extraction"]:
        finals = final_copies(review)
        context["final_studies"] = len(finals)
        context["final_patients"] = patient_count(finals)
    context["risk_of_bias_studies"] = len(appraisal_selectors.final_copies(review))
    context["analyses"] = [
        (run, [table.get("title", "") for table in (run.result or {}).get("tables", [])])
        for run in newest_runs(review)
    ]
    return context


def _bundle_files(review: Review, user: User) -> tuple[dict[str, str | bytes], dict[str, int]]:
    """Every export of the review, as files for the bundle, with their row counts."""
    from reviewer.prisma.files import FORMATS, checks_text, prisma_file
    from reviewer.prisma.validate import validate

    tables = {
        "decisions.csv": list(exports.decision_rows(review)),
        "agreement.csv": list(exports.agreement_rows(review)),
        "records.csv": list(exports.record_rows(review)),
        "included-studies.csv": list(exports.included_rows(review)),
    }
    files: dict[str, str | bytes] = {name: exports.csv_text(rows) for name, rows in tables.items()}
    counts = {name: len(rows) - 1 for name, rows in tables.items()}
    files["included-studies.ris"] = exports.included_ris(review)
    report = prisma_report(review)
    problems = validate(report.counts, pending=report.pending)
    files["prisma/checks.txt"] = checks_text(report, problems)
    for fmt in ("csv", "svg", "png", "pdf"):
        files[f"prisma/{FORMATS[fmt][0]}"] = prisma_file(report, fmt)
    extracted, extracted_counts = _extraction_files(review, user)
    files.update(extracted)
    counts.update(extracted_counts)
    return files, counts


@require_GET
def export_bundle(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    files, counts = _bundle_files(review, current_user(request))
    return _attachment(
        review, "exports", "zip", exports.bundle(review, files, counts), "application/zip"
    )


@require_GET
def export_list(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    context = {
        "review": review,
        "membership": membership,
        **selectors.export_counts(review),
        # the ZIP's diagram is provisional while anything waits: the page says so first
        "prisma_waiting": prisma_report(review).waiting,
        **_extraction_and_analysis(review),
    }
    return render(request, "reviewer/exports/list.html", context)


urlpatterns: list[URLPattern] = [
    path("exports/", export_list, name="export-list"),
    path("exports/decisions.csv", export_decisions, name="export-decisions"),
    path("exports/agreement.csv", export_agreement, name="export-agreement"),
    path("exports/records.csv", export_records, name="export-records"),
    path("exports/included-studies.csv", export_included_csv, name="export-included-csv"),
    path("exports/included-studies.ris", export_included_ris, name="export-included-ris"),
    path("exports/bundle.zip", export_bundle, name="export-bundle"),
]
