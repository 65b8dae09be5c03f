"""From a run's spec and data frame to its stored result: the calls into `analysis.stats`.

The result is plain JSON, stored on the run and rendered by the templates:

    {"patients": N, "studies": S, "tables": [table, ...]}

Each table has a `kind` ("characteristics", "risk_factors" or "crosstab") and a `title`,
and holds the statistics layer's own `to_dict()` output (so the stored numbers are exactly
the computed ones), plus what the page shows beside them: totals and row percentages, each p
formatted as journals print it, why the reported test was chosen. `crosstab_of`,
`summaries_of` and `risk_table_of` turn a stored table back into the statistics layer's
objects, which draw the charts and write the CSV/XLSX files of a finished run without
computing anything again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from analysis.models import AnalysisKind
from analysis.services.data import YES, Variable, field_spec
from analysis.stats import (
    CategoricalSummary,
    ChiSquareTest,
    CrossTab,
    FieldSummary,
    FisherTest,
    LevelCount,
    LikelihoodRatioTest,
    NumericSummary,
    RiskFactorTable,
    Rule,
    YatesTest,
    crosstab,
    format_p,
    risk_factor_table,
    summarise,
)
from analysis.stats.crosstab import SMALL_EXPECTED, ReportedTest
from analysis.stats.risk import GroupCount, RiskFactorLevel, RiskFactorOutcome
from extraction.models import FieldType

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import pandas as pd

Report = Callable[[int, str], None]


def compute(
    kind: str,
    spec: dict[str, Any],
    frame: pd.DataFrame,
    variables: Sequence[Variable],
    *,
    patients: int,
    studies: int,
    report: Report,
) -> dict[str, Any]:
    """The result of one run (see the module docstring). Raises StatsInputError."""
    rule = cast(Rule, spec.get("rule", "auto"))
    yates = bool(spec.get("yates"))
    if kind == AnalysisKind.CHARACTERISTICS:
        report(40, "Describing the patients")
        tables = [_characteristics(frame, variables)]
    elif kind == AnalysisKind.RISK_FACTORS:
        exposure, *outcomes = variables
        report(30, f"Testing {len(outcomes)} outcome{'s' if len(outcomes) != 1 else ''}")
        tables = _risk_factors(frame, exposure, outcomes, rule, yates)
    else:
        row, col = variables
        report(40, f"Cross-tabulating {row.label} by {col.label}")
        table = crosstab(
            frame[row.key].tolist(),
            frame[col.key].tolist(),
            row_levels=row.levels,
            col_levels=col.levels,
            row_label=row.label,
            col_label=col.label,
            yates=yates,
            rule=rule,
            drop_empty_levels=True,
        )
        tables = [_crosstab_table(table, row, col)]
    result: dict[str, Any] = json_safe({"patients": patients, "studies": studies, "tables": tables})
    return result


def json_safe(value: Any) -> Any:
    """`value` as strict JSON holds it: numpy scalars as Python numbers, tuples as lists,
    NaN and infinities (undefined statistics) as None."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- patient characteristics ---


def _characteristics(frame: pd.DataFrame, variables: Sequence[Variable]) -> dict[str, Any]:
    summarised = [v for v in variables if v.summarised]
    summaries = iter(summarise(frame, [field_spec(v) for v in summarised]))
    rows: list[dict[str, Any]] = []
    for variable in variables:
        if variable.summarised:
            row = next(summaries).to_dict()
        else:  # free text and dates: only how many hold a value
            filled = int(frame[variable.key].notna().sum())
            row = {
                "key": variable.key,
                "label": variable.label,
                "kind": "unsummarised",
                "n": filled,
                "not_reported": len(frame) - filled,
                "total": len(frame),
            }
        row["unit"] = variable.unit
        rows.append(row)
    return {
        "kind": "characteristics",
        "title": "Patient characteristics",
        "total": len(frame),
        "rows": rows,
    }


def summaries_of(table: dict[str, Any]) -> list[FieldSummary]:
    """The stored characteristics as the statistics layer's summaries (for the exports)."""
    summaries: list[FieldSummary] = []
    for row in table["rows"]:
        if row["kind"] == "numeric":
            summaries.append(NumericSummary(**{k: v for k, v in row.items()}))
        elif row["kind"] in ("categorical", "multi"):
            summaries.append(
                CategoricalSummary(
                    key=row["key"],
                    label=row["label"],
                    kind=row["kind"],
                    levels=tuple(LevelCount(**level) for level in row["levels"]),
                    denominator=row["denominator"],
                    not_reported=row["not_reported"],
                    total=row["total"],
                )
            )
    return summaries


# --- cross-tabulations ---


def _crosstab_table(table: CrossTab, row: Variable, col: Variable) -> dict[str, Any]:
    """A cross-tabulation as stored: the statistics' own dict, and what the page adds."""
    stored = table.to_dict()
    for key in ("pearson", "likelihood_ratio", "fisher", "yates"):
        test = stored.get(key)
        if isinstance(test, dict):
            test["p_text"] = format_p(float(test["p"]))
    small = sum(e < SMALL_EXPECTED for line in table.expected for e in line)
    stored.update(
        kind="crosstab",
        title=f"{row.label} × {col.label}",
        row={"key": row.key, "label": row.label},
        col={"key": col.key, "label": col.label},
        rule=table.rule,
        row_totals=table.row_totals,
        col_totals=table.col_totals,
        total=table.n,
        row_percent=table.row_percentages,
        small_expected=small,
        cells=len(table.row_levels) * len(table.col_levels),
        reported_name=table.reported_test_name,
        reason=_reason(table, small),
    )
    return stored


