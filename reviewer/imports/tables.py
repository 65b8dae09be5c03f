"""Reading table files — CSV/TSV and XLSX — for every import: the search exports
(`reviewer.imports.delimited`, `reviewer.imports.xlsx`) and the extraction spreadsheets
(`extraction.transfer_sheets`). What each import then makes of the rows is its own.

- **Encoding** (`decode`): `reviewer.imports.decoding.choose_decoding` — a byte-order mark,
  then the *whole* file checked as UTF-8, then cp1252, then charset-normalizer's guess —
  for a path or for bytes alike.
- **Delimiter** (`sniff_delimiter`): whichever of comma, semicolon, tab or pipe makes the
  most rows line up with the header (a file's name cannot be trusted: tab-separated text
  saved as .csv; Excel's CSV in many European locales is semicolon-separated).
- **Limits and XLSX** (`open_workbook`, `CellReader`): the workbook is checked against its
  `WorkbookLimits` from the ZIP directory and the sheets' declared dimensions before
  anything is unpacked (`reviewer.imports.workbook_limits`), then openpyxl reads the
  workbook's parts (sheet names, shared strings, which styles are dates) and the sheet's
  XML is streamed once with expat, for cells and merged ranges alike. openpyxl's own
  read-only rows took 8 s for 50,000 rows of 28 columns on the reference machine and
  cannot see merged cells; this pass takes about 3 s and sees both. Formulas give their
  cached result (what the spreadsheet shows), as openpyxl's `data_only` does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from reviewer.imports.decoding import Decoding, choose_decoding
from reviewer.imports.tabular import find_header
from reviewer.imports.workbook_limits import WorkbookLimits, WorkbookTooLarge

# openpyxl is imported inside the functions that read a workbook: loading Django (every web
# process, worker and manage.py command) must not pay for it (tests/test_startup.py).

__all__ = [
    "DELIMITERS",
    "DELIMITER_NAMES",
    "CellReader",
    "DelimiterGuess",
    "UnreadableWorkbook",
    "Workbook",
    "WorkbookTooLarge",
    "column_of",
    "decode",
    "open_workbook",
    "sniff_delimiter",
]

# Abstracts and reference lists can exceed the csv module's 128 KB default per field.
csv.field_size_limit(64 * 1024 * 1024)

_CHUNK = 256 * 1024


# --- encoding ------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, Decoding]:
    """The file's text, and how it was decoded (`Decoding.warning` says when to check it)."""
    decoding = choose_decoding(data)
    text = data.decode(decoding.encoding, errors=decoding.errors)
    return text.lstrip("\ufeff"), decoding


# --- delimiter -----------------------------------------------------------------------


DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: Rows looked at to choose the delimiter.
SNIFF_ROWS = 200


@dataclass(frozen=True, slots=True)
class DelimiterGuess:
    delimiter: str
    header_index: int
    width: int
    exact: int  # sniffed data rows exactly as wide as the header
    fitting: int  # data rows of 2 cells up to the header's width (trailing cells omitted)
    data_rows: int

    def looks_like_table(self) -> bool:
        """Convincing enough to call the file a table from its content alone."""
        if self.width < 2:
            return False
        if not self.data_rows:
            return True
        exact, fitting = self.exact / self.data_rows, self.fitting / self.data_rows
        return exact >= 0.8 or (exact >= 0.5 and fitting >= 0.9)


def sniff_delimiter(text: str, *, complete: bool) -> DelimiterGuess | None:
    """The delimiter that makes the sample most table-like; None if nothing does.

    `complete` says the sample is the whole file; otherwise its last row may be cut short
    and is ignored.
    """
    best: DelimiterGuess | None = None
    for delimiter in DELIMITERS:
        rows = _sample_rows(text, delimiter, complete=complete)
        header = find_header(rows)
        if header is None:
            continue
        width = len(rows[header])
        data = [row for row in rows[header + 1 :] if any(cell.strip() for cell in row)]
        exact = sum(1 for row in data if len(row) == width)
        fitting = sum(1 for row in data if 2 <= len(row) <= width)
        guess = DelimiterGuess(delimiter, header, width, exact, fitting, len(data))
        if best is None or _rank(guess) > _rank(best):
            best = guess
    return best


def _rank(guess: DelimiterGuess) -> tuple[int, int, int]:
    """More rows lining up with the header wins; then more that fit; then more columns.

    Counting rows (not shares) matters: with the wrong delimiter the "header" is found
    further down, and the few rows left under it can all line up by chance.
    """
    return (guess.exact, guess.fitting, guess.width)


