"""Statistics as tables of cells, and those tables as CSV or XLSX files.

`crosstab_rows`, `summary_rows` and `risk_factor_rows` turn a result into rows (a list of
lists, the first row a header): counts as numbers, percentages to one decimal, p-values both
raw and formatted as a journal prints them, in the layout a paper's table takes.

`to_csv_bytes(rows)` writes UTF-8 with a byte order mark (so spreadsheets read accents
right); text that starts with = + - @, a tab or a carriage return is prefixed with an
apostrophe, so a spreadsheet shows it instead of running it as a formula, as the review's
other exports do (`reviewer.exports`, whose ORM imports this module does without).
`to_xlsx_bytes({"sheet": rows, ...})` writes one worksheet per entry with openpyxl, every
text cell stored as text (never as a formula); characters XML cannot hold (control
characters) are dropped from a cell's text, as openpyxl cannot write them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from analysis.stats.crosstab import TEST_NAMES, CrossTab
from analysis.stats.pvalues import format_p, format_percent
from analysis.stats.risk import GroupCount, RiskFactorTable
from analysis.stats.summary import CategoricalSummary, FieldSummary, NumericSummary

__all__ = [
    "BOM",
    "FORMULA_START",
    "Cell",
    "Rows",
    "crosstab_rows",
    "risk_factor_rows",
    "summary_rows",
    "to_csv_bytes",
    "to_xlsx_bytes",
]

Cell = str | int | float | None
Rows = list[list[Cell]]

BOM = "\ufeff"
#: Text starting with one of these is a formula to a spreadsheet (as `reviewer.exports`).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limits on a worksheet's name.
SHEET_NAME_LENGTH = 31
SHEET_NAME_FORBIDDEN = frozenset("[]:*?/\\")


def crosstab_rows(table: CrossTab) -> Rows:
    """Counts with row totals, row percentages, expected counts, every test, and notes."""
    header: list[Cell] = [f"{table.row_label} \\ {table.col_label}", *table.col_levels, "Total"]
    rows: Rows = [header]
    for level, counts in zip(table.row_levels, table.counts, strict=True):
        rows.append([level, *counts, sum(counts)])
    rows.append(["Total", *table.col_totals, table.n])
    rows.append([])
    rows.append([f"% of {table.row_label}", *table.col_levels, "Total"])
    for level, counts in zip(table.row_levels, table.counts, strict=True):
        rows.append([level, *(float(format_percent(n, sum(counts))) for n in counts), 100.0])
    rows.append([])
    rows.append(["Expected counts", *table.col_levels])
    for level, expected in zip(table.row_levels, table.expected, strict=True):
        rows.append([level, *(round(e, 2) for e in expected)])
    rows.append([])
    rows.append(["Test", "Statistic", "df", "p", "p (formatted)"])
    lr, pearson = table.likelihood_ratio, table.pearson
    rows.append([TEST_NAMES["likelihood_ratio"], lr.g, lr.df, lr.p, format_p(lr.p)])
    rows.append([TEST_NAMES["pearson"], pearson.chi2, pearson.df, pearson.p, format_p(pearson.p)])
    if table.yates:
        yates = table.yates
        rows.append([TEST_NAMES["pearson_yates"], yates.chi2, 1, yates.p, format_p(yates.p)])
    fisher = table.fisher
    method = (
        "exact"
        if fisher.method == "exact"
        else f"Monte Carlo, {fisher.samples:,} tables, seed {fisher.seed}, SE {fisher.se:.2g}"
    )
    rows.append([f"{TEST_NAMES['fisher']} ({method})", None, None, fisher.p, format_p(fisher.p)])
    rows.append(
        ["Reported", table.reported_test_name, None, table.reported_p, table.reported_p_formatted]
    )
    rows.append(["Patients left out (value missing)", table.excluded])
    rows.extend(["Note", warning] for warning in table.warnings)
    return rows


def summary_rows(summaries: Sequence[FieldSummary]) -> Rows:
    """The patient characteristics: a row per field, then a row per level (n (%)), or the
    median (IQR) and range of a number."""
    rows: Rows = [["Characteristic", "Value", "Reported (n)", "Not reported (n)"]]
    for summary in summaries:
        if isinstance(summary, CategoricalSummary):
            heading = "n (% of patients reported)"
            if summary.kind == "multi":
                heading += ", more than one per patient"
            rows.append([summary.label, heading, summary.denominator, summary.not_reported])
            for level in summary.levels:
                rows.append([f"  {level.level}", _n_percent(level.n, summary.denominator)])
        else:
            rows.extend(_numeric_rows(summary))
    return rows


def _numeric_rows(summary: NumericSummary) -> Rows:
    label = f"{summary.label} ({summary.unit})" if summary.unit else summary.label
    if summary.median is None:
        return [[label, "not reported", summary.n, summary.not_reported]]
    return [
        [
            label,
            f"median {_number(summary.median)} (IQR {_number(summary.q1)}–{_number(summary.q3)})",
            summary.n,
            summary.not_reported,
        ],
        ["  range", f"{_number(summary.minimum)}–{_number(summary.maximum)}"],
        [
            "  mean (SD)",
            f"{_number(summary.mean)}"
            + (f" ({_number(summary.sd)})" if summary.sd is not None else ""),
        ],
    ]


def risk_factor_rows(table: RiskFactorTable) -> Rows:
    """A row per outcome (with its p and test), then a row per outcome level: n/N (%) per
    exposure group and in total."""
    groups = [
        f"{group} (n = {size})" for group, size in zip(table.groups, table.group_sizes, strict=True)
    ]
    rows: Rows = [
        [f"Outcome by {table.exposure_label}", *groups, "Total", "p", "p (raw)", "Test", "Note"]
    ]
    for outcome in table.outcomes:
        blank: list[Cell] = [None] * (len(groups) + 1)
        rows.append(
            [outcome.label, *blank, outcome.p_formatted, outcome.p, outcome.test_name, outcome.note]
        )
        for level in outcome.levels:
            rows.append(
                [
                    f"  {outcome.label}: {level.level}",
                    *(_group_cell(count) for count in level.groups),
                    _group_cell(level.total),
                ]
            )
    return rows


def to_csv_bytes(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The rows as CSV: UTF-8 with a byte order mark, formula-like text defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_defused(cell) for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def to_xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[Cell]]]) -> bytes:
    """One worksheet per entry, in order; text is stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not sheets:
        raise ValueError("A workbook needs at least one sheet.")
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(_sheet_name(name))
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                if isinstance(value, str):
                    cell = sheet.cell(row=r, column=c, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                    cell.data_type = "s"
                else:
                    sheet.cell(row=r, column=c, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    if not name or len(name) > SHEET_NAME_LENGTH or SHEET_NAME_FORBIDDEN & set(name):
        raise ValueError(
            f"“{name}” cannot name a worksheet: 1 to {SHEET_NAME_LENGTH} characters, "
            "none of [ ] : * ? / \\."
        )
    return name


def _defused(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return f"'{cell}"
    return cell


def _n_percent(n: int, denominator: int) -> str:
    return f"{n} ({format_percent(n, denominator)}%)" if denominator else f"{n}"


def _group_cell(count: GroupCount) -> str:
    if not count.denominator:
        return "0/0"
    return f"{count.n}/{count.denominator} ({format_percent(count.n, count.denominator)}%)"


def _number(value: float | None) -> str:
    """Up to 4 significant figures, no trailing zeros or exponent for everyday values."""
    return "" if value is None else f"{value:.4g}"
