"""The data an analysis reads: the review's final patient rows, as variables and a frame.

Study-level fields are analysable too: each patient row carries its study's value, so a
cross-tabulation of recurrence by study design counts patients under their study's design.

The rows are those `extraction.selectors.dataset` gives (the final copy of each study, per
`final_copies`; values typed by `extraction.values.typed`: numbers, choice labels, a tuple of
labels for a multiple choice, "yes"/"no"/"unknown", None for empty or not reported), read
here for the patient-level fields a run uses only: a run on 10,000 patients reads its
columns in a fraction of the time the whole dataset takes. Those become `Variable`s (a
field with its levels in form order) and a pandas DataFrame the statistics functions take:

- single choice: a categorical column whose categories are the field's choices in form
  order (a retired choice only when some patient still holds it);
- yes / no: a categorical column with levels "Yes", "No". "Unknown" means the paper does
  not say, so to a statistic it is missing, like "not reported";
- multiple choice: a column of tuples of labels (a patient may hold several);
- numbers: float columns; free text and dates: their text (not summarised).

The fingerprint of a run is the sha256 of the canonical JSON of the values it used and the
definitions of the fields it used, so a change anywhere else in the form or the data does
not mark a result out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analysis.stats import FieldSpec
from analysis.stats.summary import Kind
from extraction.models import Field, FieldChoice, FieldType, Level, PatientRow
from extraction.selectors import final_copies
from extraction.values import FormSpec, form_spec, typed
from reviewer.models import Review

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import pandas as pd

YES, NO = "Yes", "No"
YES_NO_LEVELS = (YES, NO)
_YES_NO = {"yes": YES, "no": NO}

#: Field types a cross-tabulation accepts as its rows or columns.
CATEGORICAL_TYPES = frozenset({FieldType.CHOICE, FieldType.YES_NO})


@dataclass(frozen=True)
class Variable:
    """A field as analysis sees it: a patient-level one, or a study-level one whose value
    each patient row of the study carries (`study_level`)."""

    key: str
    label: str
    type: FieldType
    unit: str = ""
    levels: tuple[str, ...] = ()
    study_level: bool = False

    @property
    def choice_label(self) -> str:
        """The label a form offers it under: a study-level field says so."""
        return f"{self.label} (study level)" if self.study_level else self.label

    @property
    def categorical(self) -> bool:
        return self.type in CATEGORICAL_TYPES

    @property
    def numeric(self) -> bool:
        return self.type.numeric

    @property
    def summarised(self) -> bool:
        """Whether the characteristics table can summarise it (free text and dates not)."""
        return self.type not in (FieldType.TEXT, FieldType.DATE)

    def definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "type": str(self.type),
            "unit": self.unit,
            "levels": list(self.levels),
        }
        if self.study_level:  # patient-level definitions (and fingerprints) as before
            definition["level"] = "study"
        return definition


@dataclass
class AnalysisData:
    """The review's final patient rows: every patient-level field as a `Variable` (in form
    order), and the typed values of the fields loaded (all, unless asked for fewer)."""

    variables: dict[str, Variable]
    rows: list[dict[str, Any]]
    studies: int
    study_ids: list[int] = field(default_factory=list)  # each row's study
    final_studies: frozenset[int] = frozenset()  # the studies with final data

    @property
    def patients(self) -> int:
        return len(self.rows)

    def restricted(self, studies: Collection[int]) -> AnalysisData:
        """The same data, for the patients of `studies` only (a sensitivity analysis)."""
        kept = [i for i, pk in enumerate(self.study_ids) if pk in studies]
        finals = self.final_studies & frozenset(studies)
        return AnalysisData(
            self.variables,
            [self.rows[i] for i in kept],
            len(finals),
            [self.study_ids[i] for i in kept],
            finals,
        )

    def used(self, keys: Iterable[str]) -> list[Variable]:
        return [self.variables[key] for key in keys]


@dataclass
class _Spec(FormSpec):
    """The review's form with each field's choice labels looked up once, not per value."""

    _labels: dict[int, dict[int, str]] = field(default_factory=dict)

    def choice_labels(self, form_field: Field) -> dict[int, str]:
        labels = self._labels.get(form_field.pk)
        if labels is None:
            labels = self._labels[form_field.pk] = super().choice_labels(form_field)
        return labels


def analysis_data(review: Review, keys: Collection[str] | None = None) -> AnalysisData:
    """The final patient rows of `review`, with the values of `keys` (None: every field);
    a study-level field's value is its study's, on each of the study's rows."""
    loaded = form_spec(review)
    spec = _Spec(fields=loaded.fields, choices=loaded.choices)
    finals = final_copies(review)
    fields = [f for f in spec.patient_fields if keys is None or f.key in keys]
    study_fields = [f for f in spec.study_fields if keys is None or f.key in keys]
    patients = PatientRow.objects.filter(extraction__in=finals)
    stored = list(
        patients.order_by("extraction_id", "position").values_list(
            "extraction__study_id", "extraction_id", "values" if fields else "pk"
        )
    )
    study_ids = [pk for pk, _, _ in stored]
    if fields or study_fields:
        by_study = {
            e.pk: {f.key: typed(spec, f, e.values.get(str(f.pk))) for f in study_fields}
            for e in finals
        }
        rows = [
            {
                **{f.key: typed(spec, f, values.get(str(f.pk))) for f in fields},
                **by_study[copy],
            }
            for _, copy, values in stored
        ]
    else:  # only the count is wanted
        rows = [{} for _ in stored]
    read = {f.key for f in fields + study_fields}
    variables = {
        f.key: _variable(spec.choices.get(f.pk, []), f, rows if f.key in read else None)
        for f in spec.patient_fields + spec.study_fields
    }
    return AnalysisData(
        variables, rows, len(finals), study_ids, frozenset(e.study_id for e in finals)
    )


