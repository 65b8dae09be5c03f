"""The files a paper needs, as plain rows and text: every screening decision and the
agreement between reviewers (CSV), included studies (CSV, RIS), every record with its final
state (CSV), and a ZIP bundle of all exports with a manifest.

A full text marked "not retrieved" is part of the audit trail like a decision: the
decisions file has a full-text row for it (who marked it, when, and the note on what was
tried), and the records file has the same three facts in its `not_retrieved_*` columns.

Views stream or attach these; the bundle holds them whole (a review's exports are a few
megabytes at most).
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import rispy
from django.utils import timezone

from reviewer.models import (
    Adjudication,
    Approval,
    Decision,
    FullText,
    Record,
    RecordLabel,
    Review,
    User,
)
from reviewer.screening import queries
from reviewer.screening.agreement import (
    BINARY_CATEGORIES,
    STAGE_CATEGORIES,
    TA,
    Agreement,
    agreement_by_stage,
)
from reviewer.screening.rules import FT
from reviewer.version import VERSION

#: A cell starting with one of these is a formula to a spreadsheet; text that starts with
#: one is prefixed with an apostrophe (CSV injection).
#: Spreadsheets read a CSV as UTF-8 (accents right) when it starts with a byte order mark.
BOM = "\ufeff"
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
    "not_retrieved_by",
    "not_retrieved_at",
    "not_retrieved_note",
    "labels",
)
DECISION_COLUMNS = (
    "record_id",
    "source",
    "title",
    "stage",
    "reviewer",
    "decision",
    "reason",
    "note",
    "decided_at",
    "adjudicated_result",
    "adjudicated_reason",
    "adjudicated_by",
    "final_state",
)
#: Confusion-table cells, the first reviewer's category then the second's; categories a
#: table does not have are left empty.
CELLS = tuple((first, second) for first in STAGE_CATEGORIES[TA] for second in STAGE_CATEGORIES[TA])
AGREEMENT_COLUMNS = (
    "stage",
    "categories",
    "first_reviewer",
    "second_reviewer",
    "records",
    "agreed",
    "percent_agreement",
    "observed_agreement",
    "expected_agreement",
    "kappa",
    "kappa_note",
    *(f"first_{a}_second_{b}" for a, b in CELLS),
)
BATCH = 2000
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


#: What the decisions file says in `decision` for a full text marked not retrieved.
NOT_RETRIEVED = "not retrieved"


def text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _when(moment: Any) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _not_retrieved(review: Review) -> dict[int, FullText]:
    """The full texts marked not retrieved, by record: who marked it (the last to change
    it), when, and the note on what was tried."""
    marked = FullText.objects.filter(review=review, not_retrieved=True).select_related(
        "record__source", "updated_by"
    )
    return {full_text.record_id: full_text for full_text in marked}


def record_rows(review: Review) -> Iterator[Sequence[Any]]:
    """Every record, duplicates and removed ones included, with where it ended up."""
    yield RECORD_COLUMNS
    outcomes = queries.states(review)
    reasons = dict(review.exclusion_reasons.values_list("pk", "label"))
    studies = dict(Approval.objects.filter(review=review).values_list("record_id", "study__label"))
    not_retrieved = _not_retrieved(review)
    labels: dict[int, list[str]] = defaultdict(list)
    for record_id, name, username in RecordLabel.objects.filter(review=review).values_list(
        "record_id", "name", "added_by__username"
    ):
        labels[record_id].append(f"{name} ({username})")
    records = review.records.select_related("source").order_by("pk")
    for record in records.iterator(chunk_size=2000):
        outcome = outcomes[record.pk]
        marked = not_retrieved.get(record.pk)
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
            marked.updated_by.username if marked else "",
            _when(marked.updated_at) if marked else "",
            text(marked.note) if marked else "",
            text("; ".join(labels.get(record.pk, ()))),
        )


def decision_rows(review: Review) -> Iterator[Sequence[Any]]:
    """Every current decision (a withdrawn one is gone from the table, so not here), TA
    before FT for each record, with the stage's adjudication and the record's state; and
    for a full text marked not retrieved, a full-text row saying who marked it, when and
    what was tried (decision "not retrieved"), after the record's decisions."""
    yield DECISION_COLUMNS
    adjudications = {
        (a.record_id, a.stage): a
        for a in Adjudication.objects.filter(review=review).select_related("reason", "decided_by")
    }
    outcomes = queries.states(review)

    def state(record_id: int) -> str:
        outcome = outcomes.get(record_id)
        return outcome.state.label if outcome else ""

    decisions = (
        Decision.objects.filter(review=review)
        .select_related("record__source", "reviewer", "reason")
        .order_by("record_id", "-stage", "pk")  # "ta" sorts after "ft": descending puts TA first
    )

    def decided() -> Iterator[tuple[tuple[int, int, int], Sequence[Any]]]:
        for decision in decisions.iterator(chunk_size=BATCH):
            record = decision.record
            adjudication = adjudications.get((record.pk, decision.stage))
            row = (
                record.pk,
                text(record.source.name),
                text(record.title),
                decision.stage,
                decision.reviewer.username,
                decision.choice,
                text(decision.reason.label) if decision.reason else "",
                text(decision.note),
                _when(decision.updated_at),
                adjudication.choice if adjudication else "",
                text(adjudication.reason.label) if adjudication and adjudication.reason else "",
                adjudication.decided_by.username if adjudication else "",
                state(record.pk),
            )
            yield (record.pk, 0 if decision.stage == TA else 1, 0), row

    def marked() -> Iterator[tuple[tuple[int, int, int], Sequence[Any]]]:
        for record_id, full_text in sorted(_not_retrieved(review).items()):
            record = full_text.record
            row = (
                record.pk,
                text(record.source.name),
                text(record.title),
                FT,
                full_text.updated_by.username,
                NOT_RETRIEVED,
                "",
                text(full_text.note),
                _when(full_text.updated_at),
                "",
                "",
                "",
                state(record_id),
            )
            yield (record_id, 1, 1), row

    # both in record order: merged, each record's rows stay together, TA, FT, not retrieved
    for _, row in heapq.merge(decided(), marked(), key=lambda item: item[0]):
        yield row


