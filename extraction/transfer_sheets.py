"""Reading an uploaded spreadsheet (CSV or XLSX) into a header and numbered rows.

Only the reading: which format the bytes are, how they decode, which cells they hold.
Whether the cells fit the review's form is `extraction.services.transfer`'s business. Everything
that stops a file from being read as one plain table is reported as a `Problem`: not a
CSV or XLSX file, text in no recognisable encoding, a workbook with more than one sheet,
merged cells, a workbook that would unpack past `LIMITS` (checked before reading).

Rows are numbered as a spreadsheet shows them: the header is row 1 and a CSV record that
spans several lines (a quoted line break) is one row.

XLSX: openpyxl opens the workbook (sheet names, shared strings, which styles are dates),
and the sheet's XML is then read with expat, once, for cells and merged ranges alike.
openpyxl's own read-only rows took 8 s for 50,000 rows of 28 columns on the reference
machine and cannot see merged cells; this pass takes about 3 s and sees both. Formulas
give their cached result (what the spreadsheet shows), as openpyxl's `data_only` does.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

import charset_normalizer
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

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
    elif data.startswith(b"%PDF") or (b"\x00" in data[:4096] and not _utf16_bom(data)):
        sheet.refuse(f"“{name}” is not a CSV or XLSX file. Upload the sheet as CSV or XLSX.")
    else:
        return _read_csv(name, data)
    return sheet


# --- CSV ---------------------------------------------------------------------------


def _utf16_bom(data: bytes) -> bool:
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(name: str, data: bytes, sheet: Sheet) -> str | None:
    """The file's text: UTF-8 (with or without BOM) or UTF-16 with a BOM as they are;
    anything else as cp1252 or charset-normalizer's guess, with a notice to check accents."""
    encoding = "utf-16" if _utf16_bom(data) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        where = f"line {_line_of(data, error.start)}"
        # Excel's plain "CSV" in Western Europe is cp1252: try it before a statistical
        # guess, which tells close code pages apart badly on short files (as
        # reviewer.imports.decoding does).
        best = _cp1252(data) or charset_normalizer.from_bytes(data).best()
        if best is None or encoding == "utf-16":
            sheet.refuse(
                f"“{name}” is not UTF-8 text (first bad byte on {where}) and its encoding "
                "could not be recognised. Save it as “CSV UTF-8” and upload it again.",
                row=_line_of(data, error.start),
            )
            return None
        guessed = best.encoding
        try:
            text = data.decode(guessed)
        except (UnicodeDecodeError, LookupError):
            sheet.refuse(
                f"“{name}” is not UTF-8 text (first bad byte on {where}) and does not decode "
                f"as {guessed} either. Save it as “CSV UTF-8” and upload it again."
            )
            return None
        sheet.encoding = guessed
        sheet.notices.append(
            f"The file is not UTF-8 (first on {where}); it was read as {guessed}"
            f"{' (Windows, Western European)' if guessed == 'cp1252' else ', the best guess'}. "
            "Check accented letters before importing, or save the file as “CSV UTF-8” and "
            "upload it again."
        )
        return text.lstrip("\ufeff")
    sheet.encoding = "UTF-16" if encoding == "utf-16" else "UTF-8"
    return text.lstrip("\ufeff")


@dataclass(frozen=True)
class _Guess:
    encoding: str


def _cp1252(data: bytes) -> _Guess | None:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return _Guess("cp1252")


