"""Pooled results against R's metafor on the data sets of
`tests/analysis/metafor_reference.json` (written by `metafor_reference.R`): zero-event and
all-event studies, k = 2, single patients, thousands of patients, and data sets drawn with
a fixed seed.

Tolerances as the method allows: 1e-6 relative for the closed forms (DerSimonian–Laird,
Mantel–Haenszel), 1e-4 for REML (metafor stops its Fisher scoring at a step under 1e-5),
1e-3 for the GLMM (lme4's optimiser stops where it stops). A value R gives as (nearly) 0
is compared absolutely, at the same tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analysis.stats import StatsInputError
from analysis.stats.meta import (
    Pooled,
    leave_one_out,
    pool_proportions,
    pool_two_groups,
    subgroups,
)

REFERENCE = json.loads(
    (Path(__file__).resolve().parent.parent / "metafor_reference.json").read_text("utf-8")
)
FIELDS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q", "q_p")
TOLERANCE = {"DL": 1e-6, "MH": 1e-6, "REML": 1e-4, "GLMM": 1e-3}
#: With one patient per study τ is not identified (the likelihood is flat along a ridge);
#: where lme4 stops there is arbitrary, and the GLMM refuses such data.
GLMM_REFUSED = {"single_patients"}


def _cases() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for data in REFERENCE["proportions"] + REFERENCE["two_groups"]:
        for key, expected in data["results"].items():
            if key == "GLMM" and data["name"] in GLMM_REFUSED:
                continue
            cases.append((data["name"], key, data, expected))
    return cases


CASES = _cases()


def _method(key: str) -> str:
    return "GLMM" if key == "GLMM" else key.split("_")[1]


def _assert_matches(result: Pooled, expected: dict[str, Any], tolerance: float) -> None:
    assert result.k == expected["k"]
    for name in FIELDS:
        ours, theirs = getattr(result, name), expected[name]
        assert ours == pytest.approx(theirs, rel=tolerance, abs=tolerance), name


def test_the_reference_has_forty_data_sets_with_the_edge_cases() -> None:
    proportions = {d["name"]: d for d in REFERENCE["proportions"]}
    assert len(proportions) + len(REFERENCE["two_groups"]) >= 40
    assert any(0 in d["xi"] for d in proportions.values())
    assert any(x == n for d in proportions.values() for x, n in zip(d["xi"], d["ni"], strict=True))
    assert any(len(d["xi"]) == 2 for d in proportions.values())
    assert any(len(d["ai"]) == 2 for d in REFERENCE["two_groups"])
    methods = {_method(key) for _, key, _, _ in CASES}
    assert methods == {"DL", "REML", "GLMM", "MH"}


@pytest.mark.parametrize(
    ("name", "key", "data", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_pooled_result_matches_metafor(
    name: str, key: str, data: dict[str, Any], expected: dict[str, Any]
) -> None:
    if "xi" in data:
        if key == "GLMM":
            result = pool_proportions(data["xi"], data["ni"], method="glmm")
        else:
            measure, method, test = key.split("_")
            result = pool_proportions(
                data["xi"],
                data["ni"],
                method=method.lower(),  # type: ignore[arg-type]
                transform="logit" if measure == "PLO" else "ft",
                hartung_knapp=test == "knha",
            )
    else:
        measure, method = key.split("_")
        result = pool_two_groups(
            data["ai"],
            data["n1i"],
            data["ci"],
            data["n2i"],
            measure=measure,  # type: ignore[arg-type]
            method=method.lower(),  # type: ignore[arg-type]
        )
    _assert_matches(result, expected, TOLERANCE[_method(key)])
    tolerance = TOLERANCE[_method(key)]
    assert result.estimate_t == pytest.approx(expected["beta"], rel=tolerance, abs=tolerance)


def test_glmm_refuses_one_patient_per_study_with_the_reason() -> None:
    data = next(d for d in REFERENCE["proportions"] if d["name"] in GLMM_REFUSED)
    with pytest.raises(StatsInputError, match="single participant"):
        pool_proportions(data["xi"], data["ni"], method="glmm")


@pytest.mark.parametrize(
    "reference", REFERENCE["leave_one_out"], ids=[r["data"] for r in REFERENCE["leave_one_out"]]
)
def test_leave_one_out_matches_metafor(reference: dict[str, Any]) -> None:
    data = next(d for d in REFERENCE["proportions"] if d["name"] == reference["data"])
    xi, ni = data["xi"], data["ni"]
    labels = [f"Study {i + 1}" for i in range(len(xi))]
    method = reference["method"].lower()

    def pool(indices: list[int]) -> Pooled:
        return pool_proportions([xi[i] for i in indices], [ni[i] for i in indices], method=method)

    table = leave_one_out(pool, labels)
    tolerance = TOLERANCE[reference["method"]]
    expected = reference["rows"]
    assert [row.omitted for row in table.rows] == labels
    for i, row in enumerate(table.rows):
        for name in ("estimate", "ci_low", "ci_high", "tau2", "i2", "q", "q_p"):
            assert getattr(row, name) == pytest.approx(
                expected[name][i], rel=tolerance, abs=tolerance
            ), (i, name)


@pytest.mark.parametrize(
    "reference", REFERENCE["subgroups"], ids=[r["data"] for r in REFERENCE["subgroups"]]
)
def test_subgroup_difference_matches_metafor(reference: dict[str, Any]) -> None:
    data = next(d for d in REFERENCE["proportions"] if d["name"] == reference["data"])
    xi, ni, groups = data["xi"], data["ni"], reference["groups"]
    method = reference["method"].lower()

    def pool(indices: list[int]) -> Pooled:
        return pool_proportions([xi[i] for i in indices], [ni[i] for i in indices], method=method)

    result = subgroups(pool, groups)
    tolerance = TOLERANCE[reference["method"]]
    assert [label for label, _ in result.groups] == list(dict.fromkeys(groups))
    assert [r.estimate_t for _, r in result.groups] == pytest.approx(
        reference["estimates"], rel=tolerance
    )
    assert result.q_between == pytest.approx(reference["q_between"], rel=tolerance)
    assert result.df_between == reference["df_between"]
    assert result.p_between == pytest.approx(reference["p_between"], rel=tolerance)
    assert result.overall.k == len(xi)
