"""The patient-characteristics summary: one entry per field, as a paper's first table.

`summarise(frame, fields)` reads one column per field from a patient-per-row DataFrame
(missing values as in `analysis.stats.values`):

- "categorical": n and % per level; the denominator is the patients with a reported value,
  and the patients without one are counted as not reported.
- "multi" (multiple choice): a cell holds several levels, as a list/tuple/set or as text
  separated by ";" ("chest; abdomen"). Each level is counted once per patient; % is of the
  patients with at least one level reported, so the percentages can add up to over 100.
- "numeric": n, median, interquartile range, minimum, maximum, mean and standard deviation
  (n - 1 denominator). Quartiles are R's default `quantile(type = 7)`, numpy's "linear"
  method: the (n - 1)p-th order statistic, interpolated linearly.

Levels are the field's, in its order, else the values seen in natural order; a value
outside the field's levels, or a numeric cell that is not a number, is a `StatsInputError`
naming the field, the value and the row (1 = the first patient).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from analysis.stats.errors import StatsInputError
from analysis.stats.values import clean, natural_order

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MULTI_SEPARATOR",
    "CategoricalSummary",
    "FieldSpec",
    "FieldSummary",
    "Kind",
    "LevelCount",
    "NumericSummary",
    "column_values",
    "summarise",
]

Kind = Literal["categorical", "multi", "numeric"]
#: Separates the levels of a multiple-choice answer held as text.
MULTI_SEPARATOR = ";"


@dataclass(frozen=True)
class FieldSpec:
    """A field of the extraction form: its column `key`, how it is shown (`label`, with
    `unit` for numbers), its `kind`, and its levels in display order (None: as found)."""

    key: str
    label: str
    kind: Kind = "categorical"
    levels: tuple[str, ...] | None = None
    unit: str = ""


@dataclass(frozen=True)
class LevelCount:
    """Patients with one level, and their percentage of the denominator."""

    level: str
    n: int
    percent: float


@dataclass(frozen=True)
class CategoricalSummary:
    """A categorical or multiple-choice field: counts per level of the `denominator`
    patients with a value reported; `not_reported` + `denominator` = `total`."""

    key: str
    label: str
    kind: Literal["categorical", "multi"]
    levels: tuple[LevelCount, ...]
    denominator: int
    not_reported: int
    total: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class NumericSummary:
    """A numeric field over its `n` reported values (the statistics are None when n = 0,
    and `sd` when n < 2)."""

    key: str
    label: str
    unit: str
    n: int
    not_reported: int
    total: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    mean: float | None
    sd: float | None
    kind: Literal["numeric"] = "numeric"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


FieldSummary = CategoricalSummary | NumericSummary


def summarise(frame: pd.DataFrame, fields: Sequence[FieldSpec]) -> list[FieldSummary]:
    """One summary per field, in the order given (see the module docstring)."""
    summaries: list[FieldSummary] = []
    for field in fields:
        values = column_values(frame, field)
        if field.kind == "numeric":
            summaries.append(_numeric(field, values))
        elif field.kind in ("categorical", "multi"):
            summaries.append(_categorical(field, values))
        else:
            raise StatsInputError(f"{field.label}: unknown kind of field “{field.kind}”.")
    return summaries


def column_values(frame: pd.DataFrame, field: FieldSpec) -> list[object]:
    """The field's column as a list, or a clear error when the data has no such column."""
    if field.key not in frame.columns:
        raise StatsInputError(
            f"The data has no column “{field.key}” for {field.label}; its columns are "
            f"{', '.join(map(str, frame.columns))}."
        )
    return list(frame[field.key].tolist())


def _categorical(field: FieldSpec, values: list[object]) -> CategoricalSummary:
    answers = [_answer(field, value) for value in values]
    reported = [answer for answer in answers if answer]
    counts: Counter[str] = Counter(level for answer in reported for level in answer)
    levels = _levels(field, counts, answers)
    denominator = len(reported)
    return CategoricalSummary(
        key=field.key,
        label=field.label,
        kind="multi" if field.kind == "multi" else "categorical",
        levels=tuple(
            LevelCount(
                level=level,
                n=counts[level],
                percent=100.0 * counts[level] / denominator if denominator else 0.0,
            )
            for level in levels
        ),
        denominator=denominator,
        not_reported=len(values) - denominator,
        total=len(values),
    )


def _answer(field: FieldSpec, value: object) -> tuple[str, ...]:
    """A patient's levels (none when not reported); one at most unless the field is multi."""
    if field.kind != "multi":
        text = clean(value)
        return () if text is None else (text,)
    if isinstance(value, list | tuple | set | frozenset):
        items: list[object] = list(value)
    else:
        text = clean(value)
        items = [] if text is None else list(text.split(MULTI_SEPARATOR))
    chosen = (clean(item) for item in items)
    return tuple(dict.fromkeys(level for level in chosen if level is not None))


def _levels(
    field: FieldSpec, counts: Counter[str], answers: list[tuple[str, ...]]
) -> tuple[str, ...]:
    if field.levels is None:
        return natural_order(counts)
    for row, answer in enumerate(answers, start=1):
        for level in answer:
            if level not in field.levels:
                raise StatsInputError(
                    f"{field.label}: “{level}” (row {row}) is not one of its levels "
                    f"({', '.join(field.levels)})."
                )
    return field.levels


def _numeric(field: FieldSpec, values: list[object]) -> NumericSummary:
    import numpy as np

    numbers: list[float] = []
    for row, value in enumerate(values, start=1):
        text = clean(value)
        if text is None:
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise StatsInputError(f"{field.label}: “{text}” (row {row}) is not a number.")
        numbers.append(number)
    n = len(numbers)
    data = np.array(numbers)
    q1, median, q3 = (
        np.quantile(data, [0.25, 0.5, 0.75], method="linear").tolist() if n else (None,) * 3
    )
    return NumericSummary(
        key=field.key,
        label=field.label,
        unit=field.unit,
        n=n,
        not_reported=len(values) - n,
        total=len(values),
        median=median,
        q1=q1,
        q3=q3,
        minimum=float(data.min()) if n else None,
        maximum=float(data.max()) if n else None,
        mean=float(data.mean()) if n else None,
        sd=float(data.std(ddof=1)) if n > 1 else None,
    )