def form_variables(review: Review) -> dict[str, Variable]:
    """Every active field of the review's form, patient level first, without reading any
    row."""
    spec = form_spec(review)
    return {
        f.key: _variable(spec.choices.get(f.pk, []), f, None)
        for f in spec.patient_fields + spec.study_fields
    }


def _variable(
    choices: list[FieldChoice], form_field: Field, rows: list[dict[str, Any]] | None
) -> Variable:
    kind = form_field.kind
    levels: tuple[str, ...] = ()
    if kind == FieldType.YES_NO:
        levels = YES_NO_LEVELS
    elif kind.has_choices:
        held = _held_labels(rows, form_field.key) if rows is not None else set()
        levels = tuple(c.label for c in choices if not c.retired or c.label in held)
    study_level = form_field.level == Level.STUDY
    return Variable(form_field.key, form_field.label, kind, form_field.unit, levels, study_level)


def _held_labels(rows: Iterable[dict[str, Any]], key: str) -> set[str]:
    held: set[str] = set()
    for row in rows:
        value = row.get(key)
        if isinstance(value, tuple):
            held.update(value)
        elif isinstance(value, str):
            held.add(value)
    return held


def frame_of(data: AnalysisData, variables: Sequence[Variable]) -> pd.DataFrame:
    """One row per patient, a column per variable (see the module's docstring)."""
    import pandas as pd

    columns: dict[str, Any] = {}
    for variable in variables:
        values = [row.get(variable.key) for row in data.rows]
        if variable.type == FieldType.YES_NO:
            columns[variable.key] = pd.Categorical(
                [_YES_NO.get(v) if isinstance(v, str) else None for v in values],
                categories=list(YES_NO_LEVELS),
            )
        elif variable.type == FieldType.CHOICE:
            columns[variable.key] = pd.Categorical(values, categories=list(variable.levels))
        elif variable.numeric:
            columns[variable.key] = pd.Series(
                [float(v) if v is not None else None for v in values], dtype="float64"
            )
        else:  # a multiple choice holds a tuple of labels; text and dates their text
            columns[variable.key] = pd.Series(values, dtype="object")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(data.rows)))


def field_spec(variable: Variable) -> FieldSpec:
    """`variable` as the statistics layer describes a field."""
    kind: Kind = "categorical"
    if variable.type == FieldType.MULTI:
        kind = "multi"
    elif variable.numeric:
        kind = "numeric"
    return FieldSpec(
        key=variable.key,
        label=variable.label,
        kind=kind,
        levels=variable.levels if kind != "numeric" else None,
        unit=variable.unit,
    )


def fingerprint_of(data: AnalysisData, variables: Sequence[Variable]) -> str:
    """sha256 of the canonical JSON of the values of `variables` and their definitions.

    Rows are sorted by their own JSON, so renaming a study (which reorders the rows)
    changes nothing a statistic sees and keeps the fingerprint.
    """
    keys = [v.key for v in variables]
    rows = sorted(_canonical({key: _plain(row.get(key)) for key in keys}) for row in data.rows)
    document = {"fields": [v.definition() for v in variables], "rows": rows}
    return hashlib.sha256(_canonical(document).encode()).hexdigest()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
