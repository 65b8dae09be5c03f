"""Fisher's exact test: exact r×c p against a brute-force enumeration, the Monte Carlo
fallback past the work budget, and the tables it refuses."""

from __future__ import annotations

import itertools
import math

import pytest

from analysis.stats import StatsInputError, fisher_exact
from tests.analysis.stats import SITE_COUNTS, r_table

REVIEW_3X4 = ((10, 12, 5, 8), (9, 15, 7, 12), (20, 8, 14, 30))


def tables_with_margins(rows: list[int], cols: list[int]) -> list[list[list[int]]]:
    """Every table with these margins, column by column (small tables only)."""
    if len(cols) == 1:
        return [[[r] for r in rows]]
    found = []
    for column in itertools.product(*(range(min(r, cols[0]) + 1) for r in rows)):
        if sum(column) != cols[0]:
            continue
        rest = [r - n for r, n in zip(rows, column, strict=True)]
        for tail in tables_with_margins(rest, cols[1:]):
            found.append([[n, *t] for n, t in zip(column, tail, strict=True)])
    return found


def brute_force_p(table: list[list[int]]) -> float:
    rows = [sum(row) for row in table]
    cols = [sum(col) for col in zip(*table, strict=True)]
    n = sum(rows)

    def log_p(t: list[list[int]]) -> float:
        margins = sum(math.lgamma(m + 1) for m in rows + cols) - math.lgamma(n + 1)
        return margins - sum(math.lgamma(x + 1) for row in t for x in row)

    observed = log_p(table)
    return math.fsum(
        math.exp(log_p(t)) for t in tables_with_margins(rows, cols) if log_p(t) <= observed + 1e-7
    )


@pytest.mark.parametrize(
    "table",
    [
        [[3, 1], [1, 3]],
        [[0, 4, 2], [3, 0, 1]],
        [[1, 2, 0, 3], [4, 0, 2, 1], [0, 3, 3, 2]],
        [[2, 0], [1, 3], [0, 2], [3, 1]],
        [[1, 1, 0], [0, 2, 1], [2, 0, 1]],
        [[5, 0, 1, 0, 2], [0, 3, 0, 2, 1]],
    ],
)
def test_exact_p_is_the_sum_over_every_table(table: list[list[int]]) -> None:
    result = fisher_exact(table)
    assert result.method == "exact"
    assert result.p == pytest.approx(brute_force_p(table), rel=1e-12)


def test_transposing_the_table_changes_nothing() -> None:
    transposed = [list(col) for col in zip(*REVIEW_3X4, strict=True)]
    assert fisher_exact(transposed).p == pytest.approx(fisher_exact(REVIEW_3X4).p, rel=1e-12)


def test_review_sized_tables_are_exact_with_the_default_budget() -> None:
    assert fisher_exact(SITE_COUNTS).method == "exact"
    reference = r_table("review_3x4")
    result = fisher_exact(REVIEW_3X4)
    assert result.method == "exact"
    assert result.p == pytest.approx(reference["fisher"], rel=1e-9)
    assert result.to_dict() == {"p": result.p, "method": "exact"}


class TestMonteCarloFallback:
    def test_a_tiny_budget_gives_a_seeded_estimate_with_its_standard_error(self) -> None:
        exact = fisher_exact(REVIEW_3X4).p
        estimate = fisher_exact(REVIEW_3X4, budget=10, samples=20_000, seed=7)
        assert estimate.method == "monte-carlo"
        assert (estimate.samples, estimate.seed) == (20_000, 7)
        assert estimate.se == pytest.approx(
            math.sqrt(estimate.p * (1 - estimate.p) / 20_000), rel=1e-12
        )
        assert abs(estimate.p - exact) < 4 * estimate.se

    def test_the_same_seed_gives_the_same_estimate(self) -> None:
        first = fisher_exact(REVIEW_3X4, budget=10, samples=5_000, seed=11)
        again = fisher_exact(REVIEW_3X4, budget=10, samples=5_000, seed=11)
        other = fisher_exact(REVIEW_3X4, budget=10, samples=5_000, seed=12)
        assert first == again
        assert other.p != first.p

    def test_the_estimate_is_never_zero(self) -> None:
        # R's simulate.p.value: (1 + hits) / (1 + samples)
        estimate = fisher_exact([[20, 0, 0], [0, 20, 0], [0, 0, 20]], budget=10, samples=999)
        assert estimate.p == pytest.approx(1 / 1000)

    def test_json_names_the_method_samples_and_seed(self) -> None:
        estimate = fisher_exact(SITE_COUNTS, budget=10, samples=1_000, seed=3)
        assert estimate.to_dict() == {
            "p": estimate.p,
            "method": "monte-carlo",
            "se": estimate.se,
            "samples": 1_000,
            "seed": 3,
        }


class TestRefusals:
    @pytest.mark.parametrize(
        ("table", "message"),
        [
            ([[1, 2]], "at least 2 rows × 2 columns"),
            ([[1], [2]], "at least 2 rows × 2 columns"),
            ([[1, 2], [3]], "at least 2 rows × 2 columns"),
            ([[1, -2], [3, 4]], "cannot hold negative numbers"),
            ([[1, 2.5], [3, 4]], "whole numbers only"),
            ([[0, 0], [3, 4]], "Every row and column"),
            ([[0, 2], [0, 4]], "Every row and column"),
        ],
    )
    def test_tables_without_a_test(self, table: list[list[float]], message: str) -> None:
        with pytest.raises(StatsInputError, match=message):
            fisher_exact(table)  # type: ignore[arg-type]
