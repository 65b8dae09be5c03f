"""p-values and percentages as journals print them: two significant figures rounded
half-up on the decimal value, "<0.0001" below 0.0001, never "0.050" for p < 0.05."""

from __future__ import annotations

import math

import pytest

from analysis.stats import format_p, format_percent, p_statement


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.05, "0.050"),
        (0.04999, "0.0499"),
        (0.0495, "0.0495"),
        (0.0494, "0.049"),
        (0.045, "0.045"),
        (0.0455, "0.046"),
        (0.0445, "0.045"),
        (1.0, "1.0"),
        (0.996, "1.0"),
        (0.5, "0.50"),
        (0.12345, "0.12"),
        (0.0996, "0.10"),
        (0.00995, "0.010"),
        (0.0034, "0.0034"),
        (0.000100, "0.00010"),
        (0.00012345, "0.00012"),
        (0.00009999, "<0.0001"),
        (1e-30, "<0.0001"),
        (0.0, "<0.0001"),
    ],
)
def test_format_p(p: float, shown: str) -> None:
    assert format_p(p) == shown


def test_half_up_on_the_decimal_value_not_the_binary_one() -> None:
    # 0.145 is stored as 0.14499999…, so round() gives 0.14; journals round the 0.145 a
    # reader sees half-up
    assert round(0.145, 2) == 0.14
    assert format_p(0.145) == "0.15"


def test_half_up_not_bankers_rounding() -> None:
    # 0.125 is exact in binary; round() rounds the tie to even
    assert round(0.125, 2) == 0.12
    assert format_p(0.125) == "0.13"


@pytest.mark.parametrize("p", [-0.1, 1.01, math.nan, math.inf])
def test_impossible_p_values_are_refused(p: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        format_p(p)


def test_p_statement() -> None:
    assert p_statement(0.04318) == "p = 0.043"
    assert p_statement(1e-9) == "p < 0.0001"


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(2, 13, "15.4"), (1, 16, "6.3"), (1, 8, "12.5"), (0, 5, "0.0"), (5, 5, "100.0")],
)
def test_format_percent(part: int, whole: int, shown: str) -> None:
    assert format_percent(part, whole) == shown


def test_a_percentage_of_nobody_is_refused() -> None:
    with pytest.raises(ValueError, match="positive denominator"):
        format_percent(0, 0)
