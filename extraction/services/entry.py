"""Filling in a study: one person's copy of its study values and patient rows.

A save checks every cell first and writes nothing unless all are valid; the page keeps
what was typed and shows each problem at its cell. Values of retired fields are kept
untouched by a save (the page does not show them). "Done" also needs every required
field filled in (a value, or "not reported").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from extraction.dual import rules
from extraction.dual import services as dual
from extraction.models import Extraction, ExtractionStatus, PatientRow
from extraction.selectors import extraction_setup_of
from extraction.values import REQUIRED_MESSAGE, FormSpec, ValueProblem, form_spec, parse
from reviewer.models import Membership, Study, User

PARKED = 1_000_000


@dataclass
class PatientInput:
    """One submitted patient row: its id when it was saved before, its label, raw cells."""

    id: int | None = None
    label: str = ""
    values: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellError:
    """A problem at a cell. `row` is the 0-based index of the submitted patient row, or
    None for a study-level field; `field_id` None means the row itself (its label)."""

    row: int | None
    field_id: int | None
    message: str


def _member(study: Study, user: User) -> Membership:
    return dual.member(study.review, user)


#: An extractor edits their own copy; a senior edits the consensus copy.
may_edit = rules.may_edit


@transaction.atomic
def extraction_start(*, study: Study, user: User) -> Extraction:
    """The user's copy of the study, created on first use.

    With dual extraction a study has two extractors; with single extraction, one.
    """
    return dual.copy_start(
        Extraction,
        study=study,
        user=user,
        allowed=rules.copies_needed(extraction_setup_of(study.review).dual),
        verb="extracted",
        create=lambda _others: Extraction.objects.create(
            review=study.review, study=study, extractor=user, updated_by=user
        ),
    )


def _check(
    spec: FormSpec,
    extraction: Extraction,
    study_values: Mapping[int, Any],
    patients: Sequence[PatientInput],
    existing: Mapping[int, PatientRow],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[CellError]]:
    errors: list[CellError] = []
    study = dict(extraction.values)
    for form_field in spec.study_fields:
        if form_field.pk not in study_values:
            continue
        try:
            value = parse(
                spec, form_field, study_values[form_field.pk], current=study.get(str(form_field.pk))
            )
        except ValueProblem as problem:
            errors.append(CellError(None, form_field.pk, str(problem)))
            continue
        _put(study, form_field.pk, value)
    rows: list[dict[str, Any]] = []
    for index, patient in enumerate(patients):
        before = existing.get(patient.id) if patient.id is not None else None
        if patient.id is not None and before is None:
            errors.append(
                CellError(index, None, "This row was deleted meanwhile; reload the page.")
            )
            continue
        values = dict(before.values) if before is not None else {}
        for form_field in spec.patient_fields:
            if form_field.pk not in patient.values:
                continue
            try:
                value = parse(
                    spec,
                    form_field,
                    patient.values[form_field.pk],
                    current=values.get(str(form_field.pk)),
                )
            except ValueProblem as problem:
                errors.append(CellError(index, form_field.pk, str(problem)))
                continue
            _put(values, form_field.pk, value)
        rows.append(
            {"id": patient.id, "label": " ".join(patient.label.split())[:60], "values": values}
        )
    return study, rows, errors


def _put(values: dict[str, Any], field_id: int, value: Any) -> None:
    if value is None:
        values.pop(str(field_id), None)
    else:
        values[str(field_id)] = value


def _blank(row: Mapping[str, Any], spec: FormSpec) -> bool:
    keys = {str(f.pk) for f in spec.patient_fields}
    return not row["label"] and not any(k in keys for k in row["values"])


@transaction.atomic
def extraction_save(
    *,
    extraction: Extraction,
    user: User,
    study_values: Mapping[int, Any],
    patients: Sequence[PatientInput],
) -> list[CellError]:
    """Check every cell, then store the study values and exactly the submitted rows, in
    their submitted order (rows left out are deleted, blank new rows are ignored).

    Returns the problems; when there are any, nothing is written.
    """
    extraction = (
        Extraction.objects.select_for_update()
        .select_related("review", "study")
        .get(pk=extraction.pk)
    )
    membership = _member(extraction.study, user)
    if not may_edit(extraction, membership):
        raise ValidationError("This copy of the study is not yours to edit.")
    if extraction.done:
        raise ValidationError("This copy is marked done. Reopen it to change it.")
    spec = form_spec(extraction.review)
    existing = {row.pk: row for row in extraction.patients.all()}
    study, rows, errors = _check(spec, extraction, study_values, patients, existing)
    if errors:
        return errors
    rows = [row for row in rows if row["id"] is not None or not _blank(row, spec)]
    extraction.values = study
    extraction.updated_by = user
    extraction.save(update_fields=["values", "updated_by", "updated_at"])
    _store_rows(extraction, rows, existing)
    return []


def _store_rows(
    extraction: Extraction, rows: Sequence[Mapping[str, Any]], existing: Mapping[int, PatientRow]
) -> None:
    """Replace the copy's patient rows by `rows` (dicts with id, label, values), in order."""
    kept = {row["id"] for row in rows if row["id"] is not None}
    PatientRow.objects.filter(extraction=extraction).exclude(pk__in=kept).delete()
    # Positions are unique per copy: park the kept rows far above the new positions first.
    PatientRow.objects.filter(extraction=extraction).update(position=F("position") + PARKED)
    updates, creates = [], []
    for position, row in enumerate(rows, start=1):
        if row["id"] is not None:
            stored = existing[row["id"]]
            stored.position, stored.label, stored.values = position, row["label"], row["values"]
            updates.append(stored)
        else:
            creates.append(
                PatientRow(
                    extraction=extraction,
                    position=position,
                    label=row["label"],
                    values=row["values"],
                )
            )
    PatientRow.objects.bulk_update(updates, ["position", "label", "values"], batch_size=500)
    PatientRow.objects.bulk_create(creates, batch_size=1000)