def _sample_rows(text: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while len(rows) <= SNIFF_ROWS:
        try:
            rows.append(next(reader))
        except StopIteration:
            break
        except csv.Error:
            break  # a sample cut inside a quoted field: the rows so far are enough to judge
    if not complete and len(rows) > 1:
        rows.pop()
    return rows


# --- XLSX ----------------------------------------------------------------------------


class UnreadableWorkbook(ValueError):
    """A ZIP file that openpyxl cannot open as a workbook; the message is its reason."""


def open_workbook(source: Path | bytes, limits: WorkbookLimits) -> Workbook:
    """The workbook's parts, once `limits` says it is safe to unpack. Raises
    WorkbookTooLarge (the message says which limit) or UnreadableWorkbook."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            limits.check_archive(zf, file_size=size)
    except zipfile.BadZipFile:
        pass  # said below, with the reason openpyxl gives
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return Workbook(source)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:
        raise UnreadableWorkbook(str(error)) from error


class Workbook:
    """The workbook's parts that reading cells needs: sheet names and paths and the shared
    strings, read with openpyxl's reader, and which cell styles are dates (`date_styles`).

    `openpyxl.load_workbook(read_only=True)` also measures every sheet, and where the
    file has no <dimension> element (openpyxl's own write-only files, so our exports)
    that parses the whole sheet once more: 6 s of a 50,000-row preview.
    """

    def __init__(self, source: Path | bytes) -> None:
        from openpyxl.reader.excel import ExcelReader

        reader = ExcelReader(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            read_only=True,
            data_only=True,
        )
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        self.archive = reader.archive
        self.shared_strings: list[str] = list(reader.shared_strings)
        self.date_styles: set[int] = date_styles(reader.archive)
        self.epoch = reader.wb.epoch
        self.sheets: list[tuple[str, str]] = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files
        ]


_STYLES = "xl/styles.xml"  # where Excel and openpyxl put it (openpyxl reads it from there)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def date_styles(archive: zipfile.ZipFile) -> set[int]:
    """The cell styles (indexes into the stylesheet's `cellXfs`) whose number format is a
    date or time, so that their cells' numbers are read as dates.

    Read here from the stylesheet, with openpyxl's public format helpers, rather than through
    `openpyxl.styles.stylesheet.apply_stylesheet` and the workbook's private `_date_formats`,
    which also builds every font, fill and border of the workbook."""
    from defusedxml import ElementTree
    from openpyxl.styles.numbers import builtin_format_code, is_date_format

    try:
        root = ElementTree.fromstring(archive.read(_STYLES))
    except KeyError:
        return set()
    except ElementTree.ParseError as error:
        raise ValueError(f"its stylesheet ({_STYLES}) is not valid XML: {error}") from error
    custom = {
        int(node.get("numFmtId", "0")): node.get("formatCode", "")
        for node in root.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt")
    }
    dates = set()
    for index, xf in enumerate(root.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
        number_format = int(xf.get("numFmtId", "0"))
        code = (
            custom[number_format] if number_format in custom else builtin_format_code(number_format)
        )
        if code and is_date_format(code):
            dates.add(index)
    return dates


def column_of(reference: str) -> int:
    """0-based column index of a cell reference ("AB12" -> 27)."""
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index - 1


class CellReader:
    """Streams a worksheet's XML with expat: every row's values (`rows` yields them as
    `(row number, cells)` while it reads), and the merged ranges (`merged`, complete once
    `rows` is exhausted: they follow the cells in the sheet's XML).

    The handlers are closures over local state: this runs a few million times for a
    large sheet, and attribute look-ups are what it would spend its time on.
    """

    def __init__(self, book: Workbook, limits: WorkbookLimits) -> None:
        from openpyxl.utils.datetime import from_excel

        self.from_excel = from_excel
        self.shared_strings = book.shared_strings
        self.date_styles = book.date_styles
        self.epoch = book.epoch
        self.limits = limits
        self.merged: list[str] = []

    def rows(self, source: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
        """Raises WorkbookTooLarge past the limits, ValueError (expat.ExpatError, KeyError,
        IndexError too) for XML that is not a sheet."""
        rows: list[tuple[int, list[Any]]] = []
        merged, value_of = self.merged, self._value
        check_row = self.limits.check_row
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
                        column = columns[letters] = column_of(letters)
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
        while chunk := source.read(_CHUNK):
            parser.Parse(chunk, False)
            yield from rows
            rows.clear()
        parser.Parse(b"", True)
        yield from rows

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
                return self.from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return raw
        return number
