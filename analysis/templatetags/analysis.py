"""Template filters of the analysis pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from analysis.stats import format_percent

register = template.Library()


@register.filter
def item(values: Sequence[Any], index: int) -> Any:
    """`values[index]`: a cell of a stored table (`table.counts|item:i|item:j`)."""
    try:
        return values[index]
    except (IndexError, TypeError, KeyError):
        return None


@register.filter
def sig(value: float | None) -> str:
    """A statistic to 4 significant figures without trailing zeros, as the exports print
    it (101.5, 0.375, 214); "" for None."""
    return "" if value is None else f"{value:.4g}"


@register.filter
def percent_of(part: int, whole: int) -> str:
    """`part` of `whole` as the exports print it ("15.4", half-up); "" when `whole` is 0."""
    return format_percent(part, whole) if whole else ""
