"""Resolving two extractors' copies of a study into the consensus copy (seniors only).

The consensus starts from every value the two copies agree on; each disagreement is then
settled by taking one side's value (or typing another on the consensus copy's own page).
Marking the consensus final makes it the study's data for analysis.
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from extraction.dual import services as dual
from extraction.models import Extraction, PatientRow
from extraction.selectors import compare
from reviewer.models import Study, User

Side = Literal["a", "b"]
SENIOR_ONLY = "Only a senior author resolves extraction disagreements."


def copies_of(study: Study) -> tuple[Extraction, Extraction]:
    """The study's two copies marked done (A, B): `extraction.dual.services.done_pair`."""
    return dual.done_pair(Extraction, study, people="extractors")


@transaction.atomic
def consensus_start(*, study: Study, user: User) -> Extraction:
    """The consensus copy of the study, created from the values both copies agree on."""
    return dual.consensus_begin(
        Extraction,
        study=study,
        user=user,
        people="extractors",
        senior_only=SENIOR_ONLY,
        create=lambda a, b: _agreed(study, user, a, b),
    )


def _agreed(study: Study, user: User, a: Extraction, b: Extraction) -> Extraction:
    comparison = compare(a, b)
    consensus = Extraction.objects.create(
        review=study.review,
        study=study,
        extractor=None,
        updated_by=user,
        values={
            str(c.field.pk): c.a for c in comparison.study_cells if c.agree and c.a is not None
        },
    )
    PatientRow.objects.bulk_create(
        PatientRow(
            extraction=consensus,
            position=row.position,
            label=(row.label_a or "") if row.label_a == row.label_b else "",
            values={str(c.field.pk): c.a for c in row.cells if c.agree and c.a is not None},
        )
        for row in comparison.rows
        if not row.only_in
    )
    return consensus


def _editable(consensus: Extraction, user: User) -> Extraction:
    consensus = (
        Extraction.objects.select_for_update()
        .select_related("study", "review")
        .get(pk=consensus.pk)
    )
    if not consensus.is_consensus:
        raise ValidationError("Values are taken into the consensus copy only.")
    dual.require_senior(consensus.review, user, SENIOR_ONLY)
    if consensus.done:
        raise ValidationError("The consensus is final. Reopen it to change it.")
    return consensus


@transaction.atomic
def consensus_take(
    *,
    consensus: Extraction,
    user: User,
    side: Side,
    field_id: int | None = None,
    position: int | None = None,
) -> None:
    """Take one side's value into the consensus: a study value (`position` None), a
    patient cell, or (no `field_id`) a whole patient row — or its absence."""
    consensus = _editable(consensus, user)
    a, b = copies_of(consensus.study)
    source = a if side == "a" else b
    if position is None:
        if field_id is None:
            raise ValidationError("Say which value to take.")
        _copy_value(source.values, consensus.values, field_id)
        consensus.updated_by = user
        consensus.save(update_fields=["values", "updated_by", "updated_at"])
        return
    source_row = source.patients.filter(position=position).first()
    target = consensus.patients.filter(position=position).first()
    if field_id is None:
        if source_row is None:
            if target is not None:
                target.delete()
            return
        values, label = dict(source_row.values), source_row.label
        if target is None:
            PatientRow.objects.create(
                extraction=consensus, position=position, label=label, values=values
            )
        else:
            target.values, target.label = values, label
            target.save(update_fields=["values", "label"])
        return
    if source_row is None:
        raise ValidationError(f"Patient {position} is not in that copy.")
    if target is None:
        target = PatientRow.objects.create(
            extraction=consensus, position=position, label=source_row.label
        )
    _copy_value(source_row.values, target.values, field_id)
    target.save(update_fields=["values"])


def _copy_value(source: dict[str, object], target: dict[str, object], field_id: int) -> None:
    key = str(field_id)
    if source.get(key) is None:
        target.pop(key, None)
    else:
        target[key] = source[key]