def _delimiter(first_line: str) -> str:
    """Comma, unless the header is clearly separated by semicolons (Excel in many
    European locales) or tabs."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > counts[","] else ","


def _read_csv(name: str, data: bytes) -> Sheet:
    sheet = Sheet(file_format="CSV")
    text = _decode(name, data, sheet)
    if text is None:
        return sheet
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
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
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            LIMITS.check_archive(archive, file_size=len(data))
    except WorkbookTooLarge as error:
        sheet.refuse(f"“{name}” was not read. {error}")
        return sheet
    except zipfile.BadZipFile:
        pass  # said below, with the reason openpyxl gives
    try:
        book = _Workbook(data)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:
        sheet.refuse(
            f"“{name}” is a ZIP file but not an Excel workbook that can be opened ({error}). "
            "Save it as Excel Workbook (.xlsx) or as CSV UTF-8."
        )
        return sheet
    if not book.sheets:
        sheet.refuse(f"“{name}” has no worksheet.")
        return sheet
    (first, path), *others = book.sheets
    if others:
        names = ", ".join(f"“{title}”" for title, _ in others)
        sheet.refuse(
            f"The workbook has more than one sheet: besides “{first}” it holds {names}. "
            "Keep only the data sheet (or copy it into a new workbook) and upload again."
        )
    reader = _CellReader(
        shared_strings=book.shared_strings, date_styles=book.date_styles, epoch=book.epoch
    )
    try:
        with book.archive.open(path) as source:
            reader.read(source)
    except WorkbookTooLarge as error:
        sheet.refuse(f"“{name}” was not read. {error}")
        return sheet
    except (expat.ExpatError, KeyError, ValueError, IndexError) as error:
        sheet.refuse(f"The sheet “{first}” cannot be read as XLSX ({error}).")
        return sheet
    finally:
        book.archive.close()
    for number, cells in reader.rows:
        if number == 1:
            sheet.header = [cell_text(cell) for cell in cells]
        elif any(cell is not None and cell_text(cell) for cell in cells):
            sheet.rows.append((number, cells))
    if not sheet.header:
        sheet.refuse("The sheet's first row is empty: it must name the columns.", row=1)
    for ref in reader.merged:
        top_left = ref.split(":", 1)[0]
        column = _column_of(top_left)
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


class _Workbook:
    """The workbook's parts that reading cells needs, read with openpyxl's own reader:
    sheet names and paths, shared strings, which cell styles are dates.

    `openpyxl.load_workbook(read_only=True)` also measures every sheet, and where the
    file has no <dimension> element (openpyxl's own write-only files, so our exports)
    that parses the whole sheet once more: 6 s of a 50,000-row preview.
    """

    def __init__(self, data: bytes) -> None:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        self.archive = reader.archive
        self.shared_strings: list[str] = list(reader.shared_strings)
        self.date_styles: set[int] = set(reader.wb._date_formats)
        self.epoch = reader.wb.epoch
        self.sheets: list[tuple[str, str]] = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files
        ]


def _column_of(reference: str) -> int:
    """0-based column index of a cell reference ("AB12" -> 27)."""
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index - 1


class _CellReader:
    """Streams a worksheet's XML with expat: every row's values, and the merged ranges.

    The handlers are closures over local state: this runs a few million times for a
    large sheet, and attribute look-ups are what it would spend its time on.
    """

    def __init__(self, *, shared_strings: list[str], date_styles: set[int], epoch: Any) -> None:
        self.shared_strings = shared_strings
        self.date_styles = date_styles
        self.epoch = epoch
        self.rows: list[tuple[int, list[Any]]] = []
        self.merged: list[str] = []

    def read(self, source: Any) -> None:
        rows, merged, value_of = self.rows, self.merged, self._value
        check_row = LIMITS.check_row
        tags: dict[str, str] = {}
        columns: dict[str, int] = {}
        state: dict[str, Any] = {"row": [], "number": 0, "column": -1, "type": "n", "style": 0}
        text: list[str] = []
        collecting = [False, False]  # inside <v> or <t>; inside a phonetic run

        def local(name: str) -> str:
            tag = tags.get(name)
            if tag is None:
                tag = tags[name] = name.rpartition(":")[2]
            return tag

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = tags.get(name) or local(name)
            if tag == "c":
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    column = columns.get(letters)
                    if column is None:
                        column = columns[letters] = _column_of(letters)
                        check_row(state["number"], column + 1)
                    state["column"] = column
                else:
                    state["column"] += 1
                    check_row(state["number"], state["column"] + 1)
                state["type"] = attrs.get("t", "n")
                state["style"] = int(attrs.get("s", 0))
                text.clear()
            elif tag == "v" or (tag == "t" and not collecting[1]):
                collecting[0] = True
            elif tag == "row":
                ref = attrs.get("r")
                state["number"] = int(ref) if ref else state["number"] + 1
                check_row(state["number"], 0)
                state["row"] = []
                state["column"] = -1
            elif tag == "rPh":
                collecting[1] = True
            elif tag == "mergeCell" and attrs.get("ref"):
                merged.append(attrs["ref"])

        def end(name: str) -> None:
            tag = tags.get(name) or local(name)
            if tag == "c":
                if text:
                    row = state["row"]
                    missing = state["column"] - len(row)
                    if missing > 0:
                        row.extend([None] * missing)
                    row.append(value_of("".join(text), state["type"], state["style"]))
            elif tag == "v" or tag == "t":
                collecting[0] = False
            elif tag == "row":
                rows.append((state["number"], state["row"]))
            elif tag == "rPh":
                collecting[1] = False

        def characters(data: str) -> None:
            if collecting[0]:
                text.append(data)

        def no_entities(name: str, *args: object) -> None:
            # a sheet never declares entities: refuse them as defusedxml does (no XML bombs)
            raise ValueError(f"the sheet declares the XML entity “{name}”, which is not allowed")

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.EntityDeclHandler = no_entities
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        parser.ParseFile(source)

    def _value(self, raw: str, kind: str, style: int) -> Any:
        if kind == "s":
            return self.shared_strings[int(raw)]
        if kind in ("str", "inlineStr", "e"):
            return raw
        if kind == "b":
            return raw.strip() == "1"
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(raw)
            except ValueError:
                return raw
        number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if style in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return raw
        return number
