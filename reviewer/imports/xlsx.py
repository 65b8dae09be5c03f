"""Excel workbooks (.xlsx): the first sheet, streamed row by row by the one table reading
module (`reviewer.imports.tables`), once the workbook is found safe to unpack."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time
from typing import IO, Any
from xml.parsers import expat

from reviewer.imports.base import ColumnMapping, ParsedRecord
from reviewer.imports.notes import Notice, PassNotes
from reviewer.imports.source import SourceFile
from reviewer.imports.tables import CellReader, UnreadableWorkbook, Workbook, open_workbook
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
from reviewer.imports.workbook_limits import (
    SEARCH_EXPORT_LIMITS,
    WorkbookLimits,
    WorkbookTooLarge,
)

#: Rows, columns and unpacked size a search export workbook may have (stated there).
LIMITS = SEARCH_EXPORT_LIMITS
_HEADER_LIMITS = replace(LIMITS, rows=sys.maxsize)


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
    book = _open_workbook(source)
    try:
        (title, path), *others = book.sheets
        warnings: list[str] = []
        if others:
            names = ", ".join(repr(name) for name, _ in others)
            warnings.append(
                Notice(
                    f"Only the first sheet ({title!r}) was read; the workbook has "
                    f"{len(others)} more: {names}.",
                    loses_data=True,
                )
            )
        rows: list[list[str]] = []
        with book.archive.open(path) as sheet:
            # The rows limit is the records pass's to enforce (the header is near the top).
            for number, values in _rows(source, book, sheet, _HEADER_LIMITS):
                if number > HEADER_SEARCH_ROWS:
                    break
                rows.extend([] for _ in range(number - 1 - len(rows)))  # rows with no cells
                rows.append([cell_text(v) for v in values])
    finally:
        book.archive.close()
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
    book = _open_workbook(source)
    extra = ExtraCells()
    try:
        with book.archive.open(book.sheets[0][1]) as sheet:
            for row_number, values in _rows(source, book, sheet):
                if row_number <= layout.header_row:
                    continue
                row = [cell_text(v) for v in values]
                if not any(cell.strip() for cell in row):
                    continue  # blank rows are the sheet's formatting, not records
                yield row_record(row, row_number, layout.columns, mapping, notes, extra)
    finally:
        book.archive.close()
    extra.report(notes)


def _rows(
    source: SourceFile, book: Workbook, sheet: IO[bytes], limits: WorkbookLimits = LIMITS
) -> Iterator[tuple[int, list[Any]]]:
    """The sheet's rows as the one table reader streams them, refusals in this file's words."""
    try:
        yield from CellReader(book, limits).rows(sheet)
    except WorkbookTooLarge as error:
        raise source.error(str(error)) from error
    except (expat.ExpatError, KeyError, ValueError, IndexError) as error:
        raise source.error(
            f"the first sheet cannot be read ({error}); save the workbook again as .xlsx "
            "or export the data as CSV."
        ) from error


def _open_workbook(source: SourceFile) -> Workbook:
    """The workbook's parts, once `SEARCH_EXPORT_LIMITS` says it is safe to open."""
    try:
        book = open_workbook(source.path, LIMITS)
    except WorkbookTooLarge as error:
        raise source.error(str(error)) from error
    except UnreadableWorkbook as error:
        raise source.error(
            f"the Excel workbook could not be opened ({error}); save it again as .xlsx "
            "or export the data as CSV."
        ) from error
    if not book.sheets:
        book.archive.close()
        raise source.error("the workbook has no worksheet.")
    return book