def required_problems(extraction: Extraction, spec: FormSpec | None = None) -> list[CellError]:
    spec = spec or form_spec(extraction.review)
    problems = [
        CellError(None, f.pk, REQUIRED_MESSAGE)
        for f in spec.study_fields
        if f.required and extraction.values.get(str(f.pk)) is None
    ]
    for index, row in enumerate(extraction.patients.all()):
        problems.extend(
            CellError(index, f.pk, REQUIRED_MESSAGE)
            for f in spec.patient_fields
            if f.required and row.values.get(str(f.pk)) is None
        )
    return problems


@transaction.atomic
def extraction_done(*, extraction: Extraction, user: User) -> list[CellError]:
    """Mark a copy done (for the consensus copy: final). Refused with the missing cells."""
    extraction = (
        Extraction.objects.select_for_update()
        .select_related("review", "study")
        .get(pk=extraction.pk)
    )
    membership = _member(extraction.study, user)
    if not may_edit(extraction, membership):
        raise ValidationError("This copy of the study is not yours to mark done.")
    problems = required_problems(extraction)
    if problems:
        return problems
    extraction.status = ExtractionStatus.DONE
    extraction.updated_by = user
    extraction.save(update_fields=["status", "updated_by", "updated_at"])
    return []


@transaction.atomic
def extraction_reopen(*, extraction: Extraction, user: User) -> Extraction:
    """Back to "in progress" (`extraction.dual.rules.may_reopen`, `reopen_refusal`): an
    extractor's copy cannot reopen once the consensus is final; a senior reopens the
    consensus first."""
    return dual.copy_reopen(
        Extraction,
        copy=extraction,
        user=user,
        dual=extraction_setup_of(extraction.review).dual,
        noun="copy of the study",
    )
