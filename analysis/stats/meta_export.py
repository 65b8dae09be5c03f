"""Pooled results as tables of cells (for `analysis.stats.export`'s CSV and XLSX): the
studies with their counts, estimates and weights, then the pooled rows; the subgroups
with the test for their difference; the leave-one-out table. Proportions in percent to
two decimals, ratios to three, p-values raw and as a journal prints them."""

from __future__ import annotations

import math
from typing import Any

from analysis.stats.export import Cell, Rows
from analysis.stats.meta import Pooled
from analysis.stats.pvalues import format_p

__all__ = ["leave_one_out_rows", "pooled_rows", "subgroup_rows"]


def _number(result: Pooled, value: float | None) -> Cell:
    if value is None or not math.isfinite(value):
        return ""
    return round(100 * value, 2) if result.is_proportion else round(value, 3)


def _p(value: float | None) -> tuple[Cell, Cell]:
    if value is None or not math.isfinite(value):
        return "", ""
    return value, format_p(value)


def _scale_name(result: Pooled) -> str:
    return "%" if result.is_proportion else result.measure


def pooled_rows(
    result: Pooled, *, unit: str = "patients", groups: tuple[str, str] | None = None
) -> Rows:
    """The studies, then the pooled estimate, prediction interval and heterogeneity."""
    scale = _scale_name(result)
    if groups:
        header: list[Cell] = [
            "Study",
            f"Events ({groups[0]})",
            f"Total ({groups[0]})",
            f"Events ({groups[1]})",
            f"Total ({groups[1]})",
        ]
    else:
        header = ["Study", "Events", f"Total {unit}"]
    header += [f"Estimate ({scale})", "95% CI low", "95% CI high", "Weight (%)"]
    rows: Rows = [header]
    blanks = len(header) - 4
    for study in result.studies:
        counts: list[Cell] = [study.events, study.total]
        if groups:
            counts += [study.events_2 or 0, study.total_2 or 0]
        rows.append(
            [
                study.label,
                *counts,
                _number(result, study.estimate),
                _number(result, study.ci_low),
                _number(result, study.ci_high),
                "" if study.weight is None else round(study.weight, 2),
            ]
        )
    pad: list[Cell] = [""] * (blanks - 1)
    rows.append(
        [
            f"Pooled ({result.method_name}; {result.k} studies, {result.n} {unit})",
            *pad,
            _number(result, result.estimate),
            _number(result, result.ci_low),
            _number(result, result.ci_high),
            100 if any(s.weight is not None for s in result.studies) else "",
        ]
    )
    if result.method != "mh":
        rows.append(
            [
                "95% prediction interval",
                *pad,
                "",
                _number(result, result.pi_low),
                _number(result, result.pi_high),
                "",
            ]
        )
    p, p_text = _p(result.q_p)
    rows += [
        [],
        ["Measure", result.measure_name],
        ["Method", result.method_name],
        ["τ² estimator", result.estimator],
        ["τ² (pooled scale)", "" if result.method == "mh" else result.tau2],
        ["I² (%)", round(result.i2, 2)],
        ["Q", result.q],
        ["Q df", result.q_df],
        ["Q p", p],
        ["Q p (as printed)", p_text],
        ["Hartung–Knapp", "yes" if result.hartung_knapp else "no"],
        ["Continuity correction", result.correction],
    ]
    return rows


def subgroup_rows(stored: dict[str, Any], *, unit: str = "patients") -> Rows:
    """Each subgroup's pooled estimate, and the test for subgroup differences."""
    overall = Pooled.from_dict(stored["overall"])
    scale = _scale_name(overall)
    rows: Rows = [
        [
            "Subgroup",
            "Studies",
            unit.capitalize(),
            f"Estimate ({scale})",
            "95% CI low",
            "95% CI high",
            "τ²",
            "I² (%)",
        ]
    ]
    for group in stored["groups"]:
        result = Pooled.from_dict(group["result"])
        rows.append(
            [
                group["label"],
                result.k,
                result.n,
                _number(result, result.estimate),
                _number(result, result.ci_low),
                _number(result, result.ci_high),
                result.tau2,
                round(result.i2, 2),
            ]
        )
    p, p_text = _p(stored["p_between"])
    rows += [
        [],
        ["Test for subgroup differences"],
        ["Q between", stored["q_between"]],
        ["df", stored["df_between"]],
        ["p", p],
        ["p (as printed)", p_text],
    ]
    return rows


def leave_one_out_rows(stored: dict[str, Any]) -> Rows:
    """The pooled result without each study in turn."""
    proportion = bool(stored.get("proportion"))
    factor = 100 if proportion else 1
    digits = 2 if proportion else 3
    scale = "%" if proportion else "ratio"
    rows: Rows = [
        [
            "Study left out",
            f"Estimate ({scale})",
            "95% CI low",
            "95% CI high",
            "τ²",
            "I² (%)",
            "Q",
            "Q p",
        ]
    ]
    for row in stored["rows"]:
        if row["estimate"] is None:
            rows.append([row["omitted"], row.get("note", "not estimable")])
            continue
        rows.append(
            [
                row["omitted"],
                round(factor * row["estimate"], digits),
                round(factor * row["ci_low"], digits),
                round(factor * row["ci_high"], digits),
                row["tau2"],
                round(row["i2"], 2),
                row["q"],
                row["q_p"],
            ]
        )
    return rows