def agreement_row(
    stage: str, categories: str, first: str, second: str, result: Agreement
) -> list[Any]:
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    cells = [
        result.table[a][b] if a in result.table and b in result.table else "" for a, b in CELLS
    ]
    percent = "" if result.percent is None else f"{result.percent:.1f}"
    return [
        stage,
        categories,
        first,
        second,
        result.n,
        result.agreed,
        percent,
        number(result.observed),
        number(result.expected),
        number(result.kappa),
        result.reason,
        *cells,
    ]


def agreement_rows(review: Review) -> Iterator[Sequence[Any]]:
    """One row per stage, view and pair of reviewers ("all" pooled first)."""
    yield AGREEMENT_COLUMNS
    rows = list(
        Decision.objects.filter(review=review).values_list(
            "record_id", "reviewer_id", "stage", "choice"
        )
    )
    names: dict[Hashable, str] = dict(
        User.objects.filter(pk__in={row[1] for row in rows}).values_list("pk", "username")
    )
    for stage, result in agreement_by_stage(rows).items():
        for pair in [result.overall, *result.pairs]:
            first = names[pair.first] if pair.first is not None else "all"
            second = names[pair.second] if pair.second is not None else "all"
            detailed = "/".join(STAGE_CATEGORIES[stage])
            yield agreement_row(stage, detailed, first, second, pair.detailed)
            if pair.binary is not None:
                binary = f"{BINARY_CATEGORIES[0]} or maybe/{BINARY_CATEGORIES[1]}"
                yield agreement_row(stage, binary, first, second, pair.binary)


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
    out.write(BOM)
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
