"""Tests of `analysis.stats`, the statistics layer (no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Values R computed for the same tables (`tests/analysis/r_reference.R` writes this file).
R_REFERENCE = Path(__file__).resolve().parent.parent / "r_reference.json"

#: The reference review's site comparison: non-operative management by injury site.
SITES = ("extremities", "head/neck", "thorax", "abdomen/pelvis")
SITE_COUNTS = ((2, 11), (5, 29), (4, 121), (9, 224))


def r_reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(R_REFERENCE.read_text(encoding="utf-8"))
    return data


def r_table(name: str) -> dict[str, Any]:
    table: dict[str, Any] = next(t for t in r_reference()["tables"] if t["name"] == name)
    return table


def patients(
    counts: tuple[tuple[int, ...], ...], rows: tuple[str, ...], cols: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """One (row value, column value) pair per patient, giving `counts`."""
    row_values: list[str] = []
    col_values: list[str] = []
    for row, line in zip(rows, counts, strict=True):
        for col, n in zip(cols, line, strict=True):
            row_values += [row] * n
            col_values += [col] * n
    return row_values, col_values
