"""Reading, checking and showing extraction values: one place for every field type.

A value is stored in a JSON map under the field's id (`str(field.pk)`):

| type | stored | typed in as |
| --- | --- | --- |
| integer | int | `12` |
| decimal | str of a Decimal (no float rounding) | `12.5` or `12,5` |
| text | str | anything |
| single choice | the choice's id | the choice's label (any case) |
| multiple choice | list of choice ids, in form order | labels separated by `;` |
| yes/no/unknown | "yes", "no" or "unknown" | yes/no/unknown, y/n, true/false |
| date | ISO date str | `2024-02-29` |

"Not reported" (the paper does not say) is stored as `NOT_REPORTED` and typed as
`not reported` or `NR`; it differs from empty (nobody has filled the cell yet).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from extraction.models import Field, FieldChoice, FieldType, Level
from reviewer.models import Review

NOT_REPORTED: dict[str, bool] = {"nr": True}
NOT_REPORTED_TEXT = "not reported"
NOT_REPORTED_INPUTS = frozenset({"not reported", "nr", "n/r", "n.r.", "not stated"})
MULTI_SEPARATOR = ";"
YES_NO = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "unknown": "unknown",
    "unk": "unknown",
    "u": "unknown",
}
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class ValueProblem(ValueError):
    """A typed value that does not fit its field; the message says why, for the cell."""


def is_not_reported(stored: Any) -> bool:
    return bool(stored == NOT_REPORTED)


@dataclass
class FormSpec:
    """A review's form, loaded once: fields per level and choices per field."""

    fields: list[Field]
    choices: dict[int, list[FieldChoice]] = field(default_factory=dict)

    def active(self, level: str) -> list[Field]:
        return [f for f in self.fields if f.level == level and not f.retired]

    @property
    def study_fields(self) -> list[Field]:
        return self.active(Level.STUDY)

    @property
    def patient_fields(self) -> list[Field]:
        return self.active(Level.PATIENT)

    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    def choice_labels(self, form_field: Field) -> dict[int, str]:
        return {c.pk: c.label for c in self.choices.get(form_field.pk, [])}


def form_spec(review: Review) -> FormSpec:
    fields = list(Field.objects.filter(review=review).order_by("level", "position", "pk"))
    spec = FormSpec(fields=fields)
    for choice in FieldChoice.objects.filter(field__review=review).order_by("position", "pk"):
        spec.choices.setdefault(choice.field_id, []).append(choice)
    return spec


def _number(form_field: Field, text: str) -> Decimal:
    kind = form_field.kind
    if kind == FieldType.INTEGER:
        if not _INTEGER.match(text):
            raise ValueProblem(f"“{text}” is not a whole number.")
        number = Decimal(text)
    else:
        candidate = text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text
        try:
            number = Decimal(candidate)
        except InvalidOperation:
            raise ValueProblem(f"“{text}” is not a number.") from None
        if not number.is_finite():
            raise ValueProblem(f"“{text}” is not a number.")
    unit = f" {form_field.unit}" if form_field.unit else ""
    if form_field.min_value is not None and number < form_field.min_value:
        raise ValueProblem(
            f"{text} is below the allowed minimum, {_plain(form_field.min_value)}{unit}."
        )
    if form_field.max_value is not None and number > form_field.max_value:
        raise ValueProblem(
            f"{text} is above the allowed maximum, {_plain(form_field.max_value)}{unit}."
        )
    return number


def _plain(number: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 12.500000 -> "12.5"."""
    text = format(number.normalize(), "f")
    return text


def _choice(options: list[FieldChoice], text: str, *, allow_retired: Iterable[int] = ()) -> int:
    wanted = text.casefold()
    kept = set(allow_retired)
    for option in options:
        if option.label.casefold() == wanted and (not option.retired or option.pk in kept):
            return option.pk
    allowed = ", ".join(f"“{o.label}”" for o in options if not o.retired)
    raise ValueProblem(f"“{text}” is not one of the choices: {allowed}.")


def parse(spec: FormSpec, form_field: Field, raw: Any, *, current: Any = None) -> Any:
    """The stored form of what was typed into `form_field`'s cell; None for empty.

    `current` is the value stored before, so that a retired choice still held by the
    cell may stay (it cannot be picked anew). Raises `ValueProblem` with the reason.
    """
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        raw = raw.date().isoformat() if form_field.kind == FieldType.DATE else str(raw)
    elif isinstance(raw, dt.date):
        raw = raw.isoformat()
    elif isinstance(raw, bool):
        raw = "yes" if raw else "no"
    elif isinstance(raw, float) and raw.is_integer():
        raw = str(int(raw))
    text = " ".join(str(raw).split())
    if not text:
        return None
    if text.casefold() in NOT_REPORTED_INPUTS:
        return dict(NOT_REPORTED)
    kind = form_field.kind
    if kind == FieldType.TEXT:
        return text
    if kind == FieldType.INTEGER:
        return int(_number(form_field, text))
    if kind == FieldType.DECIMAL:
        return _plain(_number(form_field, text))
    if kind == FieldType.YES_NO:
        try:
            return YES_NO[text.casefold()]
        except KeyError:
            raise ValueProblem(f"“{text}” is not yes, no or unknown.") from None
    if kind == FieldType.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueProblem(f"“{text}” is not a date written as YYYY-MM-DD.") from None
    options = spec.choices.get(form_field.pk, [])
    held = current if isinstance(current, list) else [current]
    held_ids = [x for x in held if isinstance(x, int)]
    if kind == FieldType.CHOICE:
        return _choice(options, text, allow_retired=held_ids)
    picked = {
        _choice(options, part.strip(), allow_retired=held_ids)
        for part in text.split(MULTI_SEPARATOR)
        if part.strip()
    }
    order = {option.pk: index for index, option in enumerate(options)}
    return sorted(picked, key=order.__getitem__)


def show(spec: FormSpec, form_field: Field, stored: Any) -> str:
    """The text a person sees (and exports carry) for a stored value; "" for empty."""
    if stored is None:
        return ""
    if is_not_reported(stored):
        return NOT_REPORTED_TEXT
    kind = form_field.kind
    if kind.has_choices:
        labels = spec.choice_labels(form_field)
        ids = stored if isinstance(stored, list) else [stored]
        return f"{MULTI_SEPARATOR} ".join(labels.get(i, f"(deleted choice {i})") for i in ids)
    return str(stored)


def typed(spec: FormSpec, form_field: Field, stored: Any) -> Any:
    """The value analysis reads: numbers as numbers, choices as labels, missing as None.

    "Not reported" and empty are both missing to a statistic; multiple choices become a
    tuple of labels.
    """
    if stored is None or is_not_reported(stored):
        return None
    kind = form_field.kind
    if kind == FieldType.INTEGER:
        return int(stored)
    if kind == FieldType.DECIMAL:
        return float(Decimal(stored))
    if kind.has_choices:
        labels = spec.choice_labels(form_field)
        if kind == FieldType.MULTI:
            return tuple(labels[i] for i in stored if i in labels)
        return labels.get(stored)
    return stored


def parse_by_key(spec: FormSpec, typed_in: Mapping[str, Any]) -> dict[str, Any]:
    """A values map (field id -> stored) from cells typed in by field key, as a person
    types them: `{"sex": "Male", "age_months": "84"}`. Raises `ValueProblem`."""
    fields = spec.by_key()
    stored = {}
    for key, raw in typed_in.items():
        value = parse(spec, fields[key], raw)
        if value is not None:
            stored[str(fields[key].pk)] = value
    return stored


REQUIRED_MESSAGE = "Required: enter a value, or “not reported” if the paper does not say."
