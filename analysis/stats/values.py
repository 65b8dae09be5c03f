"""What counts as a missing value, and the order levels are shown in when none is given.

Missing: None, NaN (and pandas' NA/NaT), an empty or blank cell, and the texts
"not reported" and "NR" in any case, as extraction forms and their CSV exports write them.
Every other value is its text with surrounding blanks removed ("yes " is "yes"); case is
kept, so "Yes" and "yes" are two levels, as a reader of the table would see them.

Levels without a given order are sorted naturally: case-insensitively, and numbers by value
within the text ("2 cm" before "10 cm"), so the same data always gives the same table
whatever the order of its rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = ["MISSING_TEXTS", "clean", "natural_key", "natural_order"]

#: Texts that mean "not reported" (compared case-insensitively, after stripping blanks).
MISSING_TEXTS = frozenset({"", "not reported", "nr"})

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def clean(value: object) -> str | None:
    """The value as stripped text, or None when it is missing."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in {"NAType", "NaTType"}:  # pandas' missing markers
        return None
    text = str(value).strip()
    return None if text.casefold() in MISSING_TEXTS else text


def natural_key(text: str) -> tuple[tuple[int, float, str], ...]:
    """Sort key: case-insensitive, with runs of digits compared as numbers."""
    parts = _NUMBER.split(text.casefold())
    key = [
        (0, float(part), part) if index % 2 else (1, 0.0, part)
        for index, part in enumerate(parts)
        if part
    ]
    return (*key, (2, 0.0, text))  # the text itself breaks ties ("Yes" and "yes")


def natural_order(values: Iterable[str]) -> tuple[str, ...]:
    """The distinct values in natural order."""
    return tuple(sorted(set(values), key=natural_key))
