"""Extraction reads: each study's progress, the comparison of two copies, the dataset.

`Progress` and the rules deriving it are `extraction.dual.rules`, shared with appraisal.

The dataset analysis reads is the *final* copy of each study: the consensus copy marked
final (dual extraction), or the single extractor's copy marked done (single extraction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from extraction.dual import rules
from extraction.dual.rules import Progress as Progress  # re-exported: the pages read it here
from extraction.models import Extraction, ExtractionSetup, Field, PatientRow
from extraction.values import FormSpec, form_spec, show, typed
from reviewer.models import Review, Study

STUDY_KEY_PREFIX = "S"


def extraction_setup_of(review: Review) -> ExtractionSetup:
    """The review's extraction settings; the defaults (unsaved) until an owner saves them,
    so that reading a page never writes. `services.forms.setup_update` stores them."""
    return ExtractionSetup.objects.filter(review=review).first() or ExtractionSetup(review=review)


def study_key(study: Study | int) -> str:
    """A study's stable key in exports: its id, which renaming the study never changes."""
    pk = study if isinstance(study, int) else study.pk
    return f"{STUDY_KEY_PREFIX}{pk}"


def study_from_key(key: str) -> int | None:
    key = key.strip().upper()
    if key.startswith(STUDY_KEY_PREFIX) and key[1:].isdigit():
        return int(key[1:])
    return None


@dataclass
class Cell:
    field: Field
    a: Any
    b: Any
    consensus: Any = None
    a_text: str = ""
    b_text: str = ""
    consensus_text: str = ""

    @property
    def agree(self) -> bool:
        return bool(self.a == self.b)


@dataclass
class RowComparison:
    position: int
    label_a: str | None
    label_b: str | None
    cells: list[Cell]
    in_consensus: bool = False

    @property
    def only_in(self) -> str:
        if self.label_a is None:
            return "b"
        if self.label_b is None:
            return "a"
        return ""

    @property
    def disagreements(self) -> int:
        if self.only_in:
            return 1
        return sum(not c.agree for c in self.cells) + (self.label_a != self.label_b)


@dataclass
class Comparison:
    a: Extraction
    b: Extraction
    consensus: Extraction | None
    study_cells: list[Cell]
    rows: list[RowComparison] = field(default_factory=list)

    @property
    def study_disagreements(self) -> int:
        return sum(not c.agree for c in self.study_cells)

    @property
    def patient_disagreements(self) -> int:
        return sum(r.disagreements for r in self.rows)

    @property
    def disagreements(self) -> int:
        return self.study_disagreements + self.patient_disagreements


@dataclass
class StudyProgress:
    study: Study
    status: Progress
    copies: list[Extraction]
    consensus: Extraction | None
    patients: int = 0
    masked: bool = False  # shown as one extractor sees it (see `progress_seen_by`)


def _cell(spec: FormSpec, form_field: Field, a: Any, b: Any, consensus: Any) -> Cell:
    return Cell(
        form_field,
        a,
        b,
        consensus,
        show(spec, form_field, a),
        show(spec, form_field, b),
        show(spec, form_field, consensus),
    )


def compare(
    a: Extraction, b: Extraction, consensus: Extraction | None = None, spec: FormSpec | None = None
) -> Comparison:
    """Every value of two copies side by side; patient rows are paired by position."""
    spec = spec or form_spec(a.review)
    merged = consensus.values if consensus else {}
    study_cells = [
        _cell(spec, f, a.values.get(str(f.pk)), b.values.get(str(f.pk)), merged.get(str(f.pk)))
        for f in spec.study_fields
    ]
    rows_a = list(a.patients.all())
    rows_b = list(b.patients.all())
    rows_c = {row.position: row for row in consensus.patients.all()} if consensus else {}
    rows = []
    for index in range(max(len(rows_a), len(rows_b))):
        ra = rows_a[index] if index < len(rows_a) else None
        rb = rows_b[index] if index < len(rows_b) else None
        rc = rows_c.get(index + 1)
        va = ra.values if ra else {}
        vb = rb.values if rb else {}
        vc = rc.values if rc else {}
        rows.append(
            RowComparison(
                index + 1,
                ra.label if ra else None,
                rb.label if rb else None,
                [
                    _cell(spec, f, va.get(str(f.pk)), vb.get(str(f.pk)), vc.get(str(f.pk)))
                    for f in spec.patient_fields
                ],
                in_consensus=rc is not None,
            )
        )
    return Comparison(a, b, consensus, study_cells, rows)


