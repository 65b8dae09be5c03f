"""CSV/TSV and Excel exports: one row per record, a header row naming the columns.

Exporters put things above the header (Embase: the search query and a rule of dashes;
Excel-made files: the sheet title), so the header is the first row that fills at least
half as many cells as the widest of the first rows. The delimiter is whichever of comma,
semicolon, tab or pipe gives the most rows as wide as that header.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from typing import Any

import openpyxl

from reviewer.imports.base import END_PAGE_KEY, ColumnMapping, ParsedRecord
from reviewer.imports.decoding import SNIFF_BYTES
from reviewer.imports.mapping import end_page_column
from reviewer.imports.normalise import build_record, clean_pages, clean_text, split_list
from reviewer.imports.notes import MAX_LISTED, PassNotes, refs_phrase, row_location
from reviewer.imports.source import SourceFile

BOOKKEEPING_KEYS: frozenset[str] = frozenset()

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: Rows looked at to find the header.
HEADER_SEARCH_ROWS = 20
#: Rows looked at to choose the delimiter.
SNIFF_ROWS = 200

# Abstracts and reference lists can exceed the csv module's 128 KB default per field.
csv.field_size_limit(64 * 1024 * 1024)

# A whole name with initials: "Yang Z.", "McNamara M.E.", "PM Barrett", "K.J. Willis".
_NAME_WITH_INITIALS = re.compile(r"\S.*\s[A-Z][A-Z.\-]*|[A-Z][A-Z.\-]*\s+\S.*")


@dataclass(slots=True)
class TableLayout:
    """Where the table starts and what its columns are called."""

    columns: list[str]
    header_row: int  # 1-based line (CSV) or sheet row (XLSX) of the header
    rows_before_header: list[str] = field(default_factory=list)
    delimiter: str = ","


# --- finding the header and the delimiter ---


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the header among the first rows, None if no row has two named cells."""
    counts = [sum(1 for cell in row if clean_text(cell)) for row in rows[:HEADER_SEARCH_ROWS]]
    widest = max(counts, default=0)
    if widest < 2:
        return None
    needed = max(2, math.ceil(widest / 2))
    return next(i for i, count in enumerate(counts) if count >= needed)


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


def unique_columns(header: Iterable[str]) -> list[str]:
    """Stripped header names, made unique ('labeled_at', 'labeled_at (2)'), none blank."""
    columns: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(header, start=1):
        name = clean_text(cell) or f"column {index}"
        candidate, copy = name, 1
        while candidate in seen:
            copy += 1
            candidate = f"{name} ({copy})"
        seen.add(candidate)
        columns.append(candidate)
    return columns


def _trim_trailing_blanks(row: Sequence[str]) -> list[str]:
    cells = list(row)
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


# --- CSV ---


