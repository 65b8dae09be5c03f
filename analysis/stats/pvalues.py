"""p-values and percentages as a journal prints them.

`format_p` rule:

- below 0.0001: "<0.0001";
- otherwise two significant figures, rounded half-up (0.045 -> "0.045", 0.0455 -> "0.046",
  0.00012 -> "0.00012", 0.05 -> "0.050", 0.1 -> "0.10", 1 -> "1.0"), trailing zeros kept
  to show the precision;
- except that a p just below 0.05 never prints as "0.050": when two significant figures
  would round it up to 0.05 (0.0495 <= p < 0.05) it gets three, rounded down
  (0.04999 -> "0.0499").

Rounding works on the decimal number the float prints as (`repr`), with `decimal.Decimal`,
so 0.045 (stored as 0.04499999…) is "0.045", neither binary artefacts nor banker's
rounding. Results always keep the raw p next to the formatted one.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

__all__ = ["ALPHA", "SMALLEST_P", "format_p", "format_percent", "p_statement"]

#: Below this a p-value prints as "<0.0001".
SMALLEST_P = Decimal("0.0001")
#: The significance level no p below it may be rounded up to.
ALPHA = Decimal("0.05")


def format_p(p: float) -> str:
    """The p-value as a journal prints it (see the module docstring for the rule)."""
    if not math.isfinite(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"A p-value lies between 0 and 1, not {p!r}.")
    exact = Decimal(repr(float(p)))
    if exact < SMALLEST_P:
        return f"<{SMALLEST_P}"
    shown = _significant(exact, 2, ROUND_HALF_UP)
    if exact < ALPHA <= shown:
        shown = _significant(exact, 3, ROUND_DOWN)
    return f"{shown:f}"


def p_statement(p: float) -> str:
    """ "p = 0.043", or "p < 0.0001"."""
    shown = format_p(p)
    return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def format_percent(part: int, whole: int, decimals: int = 1) -> str:
    """`part` of `whole` as a percentage with `decimals` places, rounded half-up ("15.4")."""
    if whole <= 0:
        raise ValueError("A percentage needs a positive denominator.")
    value = Decimal(part) * 100 / Decimal(whole)
    return f"{value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):f}"


def _significant(value: Decimal, digits: int, rounding: str) -> Decimal:
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), rounding=rounding)
    if rounded.adjusted() > value.adjusted():  # 0.0996 -> 0.100: one digit too many
        rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - digits + 1))
    return rounded
