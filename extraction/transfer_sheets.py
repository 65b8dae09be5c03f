"""Reading an uploaded extraction spreadsheet (CSV or XLSX) into a header and numbered rows.

Only the reading: which format the bytes are, how they decode, which cells they hold.
Whether the cells fit the review's form is `extraction.services.transfer`'s business.
The reading itself — encoding, delimiter, workbook limits, the XLSX cells — is the one
table reading module's, shared with the search imports (`reviewer.imports.tables`); this
module says, as a `Problem`, everything that stops a file from being read as one plain
table: not a CSV or XLSX file, a workbook with more than one sheet, merged cells, a
workbook that would unpack past `LIMITS` (checked before reading).

The header is always row 1, and rows are numbered as a spreadsheet shows them: a CSV
record that spans several lines (a quoted line break) is one row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from reviewer.imports import tables
from reviewer.imports.decoding import SNIFF_BYTES, bomless_utf16
from reviewer.imports.workbook_limits import WorkbookLimits, WorkbookTooLarge

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: What an extraction workbook may expand to, checked before reading (a few hundred KB
#: can unpack to gigabytes): 100,000 rows of 1,000 columns, 100 MB unpacked. A 50,000-row
#: sheet of 28 columns, the largest measured, unpacks to about 40 MB.
LIMITS = WorkbookLimits(rows=100_000, columns=1_000, uncompressed_bytes=100 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the file cannot be imported as it is.

    `row` is the row as the spreadsheet shows it (the header is 1), None for the file as
    a whole; `column` the column's name (or letter when it has none), "" for none.
    """

    row: int | None
    column: str
    value: str
    message: str


@dataclass
class Sheet:
    """What was read: the header's cells and each non-blank row under it, numbered."""

    file_format: str = ""
    encoding: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def refuse(
        self, message: str, *, row: int | None = None, column: str = "", value: str = ""
    ) -> None:
        self.problems.append(Problem(row, column, value, message))


def column_letter(index: int) -> str:
    """Spreadsheet letters of a 0-based column index: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 2020 not 2020.0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def read_sheet(name: str, data: bytes) -> Sheet:
    """Read an uploaded file, whichever of CSV or XLSX its content says it is."""
    lower = name.lower()
    if not data:
        sheet = Sheet()
        sheet.refuse(f"“{name}” is empty.")
        return sheet
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(name, data)
    sheet = Sheet()
    if data.startswith(_OLE_MAGIC):
        sheet.refuse(
            f"“{name}” is an old Excel workbook (.xls) or another Office file. Save it as "
            "Excel Workbook (.xlsx) or as CSV UTF-8, and upload that."
        )
    elif lower.endswith((".xlsx", ".xlsm")):
        sheet.refuse(f"“{name}” is named like an Excel workbook but is not one (not a .xlsx file).")
    elif data.startswith(b"%PDF") or (
        b"\x00" in data[:4096] and not _utf16_bom(data) and bomless_utf16(data) is None
    ):
        sheet.refuse(f"“{name}” is not a CSV or XLSX file. Upload the sheet as CSV or XLSX.")
    else:
        return _read_csv(name, data)
    return sheet


# --- CSV ---------------------------------------------------------------------------


def _utf16_bom(data: bytes) -> bool:
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _decode(data: bytes, sheet: Sheet) -> str:
    """The file's text, decoded as every import decodes (`tables.decode`); a notice to
    check accented letters when it was not UTF-8."""
    text, decoding = tables.decode(data)
    name = decoding.encoding
    if decoding.first_bad_line is None:
        sheet.encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(name, name.upper())
        return text
    sheet.encoding = name
    where = f"line {decoding.first_bad_line}"
    if name.startswith(("utf-16", "utf-32")):
        read_as = f"as {name}, with the bytes that are not shown as �"
    elif name == "cp1252":
        read_as = "as cp1252 (Windows, Western European)"
    else:
        read_as = f"as {name}, the best guess"
    sheet.notices.append(
        f"The file is not UTF-8 (first on {where}); it was read {read_as}. Check accented "
        "letters before importing, or save the file as “CSV UTF-8” and upload it again."
    )
    return text


def _delimiter(text: str) -> str:
    """The delimiter every import sniffs (`tables.sniff_delimiter`); comma when the file
    does not say (a header alone of one column)."""
    sample = text[:SNIFF_BYTES]
    guess = tables.sniff_delimiter(sample, complete=len(text) <= SNIFF_BYTES)
    return guess.delimiter if guess is not None else ","


def _read_csv(name: str, data: bytes) -> Sheet:
    sheet = Sheet(file_format="CSV")
    text = _decode(data, sheet)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                sheet.header = [cell.strip() for cell in cells]
            elif any(cell.strip() for cell in cells):
                sheet.rows.append((number, cells))
    except csv.Error as error:
        sheet.refuse(
            f"The CSV cannot be read past line {reader.line_num}: {error}. Check its quotes.",
            row=reader.line_num,
        )
    if not sheet.header:
        sheet.refuse(f"“{name}” has no header row.")
    return sheet


# --- XLSX --------------------------------------------------------------------------


def _read_xlsx(name: str, data: bytes) -> Sheet:
    sheet = Sheet(file_format="XLSX", encoding="")
    try:
        book = tables.open_workbook(data, LIMITS)
    except WorkbookTooLarge as error:
        sheet.refuse(f"“{name}” was not read. {error}")
        return sheet
    except tables.UnreadableWorkbook as error:
        sheet.refuse(
            f"“{name}” is a ZIP file but not an Excel workbook that can be opened ({error}). "
            "Save it as Excel Workbook (.xlsx) or as CSV UTF-8."
        )
        return sheet
    try:
        if not book.sheets:
            sheet.refuse(f"“{name}” has no worksheet.")
            return sheet
        (first, path), *others = book.sheets
        if others:
            titles = ", ".join(f"“{title}”" for title, _ in others)
            sheet.refuse(
                f"The workbook has more than one sheet: besides “{first}” it holds {titles}. "
                "Keep only the data sheet (or copy it into a new workbook) and upload again."
            )
        reader = tables.CellReader(book, LIMITS)
        with book.archive.open(path) as source:
            for number, cells in reader.rows(source):
                if number == 1:
                    sheet.header = [cell_text(cell) for cell in cells]
                elif any(cell is not None and cell_text(cell) for cell in cells):
                    sheet.rows.append((number, cells))
    except WorkbookTooLarge as error:
        sheet.refuse(f"“{name}” was not read. {error}")
        return sheet
    except (expat.ExpatError, KeyError, ValueError, IndexError) as error:
        sheet.refuse(f"The sheet “{first}” cannot be read as XLSX ({error}).")
        return sheet
    finally:
        book.archive.close()
    if not sheet.header:
        sheet.refuse("The sheet's first row is empty: it must name the columns.", row=1)
    for ref in reader.merged:
        top_left = ref.split(":", 1)[0]
        column = tables.column_of(top_left)
        row = int("".join(ch for ch in top_left if ch.isdigit()) or 0)
        header = sheet.header[column] if column < len(sheet.header) else ""
        sheet.refuse(
            "Merged cells: unmerge them so that every row holds its own values "
            "(for a study key, repeat it on each row).",
            row=row or None,
            column=header or column_letter(column),
            value=ref,
        )
    return sheet
