"""CSV and TSV exports (Scopus, Embase, Lens, Covidence, Rayyan, Zotero, PubMed, ...).

The delimiter is whichever of comma, semicolon, tab or pipe makes the most rows line up
with the header: file names cannot be trusted (tab-separated text saved as .csv).
Quoting follows the csv module, strictly: an unclosed quote would otherwise swallow the
rest of the file into one cell without a word.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import islice

from reviewer.imports.base import ColumnMapping, ParsedRecord
from reviewer.imports.decoding import SNIFF_BYTES
from reviewer.imports.normalise import clean_text
from reviewer.imports.notes import MAX_LISTED, PassNotes
from reviewer.imports.source import SourceFile

# The delimiter is sniffed by the one table reading module, shared with extraction imports.
from reviewer.imports.tables import DELIMITER_NAMES, DELIMITERS, DelimiterGuess, sniff_delimiter
from reviewer.imports.tabular import (
    ExtraCells,
    TableLayout,
    preview,
    row_record,
    trim_trailing_blanks,
    unique_columns,
)

__all__ = ["DELIMITERS", "DELIMITER_NAMES", "DelimiterGuess", "sniff_delimiter"]


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
