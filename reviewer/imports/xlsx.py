"""Excel workbooks (.xlsx): the first sheet, read row by row with openpyxl's read-only mode,
once `reviewer.imports.workbook_limits` has found the workbook safe to unpack."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from reviewer.imports.base import ColumnMapping, ParsedRecord
from reviewer.imports.notes import Notice, PassNotes
from reviewer.imports.source import SourceFile
from reviewer.imports.tabular import (
    HEADER_SEARCH_ROWS,
    ExtraCells,
    TableLayout,
    find_header,
    preview,
    row_record,
    trim_trailing_blanks,
    unique_columns,
)
from reviewer.imports.workbook_limits import SEARCH_EXPORT_LIMITS, WorkbookTooLarge

#: Rows, columns and unpacked size a search export workbook may have (stated there).
LIMITS = SEARCH_EXPORT_LIMITS


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a user typed (2020, not 2020.0; dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def xlsx_layout(source: SourceFile) -> tuple[TableLayout, list[str]]:
    """Header and columns of the first sheet, and a warning when other sheets exist."""
    workbook = _open_workbook(source)
    try:
        sheet = workbook.worksheets[0]
        warnings: list[str] = []
        others = [ws.title for ws in workbook.worksheets[1:]]
        if others:
            names = ", ".join(repr(name) for name in others)
            warnings.append(
                Notice(
                    f"Only the first sheet ({sheet.title!r}) was read; the workbook has "
                    f"{len(others)} more: {names}.",
                    loses_data=True,
                )
            )
        rows = []
        for number, row in enumerate(
            islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS), start=1
        ):
            LIMITS.check_row(number, len(row))
            rows.append([cell_text(v) for v in row])
    except WorkbookTooLarge as error:
        raise source.error(str(error)) from error
    finally:
        workbook.close()
    header = find_header(rows)
    if header is None:
        raise source.error(
            "no header row found on the first sheet: it needs a row naming at least two "
            "columns above the records."
        )
    layout = TableLayout(
        columns=unique_columns(trim_trailing_blanks(rows[header])),
        header_row=header + 1,
        rows_before_header=[p for p in (preview(row) for row in rows[:header]) if p],
    )
    return layout, warnings


def read_xlsx_records(
    source: SourceFile, layout: TableLayout, mapping: ColumnMapping, notes: PassNotes
) -> Iterator[ParsedRecord]:
    """Stream the rows of the first sheet under the header; location is the sheet row."""
    workbook = _open_workbook(source)
    extra = ExtraCells()
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for row_number, values in enumerate(rows, start=1):
            LIMITS.check_row(row_number, len(values))
            if row_number <= layout.header_row:
                continue
            row = [cell_text(v) for v in values]
            if not any(cell.strip() for cell in row):
                continue  # blank rows are the sheet's formatting, not records
            yield row_record(row, row_number, layout.columns, mapping, notes, extra)
    except WorkbookTooLarge as error:
        raise source.error(str(error)) from error
    finally:
        workbook.close()
    extra.report(notes)


def _open_workbook(source: SourceFile) -> Any:
    """The workbook, read-only, once `SEARCH_EXPORT_LIMITS` says it is safe to open."""
    try:
        with zipfile.ZipFile(source.path) as archive:
            LIMITS.check_archive(archive, file_size=source.path.stat().st_size)
    except WorkbookTooLarge as error:
        raise source.error(str(error)) from error
    except zipfile.BadZipFile:
        pass  # openpyxl says so below, in its own words
    try:
        return openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:
        raise source.error(
            f"the Excel workbook could not be opened ({error}); save it again as .xlsx "
            "or export the data as CSV."
        ) from error