def progress(review: Review) -> list[StudyProgress]:
    """Every study of the review with its extraction progress, in label order."""
    dual = extraction_setup_of(review).dual
    studies = list(Study.objects.filter(review=review).order_by("label", "pk"))
    copies: dict[int, list[Extraction]] = {}
    for extraction in (
        Extraction.objects.filter(review=review)
        .select_related("extractor", "review")
        .annotate(rows=models.Count("patients"))
        .order_by("pk")
    ):
        copies.setdefault(extraction.study_id, []).append(extraction)
    spec = form_spec(review)
    result = []
    for study in studies:
        own, consensus = rules.split(copies.get(study.pk, []))
        status = rules.progress_of(
            dual=dual,
            own=own,
            consensus=consensus,
            disagreements=lambda a, b: compare(a, b, spec=spec).disagreements,
        )
        final = rules.final_copy(dual, own, consensus)
        patients = getattr(final or (own[0] if own else None), "rows", 0)
        result.append(StudyProgress(study, status, own, consensus, patients))
    return result


def progress_seen_by(review: Review, user_id: int, *, review_wide: bool) -> list[StudyProgress]:
    """`progress(review)` as a member may see it. With dual extraction and without
    review-wide figures (`rules.may_see_review_wide_figures`: a reviewer of a blinded
    review), a study shows only her own copy: not started until she starts one, her copy's
    state and patient rows, and "final" once the consensus is; never a colleague's copy,
    its progress or its row count, which move with work she must not see."""
    rows = progress(review)
    if review_wide or not extraction_setup_of(review).dual:
        return rows
    seen = []
    for row in rows:
        own = [c for c in row.copies if c.extractor_id == user_id]
        status = rules.progress_masked(row.status, own)
        if status is Progress.FINAL:
            patients = row.patients
        else:
            patients = getattr(own[0], "rows", 0) if own else 0
        seen.append(StudyProgress(row.study, status, own, row.consensus, patients, masked=True))
    return seen


def final_copies(review: Review) -> list[Extraction]:
    """The copy analysis reads for each study whose data are final."""
    dual = extraction_setup_of(review).dual
    copies: dict[int, list[Extraction]] = {}
    for extraction in (
        Extraction.objects.filter(review=review).select_related("study").order_by("pk")
    ):
        copies.setdefault(extraction.study_id, []).append(extraction)
    finals = []
    for group in copies.values():
        own, consensus = rules.split(group)
        final = rules.final_copy(dual, own, consensus)
        if final is not None:
            finals.append(final)
    return sorted(finals, key=lambda e: (e.study.label, e.study_id))


def patient_count(copies: Iterable[Extraction]) -> int:
    """How many patient rows these copies hold (the final copies: the patients with final
    data)."""
    return PatientRow.objects.filter(extraction__in=list(copies)).count()


@dataclass
class Dataset:
    """The patient rows analysis reads: one dict per patient, keyed by field key, plus
    `study_key`, `study` and `patient`; study-level values under their own keys."""

    spec: FormSpec
    patient_fields: list[Field]
    study_fields: list[Field]
    rows: list[dict[str, Any]]
    studies: int


def dataset(review: Review) -> Dataset:
    """The final data of every study, typed as analysis reads them (numbers, labels, None
    for empty or not reported)."""
    spec = form_spec(review)
    finals = final_copies(review)
    study_values = {
        e.pk: {f.key: typed(spec, f, e.values.get(str(f.pk))) for f in spec.study_fields}
        for e in finals
    }
    by_pk = {e.pk: e for e in finals}
    rows = []
    for row in PatientRow.objects.filter(extraction__in=finals).order_by(
        "extraction__study__label", "extraction__study_id", "position"
    ):
        extraction = by_pk[row.extraction_id]
        item: dict[str, Any] = {
            "study_key": study_key(extraction.study_id),
            "study": extraction.study.label,
            "patient": row.label or str(row.position),
        }
        item.update(study_values[extraction.pk])
        for f in spec.patient_fields:
            item[f.key] = typed(spec, f, row.values.get(str(f.pk)))
        rows.append(item)
    return Dataset(spec, spec.patient_fields, spec.study_fields, rows, len(finals))
