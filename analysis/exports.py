"""A finished run's downloads: the chart of a cross-tabulation, and every table as CSV/XLSX.

The stored tables become the statistics layer's objects again (`analysis.services.compute`),
whose own helpers lay them out as rows and draw the charts: nothing is computed anew.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.utils import timezone

from analysis.models import AnalysisRun
from analysis.services.compute import crosstab_of, risk_table_of, summaries_of
from analysis.stats import (
    crosstab_chart,
    crosstab_rows,
    risk_factor_rows,
    summary_rows,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analysis.stats.export import Rows
from reviewer.downloads import download_name

CONTENT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Excel's limit on a worksheet's name, and the characters it refuses in one.
SHEET_NAME_LENGTH = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def file_name(run: AnalysisRun, what: str, fmt: str) -> str:
    """`<review>-<kind>-<run>-<what>-<date>.<fmt>`, dated the day the result was computed."""
    day = timezone.localdate(run.finished_at or run.created_at)
    return download_name(run.review, f"{run.kind}-{run.pk}-{what}", fmt, day=day)


def _tables(run: AnalysisRun) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = (run.result or {}).get("tables", [])
    return tables


def chart_bytes(run: AnalysisRun, index: int, fmt: Literal["svg", "png"]) -> bytes | None:
    """The bar chart of table `index` of `run`, or None when that is no cross-tabulation."""
    tables = _tables(run)
    if not 0 <= index < len(tables) or tables[index].get("kind") != "crosstab":
        return None
    table = tables[index]
    stored = crosstab_of(table, table["row"]["label"], table["col"]["label"])
    return crosstab_chart(stored, fmt, title=table["title"])


def tables_bytes(run: AnalysisRun, fmt: str) -> bytes:
    """Every table of `run`: CSV (the tables one after another, each under its title) or
    XLSX (a sheet per table)."""
    sheets = [(table["title"], _rows(table)) for table in _tables(run)]
    if fmt == "csv":
        rows: Rows = []
        for title, table_rows in sheets:
            rows += [[title], *table_rows, []]
        return to_csv_bytes(rows)
    return to_xlsx_bytes(
        {_sheet_name(n, title): table_rows for n, (title, table_rows) in enumerate(sheets, 1)}
    )


def _rows(table: dict[str, Any]) -> Rows:
    kind = table.get("kind")
    if kind == "characteristics":
        rows = summary_rows(summaries_of(table))
        for row in table["rows"]:
            if row["kind"] == "unsummarised":
                rows.append(
                    [
                        row["label"],
                        "free text or dates: not summarised",
                        row["n"],
                        row["not_reported"],
                    ]
                )
        return rows
    if kind == "risk_factors":
        return risk_factor_rows(risk_table_of(table))
    return crosstab_rows(crosstab_of(table, table["row"]["label"], table["col"]["label"]))


def _sheet_name(number: int, title: str) -> str:
    name = f"{number} {_SHEET_FORBIDDEN.sub('-', title)}"
    return name if len(name) <= SHEET_NAME_LENGTH else name[: SHEET_NAME_LENGTH - 1].rstrip() + "…"
