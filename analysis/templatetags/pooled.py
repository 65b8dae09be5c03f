"""Template filters of pooled results: an estimate as its measure prints it."""

from __future__ import annotations

import math

from django import template

from analysis.stats.pvalues import format_p

register = template.Library()


@register.filter
def effect(value: float | None, proportion: bool) -> str:
    """A proportion in percent to one decimal ("19.4%"), a ratio to two ("8.02");
    "–" for an undefined value."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f}%" if proportion else f"{value:.2f}"


@register.filter
def p_text(value: float | None) -> str:
    """A p-value as a journal prints it ("0.043", "<0.0001"); "–" when undefined."""
    return "–" if value is None else format_p(value)