def csv_layout(source: SourceFile) -> TableLayout:
    """Read enough of a CSV/TSV file to know its delimiter, header row and columns."""
    with source.open_text(newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
        complete = not handle.read(1)
    guess = sniff_delimiter(sample, complete=complete)
    if guess is None:
        raise source.error(
            "no header row found: a CSV export needs a first row naming at least two "
            "columns (comma-, semicolon- or tab-separated)."
        )
    with source.open_text(newline="") as handle:
        reader = csv.reader(handle, delimiter=guess.delimiter)
        before = [_preview(row) for row in islice(reader, guess.header_index)]
        header = next(reader)
        header_line = reader.line_num
    return TableLayout(
        columns=unique_columns(_trim_trailing_blanks(header)),
        header_row=header_line,
        rows_before_header=[row for row in before if row],
        delimiter=guess.delimiter,
    )


def read_csv_records(
    source: SourceFile, layout: TableLayout, mapping: ColumnMapping, notes: PassNotes
) -> Iterator[ParsedRecord]:
    """Stream the rows under the header as records."""
    with source.open_text(newline="") as handle:
        reader = csv.reader(handle, delimiter=layout.delimiter, strict=True)
        extra = _ExtraCells()
        lone = _LoneCells()
        previous_end = 0
        try:
            while reader.line_num < layout.header_row:
                next(reader)
            previous_end = reader.line_num
            for row in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                if not row:  # a blank line
                    continue
                if len(row) == 1 and len(layout.columns) >= 3:
                    # No delimiter on the line: a heading such as Abstrackr's "citations
                    # that are not yet labeled by anyone", not a record.
                    lone.add(line, row[0])
                    continue
                yield _row_record(row, line, layout.columns, mapping, notes, extra)
        except csv.Error as error:
            raise source.error(
                f"the CSV is malformed ({error}) in the row starting on this line; often a "
                "quote opened inside a cell and never closed.",
                line=previous_end + 1,
            ) from error
    extra.report(notes)
    lone.report(notes)


class _LoneCells:
    """Lines of a multi-column CSV that hold one cell and no delimiter."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def add(self, line: int, text: str) -> None:
        self.lines.append((line, clean_text(text)[:80]))

    def report(self, notes: PassNotes) -> None:
        if self.lines:
            shown = "; ".join(f"line {n}: {text!r}" for n, text in self.lines[:MAX_LISTED])
            more = ", …" if len(self.lines) > MAX_LISTED else ""
            notes.warn(
                f"Skipped {len(self.lines)} line(s) with a single cell and no delimiter, "
                f"which are headings rather than records: {shown}{more}."
            )


# --- XLSX ---


def _cell_text(value: Any) -> str:
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
    """Header and columns of the first sheet, and warnings about other sheets."""
    workbook = _open_workbook(source)
    try:
        sheet = workbook.worksheets[0]
        warnings = []
        others = [ws.title for ws in workbook.worksheets[1:]]
        if others:
            names = ", ".join(repr(name) for name in others)
            warnings.append(
                f"Only the first sheet ({sheet.title!r}) was read; the workbook has "
                f"{len(others)} more: {names}."
            )
        rows = [
            [_cell_text(v) for v in row]
            for row in islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS)
        ]
    finally:
        workbook.close()
    header = find_header(rows)
    if header is None:
        raise source.error(
            "no header row found on the first sheet: it needs a row naming at least two "
            "columns above the records."
        )
    layout = TableLayout(
        columns=unique_columns(_trim_trailing_blanks(rows[header])),
        header_row=header + 1,
        rows_before_header=[p for p in (_preview(row) for row in rows[:header]) if p],
    )
    return layout, warnings


def read_xlsx_records(
    source: SourceFile, layout: TableLayout, mapping: ColumnMapping, notes: PassNotes
) -> Iterator[ParsedRecord]:
    """Stream the rows of the first sheet under the header as records."""
    workbook = _open_workbook(source)
    extra = _ExtraCells()
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for row_number, values in enumerate(rows, start=1):
            if row_number <= layout.header_row:
                continue
            row = [_cell_text(v) for v in values]
            if not any(cell.strip() for cell in row):
                continue  # blank rows are the sheet's formatting, not records
            yield _row_record(row, row_number, layout.columns, mapping, notes, extra)
    finally:
        workbook.close()
    extra.report(notes)


def _open_workbook(source: SourceFile) -> Any:
    try:
        return openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError) as error:
        raise source.error(
            f"the Excel workbook could not be opened ({error}); save it again as .xlsx "
            "or export the data as CSV."
        ) from error


# --- rows to records ---


class _ExtraCells:
    """Rows wider than the header: their extra cells are kept under 'extra N' keys."""

    def __init__(self) -> None:
        self.count = 0
        self.locations: list[str] = []

    def add(self, location: str) -> None:
        self.count += 1
        if len(self.locations) < MAX_LISTED:
            self.locations.append(location)

    def report(self, notes: PassNotes) -> None:
        if self.count:
            notes.warn(
                f"{self.count} row(s) have more cells than the header has columns "
                f"({refs_phrase(self.locations, self.count)}); the extra cells are kept in "
                "the raw record as 'extra 1', 'extra 2', …"
            )


def _row_record(
    row: list[str],
    line: int,
    columns: list[str],
    mapping: ColumnMapping,
    notes: PassNotes,
    extra: _ExtraCells,
) -> ParsedRecord:
    location = row_location(line)
    raw = {column: cell for column, cell in zip(columns, row, strict=False) if cell.strip()}
    surplus = [cell for cell in row[len(columns) :] if cell.strip()]
    if surplus:
        extra.add(location)
        raw.update({f"extra {i}": cell for i, cell in enumerate(surplus, start=1)})

    def cell(field_name: str) -> str:
        column = mapping.get(field_name)
        return raw.get(column, "") if column else ""

    return build_record(
        location=location,
        raw=raw,
        notes=notes,
        title=cell("title"),
        abstract=cell("abstract"),
        authors=split_authors(cell("authors")),
        year=cell("year"),
        journal=cell("journal"),
        volume=cell("volume"),
        issue=cell("issue"),
        pages=clean_pages(cell("pages"), cell(END_PAGE_KEY)),
        doi=cell("doi"),
        pmid=cell("pmid"),
        keywords=split_keywords(cell("keywords")),
        language=cell("language"),
        publication_type=cell("publication_type"),
        url=split_list(cell("url"), "; |\n")[0] if cell("url") else "",
    )


def _python_list(text: str) -> list[str] | None:
    """ASReview writes list cells as Python literals: "['Marx, Karl', 'Lindgren, Astrid']"."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def split_authors(text: str) -> list[str]:
    """Authors from one cell, splitting only where the separator is unambiguous.

    ';' (Scopus, Lens, Zotero), '|' (OpenAlex) and ' and ' (BibTeX style, Abstrackr) always
    separate names. A comma does only
    when every part is a whole Vancouver-style name ('Yang Z., Jiang B.' from Embase);
    'Marx, Karl' stays one author.
    """
    text = text.strip()
    if not text:
        return []
    if (items := _python_list(text)) is not None:
        return items
    for separator in (";", "|"):
        if separator in text:
            return split_list(text, separator)
    if re.search(r"\s+and\s+", text):  # BibTeX style: "Longrich, N.R. and Bardet, N."
        return split_list(re.sub(r"\s+and\s+", ";", text))
    parts = [clean_text(part) for part in text.split(",")]
    if len(parts) > 1 and all(_NAME_WITH_INITIALS.fullmatch(part) for part in parts):
        return parts
    return [text]


def split_keywords(text: str) -> list[str]:
    """Keywords from one cell: a Python list, else split on ';' or '|', else on ','."""
    text = text.strip()
    if not text:
        return []
    if (items := _python_list(text)) is not None:
        return items
    for separator in (";", "|"):
        if separator in text:
            return split_list(text, separator)
    return _split_outside_brackets(text, ",")


def _split_outside_brackets(text: str, separator: str) -> list[str]:
    """Split on `separator` except inside brackets: Embase writes
    'bronchogenic cyst (diagnosis, surgery), colon' for two terms, not three."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in (clean_text(p) for p in parts) if part]


def _preview(row: Sequence[str]) -> str:
    return clean_text(" ".join(cell for cell in row if cell.strip()))[:80]


def require_title(source: SourceFile, layout: TableLayout, mapping: ColumnMapping) -> ColumnMapping:
    """Check the mapping names real columns and one of them holds the title."""
    for field_name, column in mapping.items():
        if column and column not in layout.columns:
            raise source.error(
                f"the column {column!r} chosen for {field_name} is not in the file. "
                f"Columns found: {_column_list(layout.columns)}."
            )
    if not mapping.get("title"):
        raise source.error(
            "no column could be used as the title. Columns found: "
            f"{_column_list(layout.columns)}. Choose which column holds the title in the "
            "column mapping and read the file again."
        )
    end = end_page_column(mapping.get("pages", ""), layout.columns)
    if end and END_PAGE_KEY not in mapping:
        mapping = {**mapping, END_PAGE_KEY: end}
    return {field_name: column for field_name, column in mapping.items() if column}


def _column_list(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40])
    return shown + (f" and {len(columns) - 40} more" if len(columns) > 40 else "")


def describe_layout(layout: TableLayout, *, is_csv: bool) -> list[str]:
    """Warnings about rows skipped above the header."""
    if not layout.rows_before_header:
        return []
    unit = "line" if is_csv else "row"
    shown = "; ".join(repr(p) for p in layout.rows_before_header[:3])
    return [
        f"The header is on {unit} {layout.header_row}; the {unit}s above it were skipped "
        f"as they are not records: {shown}."
    ]
