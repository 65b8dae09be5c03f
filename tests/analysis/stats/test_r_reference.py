"""Every test statistic and p-value against R, to 1e-9 relative, on the 43 tables of
`tests/analysis/r_reference.json` (2×2 to 4×2, zeros, small and large counts)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analysis.stats import crosstab_from_counts
from tests.analysis.stats import r_reference


def close(expected: float) -> Any:
    return pytest.approx(expected, rel=1e-9, abs=1e-300)


TABLES = r_reference()["tables"]


def test_the_reference_covers_at_least_forty_tables_of_every_shape() -> None:
    shapes = {(len(t["counts"]), len(t["counts"][0])) for t in TABLES}
    assert len(TABLES) >= 40
    assert {(2, 2), (2, 3), (2, 4), (3, 3), (3, 4), (4, 2)} <= shapes
    assert all(t["fisher"] is not None for t in TABLES)


@pytest.mark.parametrize("reference", TABLES, ids=[t["name"] for t in TABLES])
def test_tests_match_r(reference: dict[str, Any]) -> None:
    counts = reference["counts"]
    is_2x2 = len(counts) == 2 and len(counts[0]) == 2
    table = crosstab_from_counts(counts, yates=is_2x2)

    assert table.pearson.chi2 == close(reference["pearson"]["chi2"])
    assert table.pearson.df == reference["pearson"]["df"]
    assert table.pearson.p == close(reference["pearson"]["p"])
    assert table.likelihood_ratio.g == close(reference["likelihood_ratio"]["g"])
    assert table.likelihood_ratio.p == close(reference["likelihood_ratio"]["p"])
    assert table.fisher.method == "exact"
    assert table.fisher.p == close(reference["fisher"])
    if is_2x2:
        assert table.yates is not None
        assert table.yates.chi2 == close(reference["yates"]["chi2"])
        assert table.yates.p == close(reference["yates"]["p"])
    else:
        assert table.yates is None


@pytest.mark.parametrize("reference", TABLES, ids=[t["name"] for t in TABLES])
def test_g_is_twice_the_sum_of_o_log_o_over_e(reference: dict[str, Any]) -> None:
    counts = reference["counts"]
    table = crosstab_from_counts(counts)
    n = sum(map(sum, counts))
    rows = [sum(row) for row in counts]
    cols = [sum(col) for col in zip(*counts, strict=True)]
    g = 2 * math.fsum(
        o * math.log(o / (rows[i] * cols[j] / n))
        for i, line in enumerate(counts)
        for j, o in enumerate(line)
        if o > 0
    )
    assert table.likelihood_ratio.g == pytest.approx(g, rel=1e-12, abs=1e-12)
