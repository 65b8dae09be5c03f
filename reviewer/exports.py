"""The files a paper needs, as plain rows and text: included studies (CSV, RIS), every
record with its final state (CSV), and a ZIP bundle of all exports with a manifest.

Views stream or attach these; the bundle holds them whole (a review's exports are a few
megabytes at most).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import rispy
from django.utils import timezone

from reviewer.models import Approval, Record, Review
from reviewer.screening import queries
from reviewer.version import VERSION

#: A cell starting with one of these is a formula to a spreadsheet; text that starts with
#: one is prefixed with an apostrophe (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RECORD_COLUMNS = (
    "record_id",
    "source",
    "source_kind",
    "title",
    "authors",
    "year",
    "journal",
    "doi",
    "pmid",
    "duplicate_of",
    "final_state",
    "full_text_exclusion_reason",
    "study",
)
INCLUDED_COLUMNS = (
    "study",
    "record_id",
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "source",
    "approved_by",
    "approved_at",
)


def text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def record_rows(review: Review) -> Iterator[Sequence[Any]]:
    """Every record, duplicates and removed ones included, with where it ended up."""
    yield RECORD_COLUMNS
    outcomes = queries.states(review)
    reasons = dict(review.exclusion_reasons.values_list("pk", "label"))
    studies = dict(Approval.objects.filter(review=review).values_list("record_id", "study__label"))
    records = review.records.select_related("source").order_by("pk")
    for record in records.iterator(chunk_size=2000):
        outcome = outcomes[record.pk]
        yield (
            record.pk,
            text(record.source.name),
            record.source.kind,
            text(record.title),
            text("; ".join(record.authors)),
            record.year or "",
            text(record.journal),
            record.doi,
            record.pmid,
            record.duplicate_of_id or "",
            outcome.state.label,
            text(reasons.get(outcome.reason_id, "")) if outcome.reason_id else "",
            text(studies.get(record.pk, "")),
        )


def _included(review: Review) -> list[Approval]:
    return list(
        Approval.objects.filter(review=review)
        .select_related("record__source", "study", "approved_by")
        .order_by("study__label", "study_id", "record_id")
    )


def included_rows(review: Review) -> Iterator[Sequence[Any]]:
    """The approved reports, grouped by study."""
    yield INCLUDED_COLUMNS
    for approval in _included(review):
        record = approval.record
        yield (
            text(approval.study.label),
            record.pk,
            text(record.title),
            text("; ".join(record.authors)),
            record.year or "",
            text(record.journal),
            record.volume,
            record.issue,
            record.pages,
            record.doi,
            record.pmid,
            text(record.source.name),
            approval.approved_by.username,
            timezone.localtime(approval.created_at).isoformat(timespec="seconds"),
        )


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]
    """RIS without rispy's "1." counter lines, which reference managers do not expect."""

    def set_header(self, count: int) -> str:
        return ""


def _ris_entry(record: Record, study: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type_of_reference": "JOUR", "title": record.title}
    fields = {
        "authors": list(record.authors),
        "year": str(record.year or ""),
        "journal_name": record.journal,
        "volume": record.volume,
        "number": record.issue,
        "start_page": record.pages,
        "doi": record.doi,
        "abstract": record.abstract,
        "keywords": list(record.keywords),
        "notes": [f"Study: {study}"] + ([f"PMID: {record.pmid}"] if record.pmid else []),
    }
    entry.update({key: value for key, value in fields.items() if value})
    return entry


def included_ris(review: Review) -> str:
    """The approved reports as RIS, for a reference manager (the study in a note)."""
    entries = [_ris_entry(a.record, a.study.label) for a in _included(review)]
    return rispy.dumps(entries, implementation=_RisWriter) if entries else ""


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text with a UTF-8 byte order mark (spreadsheets read accents right)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def bundle(review: Review, files: dict[str, str | bytes], counts: dict[str, int]) -> bytes:
    """A ZIP of `files` (name -> content) with manifest.json: the review, when, the app's
    version, and how many rows each table has."""
    manifest = {
        "review": {"slug": review.slug, "title": review.title},
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "app": {"name": "Reviewer", "version": VERSION},
        "files": sorted(files),
        "rows": counts,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
