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
from analysis.stats.forest import ForestFormat, forest_plot
from analysis.stats.meta import Pooled
from analysis.stats.meta_export import leave_one_out_rows, pooled_rows, subgroup_rows
from reviewer.downloads import download_name

CONTENT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: The forest plot's formats in the export bundle: one to look at, one to print.
BUNDLED_FORMATS: tuple[ForestFormat, ...] = ("svg", "pdf")
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


def forest_bytes(run: AnalysisRun, index: int, fmt: ForestFormat) -> bytes | None:
    """The forest plot of table `index` of `run`, or None when that is no pooled table."""
    tables = _tables(run)
    if not 0 <= index < len(tables) or tables[index].get("kind") != "pooled":
        return None
    table = tables[index]
    groups = table.get("groups") or []
    return forest_plot(
        Pooled.from_dict(table["result"]),
        fmt,
        title=table["title"],
        unit=table.get("unit", "patients"),
        groups=(groups[0], groups[1]) if len(groups) == 2 else ("group 1", "group 2"),
    )


def forest_files(run: AnalysisRun) -> dict[str, bytes]:
    """Every forest plot of `run` as SVG and PDF, by file name (for the export bundle)."""
    files: dict[str, bytes] = {}
    for index, table in enumerate(_tables(run)):
        if table.get("kind") == "pooled":
            for fmt in BUNDLED_FORMATS:
                body = forest_bytes(run, index, fmt)
                if body is not None:
                    files[file_name(run, f"forest-{index + 1}", fmt)] = body
    return files


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
    if kind == "pooled":
        groups = table.get("groups") or []
        rows = pooled_rows(
            Pooled.from_dict(table["result"]),
            unit=table.get("unit", "patients"),
            groups=(groups[0], groups[1]) if len(groups) == 2 else None,
        )
        if table.get("left_out"):
            rows += [[], ["Studies left out", "Reason"]]
            rows += [[item["study"], item["reason"]] for item in table["left_out"]]
        return rows
    if kind == "subgroups":
        return subgroup_rows(table)
    if kind == "leave_one_out":
        return leave_one_out_rows(table)
    return crosstab_rows(crosstab_of(table, table["row"]["label"], table["col"]["label"]))


def _sheet_name(number: int, title: str) -> str:
    name = f"{number} {_SHEET_FORBIDDEN.sub('-', title)}"
    return name if len(name) <= SHEET_NAME_LENGTH else name[: SHEET_NAME_LENGTH - 1].rstrip() + "…"
