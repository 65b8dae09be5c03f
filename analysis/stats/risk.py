"""A risk-factor table in the shape of a journal's "Table 1": outcomes by exposure group.

`risk_factor_table(frame, exposure, outcomes)` gives, for every outcome and every level of
it ("recurrence: yes", "recurrence: no"), the number and percentage of patients with that
level in each exposure group and overall, and for every outcome the p-value of the
exposure × outcome cross-tabulation (`analysis.stats.crosstab`), with the test the rule
chose.

Percentages are of the patients in the group with the outcome reported (the
denominator is shown), so a group's levels add up to 100%. Patients without the exposure
or the outcome reported are left out of that outcome, and counted. Exposure groups are the
exposure's levels, else every value seen in natural order; a group with no patient for one
outcome still has its column (0 of 0), and is left out of that outcome's test with a note.
When the test cannot be run (one level only, say) the outcome keeps its counts, with no p
and the reason as its note.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from analysis.stats.crosstab import TEST_NAMES, CrossTab, Rule, crosstab
from analysis.stats.errors import StatsInputError
from analysis.stats.fisher import DEFAULT_BUDGET
from analysis.stats.pvalues import format_p
from analysis.stats.summary import FieldSpec, column_values
from analysis.stats.values import clean, natural_order

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GroupCount",
    "RiskFactorLevel",
    "RiskFactorOutcome",
    "RiskFactorTable",
    "risk_factor_table",
]


@dataclass(frozen=True)
class GroupCount:
    """`n` of `denominator` patients (percent None when the denominator is 0)."""

    n: int
    denominator: int
    percent: float | None


@dataclass(frozen=True)
class RiskFactorLevel:
    """One row of the table: an outcome level, per exposure group and in total."""

    level: str
    groups: tuple[GroupCount, ...]
    total: GroupCount


@dataclass(frozen=True)
class RiskFactorOutcome:
    """One outcome: its rows, and the test of exposure × outcome (`p`, `test` and
    `crosstab` are None when it could not be run; `note` then says why)."""

    key: str
    label: str
    levels: tuple[RiskFactorLevel, ...]
    excluded: int
    p: float | None
    test: str | None
    note: str
    crosstab: CrossTab | None

    @property
    def p_formatted(self) -> str:
        return "" if self.p is None else format_p(self.p)

    @property
    def test_name(self) -> str:
        return TEST_NAMES[self.crosstab.reported_test] if self.crosstab else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "levels": [asdict(level) for level in self.levels],
            "excluded": self.excluded,
            "p": self.p,
            "p_formatted": self.p_formatted,
            "test": self.test,
            "note": self.note,
            "crosstab": self.crosstab.to_dict() if self.crosstab else None,
        }


@dataclass(frozen=True)
class RiskFactorTable:
    """Outcomes by exposure group; `group_sizes[i]` is the number of patients with the
    exposure `groups[i]`."""

    exposure: str
    exposure_label: str
    groups: tuple[str, ...]
    group_sizes: tuple[int, ...]
    outcomes: tuple[RiskFactorOutcome, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "exposure": self.exposure,
            "exposure_label": self.exposure_label,
            "groups": list(self.groups),
            "group_sizes": list(self.group_sizes),
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
        }


def risk_factor_table(
    frame: pd.DataFrame,
    exposure: FieldSpec | str,
    outcomes: Sequence[FieldSpec | str],
    *,
    rule: Rule = "auto",
    yates: bool = False,
    fisher_budget: int = DEFAULT_BUDGET,
) -> RiskFactorTable:
    """Outcomes by exposure group, with a p per outcome (see the module docstring). A field
    given by its key alone is labelled by its key, its levels found in the data."""
    exposure_field = _spec(exposure)
    if exposure_field.kind != "categorical":
        raise StatsInputError(
            f"{exposure_field.label} is a {exposure_field.kind} field: the exposure of a "
            "risk-factor table is categorical."
        )
    exposure_values = [clean(v) for v in column_values(frame, exposure_field)]
    groups = _levels(exposure_field, [v for v in exposure_values if v is not None])
    sizes = Counter(v for v in exposure_values if v is not None)
    results = []
    for outcome in outcomes:
        field = _spec(outcome)
        if field.kind != "categorical":
            raise StatsInputError(
                f"{field.label} is a {field.kind} field: a risk-factor table compares "
                "categorical outcomes only."
            )
        values = [clean(v) for v in column_values(frame, field)]
        results.append(
            _outcome(
                field, exposure_field, groups, exposure_values, values, rule, yates, fisher_budget
            )
        )
    return RiskFactorTable(
        exposure=exposure_field.key,
        exposure_label=exposure_field.label,
        groups=groups,
        group_sizes=tuple(sizes[group] for group in groups),
        outcomes=tuple(results),
    )


def _outcome(
    field: FieldSpec,
    exposure: FieldSpec,
    groups: tuple[str, ...],
    exposure_values: list[str | None],
    values: list[str | None],
    rule: Rule,
    yates: bool,
    fisher_budget: int,
) -> RiskFactorOutcome:
    pairs = [(e, o) for e, o in zip(exposure_values, values, strict=True) if e and o]
    levels = _levels(field, [o for _, o in pairs])
    cells = Counter(pairs)
    denominators = Counter(e for e, _ in pairs)
    rows = tuple(
        RiskFactorLevel(
            level=level,
            groups=tuple(_count(cells[group, level], denominators[group]) for group in groups),
            total=_count(sum(cells[group, level] for group in groups), len(pairs)),
        )
        for level in levels
    )
    try:
        table = crosstab(
            exposure_values,
            values,
            row_levels=groups,
            col_levels=levels,
            row_label=exposure.label,
            col_label=field.label,
            yates=yates,
            rule=rule,
            drop_empty_levels=True,
            fisher_budget=fisher_budget,
        )
    except StatsInputError as error:
        return RiskFactorOutcome(
            key=field.key,
            label=field.label,
            levels=rows,
            excluded=len(values) - len(pairs),
            p=None,
            test=None,
            note=str(error),
            crosstab=None,
        )
    return RiskFactorOutcome(
        key=field.key,
        label=field.label,
        levels=rows,
        excluded=table.excluded,
        p=table.reported_p,
        test=table.reported_test,
        note=" ".join(table.warnings),
        crosstab=table,
    )


def _spec(field: FieldSpec | str) -> FieldSpec:
    return FieldSpec(key=field, label=field) if isinstance(field, str) else field


def _levels(field: FieldSpec, seen: list[str]) -> tuple[str, ...]:
    if field.levels is None:
        return natural_order(seen)
    unknown = natural_order(set(seen) - set(field.levels))
    if unknown:
        raise StatsInputError(
            f"{field.label} has the value “{unknown[0]}”, which is not one of its levels "
            f"({', '.join(field.levels)})."
        )
    return field.levels


def _count(n: int, denominator: int) -> GroupCount:
    return GroupCount(
        n=n, denominator=denominator, percent=100.0 * n / denominator if denominator else None
    )
