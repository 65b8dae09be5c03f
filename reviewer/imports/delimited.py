"""CSV and TSV exports (Scopus, Embase, Lens, Covidence, Rayyan, Zotero, PubMed, ...).

The delimiter is whichever of comma, semicolon, tab or pipe makes the most rows line up
with the header: file names cannot be trusted (tab-separated text saved as .csv).
Quoting follows the csv module, strictly: an unclosed quote would otherwise swallow the
rest of the file into one cell without a word.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from reviewer.imports.base import ColumnMapping, ParsedRecord
from reviewer.imports.decoding import SNIFF_BYTES
from reviewer.imports.normalise import clean_text
from reviewer.imports.notes import MAX_LISTED, PassNotes
from reviewer.imports.source import SourceFile
from reviewer.imports.tabular import (
    ExtraCells,
    TableLayout,
    find_header,
    preview,
    row_record,
    trim_trailing_blanks,
    unique_columns,
)

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: Rows looked at to choose the delimiter.
SNIFF_ROWS = 200

# Abstracts and reference lists can exceed the csv module's 128 KB default per field.
csv.field_size_limit(64 * 1024 * 1024)


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
        before = [preview(row) for row in islice(reader, guess.header_index)]
        header = next(reader)
        header_line = reader.line_num
    return TableLayout(
        columns=unique_columns(trim_trailing_blanks(header)),
        header_row=header_line,
        rows_before_header=[row for row in before if row],
        delimiter=guess.delimiter,
    )


def read_csv_records(
    source: SourceFile, layout: TableLayout, mapping: ColumnMapping, notes: PassNotes
) -> Iterator[ParsedRecord]:
    """Stream the rows under the header as records; location is the row's first line."""
    with source.open_text(newline="") as handle:
        reader = csv.reader(handle, delimiter=layout.delimiter, strict=True)
        extra = ExtraCells()
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
                yield row_record(row, line, layout.columns, mapping, notes, extra)
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
                f"which are headings rather than records: {shown}{more}.",
                loses_data=True,
            )