def _reason(table: CrossTab, small: int) -> str:
    """Why the table reports the test it reports, as the end of a sentence."""
    if table.rule != "auto":
        return "the test asked for in this run"
    cells = len(table.row_levels) * len(table.col_levels)
    if table.reported_test == "fisher":
        return (
            f"{small} of {cells} expected counts {'is' if small == 1 else 'are'} under 5 "
            f"(the smallest is {table.min_expected:.2f}), where the chi-square "
            "approximation is poor"
        )
    return "every expected count is 5 or more"


def crosstab_of(stored: dict[str, Any], row_label: str, col_label: str) -> CrossTab:
    """A stored cross-tabulation (`CrossTab.to_dict()`) as the statistics' object again."""
    fisher = stored["fisher"]
    yates = stored.get("yates")
    return CrossTab(
        row_label=row_label,
        col_label=col_label,
        row_levels=tuple(stored["row_levels"]),
        col_levels=tuple(stored["col_levels"]),
        counts=tuple(tuple(line) for line in stored["counts"]),
        expected=tuple(tuple(line) for line in stored["expected"]),
        excluded=stored["excluded"],
        pearson=ChiSquareTest(
            chi2=stored["pearson"]["chi2"], df=stored["pearson"]["df"], p=stored["pearson"]["p"]
        ),
        likelihood_ratio=LikelihoodRatioTest(
            g=stored["likelihood_ratio"]["g"],
            df=stored["likelihood_ratio"]["df"],
            p=stored["likelihood_ratio"]["p"],
        ),
        fisher=FisherTest(
            p=fisher["p"],
            method=fisher["method"],
            se=fisher.get("se"),
            samples=fisher.get("samples"),
            seed=fisher.get("seed"),
        ),
        yates=YatesTest(chi2=yates["chi2"], p=yates["p"]) if yates else None,
        min_expected=stored["min_expected"],
        warnings=tuple(stored["warnings"]),
        rule=cast(Rule, stored.get("rule", "auto")),
        reported_test=cast(ReportedTest, stored["reported_test"]),
        reported_p=stored["reported_p"],
    )


# --- risk factors (the reference review's Table 1) ---


def _risk_factors(
    frame: pd.DataFrame,
    exposure: Variable,
    outcomes: Sequence[Variable],
    rule: Rule,
    yates: bool,
) -> list[dict[str, Any]]:
    """The summary table (outcomes by exposure group, a p per outcome), followed by each
    outcome's full cross-tabulation (exposure as rows)."""
    table = risk_factor_table(
        frame,
        field_spec(exposure),
        [field_spec(outcome) for outcome in outcomes],
        rule=rule,
        yates=yates,
    )
    stored = table.to_dict()
    stored_outcomes = cast(list[dict[str, Any]], stored["outcomes"])
    details: list[dict[str, Any]] = []
    for outcome, variable, result in zip(stored_outcomes, outcomes, table.outcomes, strict=True):
        outcome["test_name"] = result.test_name
        outcome["yes_only"] = variable.type == FieldType.YES_NO
        outcome["shown"] = [
            level for level in outcome["levels"] if not outcome["yes_only"] or level["level"] == YES
        ]
        outcome["detail"] = None
        if result.crosstab is not None:
            outcome["crosstab"]["rule"] = rule
            details.append(_crosstab_table(result.crosstab, exposure, variable))
            outcome["detail"] = len(details)
    stored.update(
        kind="risk_factors",
        title=f"{exposure.label} and outcomes",
        rule=rule,
        groups_sized=[
            {"label": group, "n": size}
            for group, size in zip(table.groups, table.group_sizes, strict=True)
        ],
    )
    return [stored, *details]


def risk_table_of(stored: dict[str, Any]) -> RiskFactorTable:
    """A stored risk-factor table as the statistics' object again (for the exports)."""
    outcomes = []
    for outcome in stored["outcomes"]:
        detail = outcome.get("crosstab")
        outcomes.append(
            RiskFactorOutcome(
                key=outcome["key"],
                label=outcome["label"],
                levels=tuple(
                    RiskFactorLevel(
                        level=level["level"],
                        groups=tuple(GroupCount(**count) for count in level["groups"]),
                        total=GroupCount(**level["total"]),
                    )
                    for level in outcome["levels"]
                ),
                excluded=outcome["excluded"],
                p=outcome["p"],
                test=outcome["test"],
                note=outcome["note"],
                crosstab=(
                    crosstab_of(detail, stored["exposure_label"], outcome["label"])
                    if detail
                    else None
                ),
            )
        )
    return RiskFactorTable(
        exposure=stored["exposure"],
        exposure_label=stored["exposure_label"],
        groups=tuple(stored["groups"]),
        group_sizes=tuple(stored["group_sizes"]),
        outcomes=tuple(outcomes),
    )
