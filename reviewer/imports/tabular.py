"""What CSV/TSV and Excel exports share: a header row naming columns, one row per record.

Exporters put things above the header (Embase: the search query and a rule of dashes;
Excel-made files: the sheet title), so the header is the first row that fills at least
half as many cells as the widest of the first rows. `delimited` and `xlsx` read the rows;
this module turns a row into a record through the column mapping.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reviewer.imports.base import END_PAGE_KEY, ColumnMapping, ColumnMappingError, ParsedRecord
from reviewer.imports.mapping import end_page_column
from reviewer.imports.normalise import build_record, clean_pages, clean_text, split_list
from reviewer.imports.notes import MAX_LISTED, PassNotes, refs_phrase, row_location
from reviewer.imports.source import SourceFile

BOOKKEEPING_KEYS: frozenset[str] = frozenset()

#: Rows looked at to find the header.
HEADER_SEARCH_ROWS = 20

# A whole name with initials: "Yang Z.", "McNamara M.E.", "PM Barrett", "K.J. Willis".
_NAME_WITH_INITIALS = re.compile(r"\S.*\s[A-Z][A-Z.\-]*|[A-Z][A-Z.\-]*\s+\S.*")
_AND = re.compile(r"\s+and\s+")


@dataclass(slots=True)
class TableLayout:
    """Where the table starts and what its columns are called."""

    columns: list[str]
    header_row: int  # 1-based line (CSV) or sheet row (XLSX) of the header
    rows_before_header: list[str] = field(default_factory=list)
    delimiter: str = ","


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index of the header among the first rows, None if no row has two named cells."""
    counts = [sum(1 for cell in row if clean_text(cell)) for row in rows[:HEADER_SEARCH_ROWS]]
    widest = max(counts, default=0)
    if widest < 2:
        return None
    needed = max(2, math.ceil(widest / 2))
    return next(i for i, count in enumerate(counts) if count >= needed)


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


def trim_trailing_blanks(row: Sequence[str]) -> list[str]:
    """The row without the empty cells spreadsheets leave at its end."""
    cells = list(row)
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def preview(row: Sequence[str]) -> str:
    """A short one-line rendering of a row, for warnings."""
    return clean_text(" ".join(cell for cell in row if cell.strip()))[:80]


def require_title(source: SourceFile, layout: TableLayout, mapping: ColumnMapping) -> ColumnMapping:
    """Check the mapping names real columns and one of them holds the title.

    Returns the mapping to use, with the end-page partner of a start-page column added.
    """
    for field_name, column in mapping.items():
        if column and column not in layout.columns:
            raise ColumnMappingError(
                f"the column {column!r} chosen for {field_name} is not in the file. "
                f"Columns found: {_column_list(layout.columns)}.",
                filename=source.filename,
                columns=layout.columns,
                mapping={f: c for f, c in mapping.items() if c in layout.columns},
            )
    if not mapping.get("title"):
        raise ColumnMappingError(
            "no column could be used as the title. Columns found: "
            f"{_column_list(layout.columns)}. Choose which column holds the title in the "
            "column mapping and read the file again.",
            filename=source.filename,
            columns=layout.columns,
            mapping=mapping,
        )
    end = end_page_column(mapping.get("pages", ""), layout.columns)
    if end and END_PAGE_KEY not in mapping:
        mapping = {**mapping, END_PAGE_KEY: end}
    return {field_name: column for field_name, column in mapping.items() if column}


def _column_list(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40])
    return shown + (f" and {len(columns) - 40} more" if len(columns) > 40 else "")


def describe_layout(layout: TableLayout, *, unit: str) -> list[str]:
    """Warnings about what was skipped above the header (`unit`: 'line' or 'row')."""
    if not layout.rows_before_header:
        return []
    shown = "; ".join(repr(p) for p in layout.rows_before_header[:3])
    return [
        f"The header is on {unit} {layout.header_row}; the {unit}s above it were skipped "
        f"as they are not records: {shown}."
    ]


class ExtraCells:
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


def row_record(
    row: list[str],
    line: int,
    columns: list[str],
    mapping: ColumnMapping,
    notes: PassNotes,
    extra: ExtraCells,
) -> ParsedRecord:
    """One row as a record: `raw` holds every non-empty cell under its column's name."""
    location = row_location(line)
    raw = {column: cell for column, cell in zip(columns, row, strict=False) if cell.strip()}
    surplus = [cell for cell in row[len(columns) :] if cell.strip()]
    if surplus:
        extra.add(location)
        raw.update({f"extra {i}": cell for i, cell in enumerate(surplus, start=1)})

    def cell(field_name: str) -> str:
        column = mapping.get(field_name)
        return raw.get(column, "") if column else ""

    urls = split_list(cell("url"), "; |\n")
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
        url=urls[0] if urls else "",
    )


def split_authors(text: str) -> list[str]:
    """Authors from one cell, splitting only where the separator is unambiguous.

    ';' (Scopus, Lens, Zotero), '|' (OpenAlex) and ' and ' (BibTeX style, Abstrackr)
    always separate names. A comma does only when every part is a whole name with
    initials ('Yang Z., Jiang B.' from Embase); 'Marx, Karl' stays one author.
    """
    text = text.strip()
    if not text:
        return []
    if (items := _python_list(text)) is not None:
        return items
    for separator in (";", "|"):
        if separator in text:
            return split_list(text, separator)
    if _AND.search(text):
        return split_list(_AND.sub(";", text))
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


def _python_list(text: str) -> list[str] | None:
    """ASReview writes list cells as Python literals: "['Marx, Karl', 'Lindgren, Astrid']"."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None  # brackets, but not a Python list: the cell is split as text
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _split_outside_brackets(text: str, separator: str) -> list[str]:
    """Split on `separator` except inside brackets: Embase writes
    'bronchogenic cyst (diagnosis, surgery), colon' for two terms, not three."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
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
