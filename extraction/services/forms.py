"""Changing a review's extraction form without losing any value.

Values are keyed by field id, so a field may be renamed, reordered or retired (and
restored) at any time. What would lose or silently change data is refused with the
reason: deleting a field or a choice that holds values, changing a field's type once
values exist, or narrowing a range so that stored values fall outside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from extraction.models import (
    Extraction,
    ExtractionSetup,
    Field,
    FieldChoice,
    FieldType,
    Level,
    PatientRow,
)
from reviewer.models import Review

ROW_NOUN_LENGTH = 30


def setup_update(
    *, review: Review, dual: bool, row_noun: str | None = None, row_noun_plural: str | None = None
) -> ExtractionSetup:
    """Dual or single extraction; and, when given, the review's word for a patient-level
    row ("patient" / "patients", "site" / "sites"), which analysis texts use."""
    setup, _ = ExtractionSetup.objects.get_or_create(review=review)
    setup.dual = dual
    fields = ["dual"]
    for name, value in (("row_noun", row_noun), ("row_noun_plural", row_noun_plural)):
        if value is None:
            continue
        word = " ".join(value.split())
        if not word or len(word) > ROW_NOUN_LENGTH:
            raise ValidationError(
                f"The word for a row must be 1 to {ROW_NOUN_LENGTH} characters, "
                f"like “patient” / “patients”."
            )
        setattr(setup, name, word)
        fields.append(name)
    setup.save(update_fields=fields)
    return setup


def _stored_values(form_field: Field) -> Iterator[Any]:
    """Every value stored for `form_field`, in every copy (extractors' and consensus)."""
    key = str(form_field.pk)
    if form_field.level == Level.STUDY:
        rows: Iterable[dict[str, Any]] = Extraction.objects.filter(
            review_id=form_field.review_id, values__has_key=key
        ).values_list("values", flat=True)
    else:
        rows = PatientRow.objects.filter(
            extraction__review_id=form_field.review_id, values__has_key=key
        ).values_list("values", flat=True)
    for values in rows:
        if values.get(key) is not None:
            yield values[key]


def values_held(form_field: Field) -> int:
    return sum(1 for _ in _stored_values(form_field))


def choice_uses(choice: FieldChoice) -> int:
    uses = 0
    for value in _stored_values(choice.field):
        held = value if isinstance(value, list) else [value]
        uses += choice.pk in held
    return uses


#: Column names the spreadsheet exports give the study and patient (extraction.services.transfer).
EXPORT_COLUMNS = frozenset({"study_key", "study", "patient"})


def _key_for(review: Review, label: str, key: str) -> str:
    wanted = slugify(key or label).replace("-", "_")[:60].strip("_")
    if not wanted:
        raise ValidationError("Give the field a label with at least one letter or digit.")
    if wanted[0].isdigit():
        wanted = f"f_{wanted}"[:60]
    if wanted in EXPORT_COLUMNS:
        raise ValidationError(
            f"“{wanted}” names a fixed column of the spreadsheet exports. Choose another key."
        )
    if Field.objects.filter(review=review, key=wanted).exists():
        raise ValidationError(
            f"The form already has a field with the key “{wanted}”. Choose another key."
        )
    return wanted


def _check_range(min_value: Decimal | None, max_value: Decimal | None) -> None:
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValidationError("The minimum is above the maximum.")


def _clean_choices(labels: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    seen: set[str] = set()
    for label in labels:
        label = " ".join(label.split())
        if label and label.casefold() not in seen:
            seen.add(label.casefold())
            cleaned.append(label)
    return cleaned


@transaction.atomic
def field_create(
    *,
    review: Review,
    level: str,
    label: str,
    type: str,
    key: str = "",
    unit: str = "",
    required: bool = False,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    help_text: str = "",
    choices: Sequence[str] = (),
) -> Field:
    kind = FieldType(type)
    label = " ".join(label.split())
    if not label:
        raise ValidationError("Give the field a label.")
    _check_range(min_value, max_value)
    options = _clean_choices(choices)
    if kind.has_choices and not options:
        raise ValidationError("A choice field needs at least one choice.")
    last = Field.objects.filter(review=review, level=level).aggregate(m=Max("position"))["m"]
    created = Field.objects.create(
        review=review,
        level=Level(level),
        key=_key_for(review, label, key),
        label=label,
        type=kind,
        unit=unit.strip() if kind.numeric else "",
        required=required,
        min_value=min_value if kind.numeric else None,
        max_value=max_value if kind.numeric else None,
        help_text=help_text.strip(),
        position=(last or 0) + 1,
    )
    if kind.has_choices:
        FieldChoice.objects.bulk_create(
            FieldChoice(field=created, label=option, position=index)
            for index, option in enumerate(options, start=1)
        )
    return created


@transaction.atomic
def field_update(
    *,
    field: Field,
    label: str,
    unit: str = "",
    required: bool = False,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    help_text: str = "",
) -> Field:
    """Rename and re-describe a field. A narrower range must still hold every stored value."""
    label = " ".join(label.split())
    if not label:
        raise ValidationError("Give the field a label.")
    _check_range(min_value, max_value)
    if field.kind.numeric and (min_value != field.min_value or max_value != field.max_value):
        outside = [
            value
            for value in _stored_values(field)
            if not isinstance(value, dict)
            and (
                (min_value is not None and Decimal(str(value)) < min_value)
                or (max_value is not None and Decimal(str(value)) > max_value)
            )
        ]
        if outside:
            shown = ", ".join(str(v) for v in sorted(outside, key=lambda v: Decimal(str(v)))[:5])
            raise ValidationError(
                f"{len(outside)} stored value(s) fall outside the new range ({shown}). "
                "Correct them first, or keep the wider range."
            )
    field.label = label
    field.unit = unit.strip() if field.kind.numeric else ""
    field.required = required
    field.min_value = min_value if field.kind.numeric else None
    field.max_value = max_value if field.kind.numeric else None
    field.help_text = help_text.strip()
    field.save()
    return field


@transaction.atomic
def field_move(*, field: Field, offset: int) -> None:
    """Move a field up (-1) or down (+1) among the fields of its level."""
    siblings = list(
        Field.objects.select_for_update()
        .filter(review_id=field.review_id, level=field.level)
        .order_by("position", "pk")
    )
    index = next(i for i, f in enumerate(siblings) if f.pk == field.pk)
    target = min(max(index + offset, 0), len(siblings) - 1)
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position"])


def field_retire(*, field: Field, retired: bool) -> Field:
    """Take a field off the form (its values are kept) or bring it back."""
    field.retired = retired
    field.save(update_fields=["retired"])
    return field


@transaction.atomic
def field_delete(*, field: Field) -> None:
    held = values_held(field)
    if held:
        raise ValidationError(
            f"“{field.label}” holds {held} value(s). Retire it instead: it leaves the form "
            "and its values are kept."
        )
    field.delete()


@transaction.atomic
def choice_add(*, field: Field, label: str) -> FieldChoice:
    label = " ".join(label.split())
    if not field.kind.has_choices:
        raise ValidationError(f"“{field.label}” is not a choice field.")
    if not label:
        raise ValidationError("Give the choice a label.")
    if field.choices.filter(label__iexact=label).exists():
        raise ValidationError(f"“{field.label}” already has the choice “{label}”.")
    last = field.choices.aggregate(m=Max("position"))["m"]
    return FieldChoice.objects.create(field=field, label=label, position=(last or 0) + 1)


def choice_rename(*, choice: FieldChoice, label: str) -> FieldChoice:
    """Rename a choice: every value holding it shows the new label (values store its id)."""
    label = " ".join(label.split())
    if not label:
        raise ValidationError("Give the choice a label.")
    if choice.field.choices.filter(label__iexact=label).exclude(pk=choice.pk).exists():
        raise ValidationError(f"“{choice.field.label}” already has the choice “{label}”.")
    choice.label = label
    choice.save(update_fields=["label"])
    return choice


def choice_retire(*, choice: FieldChoice, retired: bool) -> FieldChoice:
    """A retired choice cannot be picked any more; values holding it keep it."""
    choice.retired = retired
    choice.save(update_fields=["retired"])
    return choice


@transaction.atomic
def choice_delete(*, choice: FieldChoice) -> None:
    uses = choice_uses(choice)
    if uses:
        raise ValidationError(
            f"“{choice.label}” is held by {uses} value(s) of “{choice.field.label}”. "
            "Retire it instead (it can no longer be picked, the values keep it), or change "
            "those values first."
        )
    choice.delete()
