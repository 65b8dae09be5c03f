"""CSV/TSV: delimiters, header rows, mappings, quoting, and rows that are not records."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.imports import ColumnMappingError, FileFormat, ParseError, read_file, summarise
from tests.reviewer.imports.conftest import FIXTURES, WriteFile, records_of


def test_semicolon_csv_with_quoted_cells() -> None:
    parsed = read_file(FIXTURES / "semicolon.csv", filename="semicolon.csv")

    records = list(parsed.records())

    assert parsed.format is FileFormat.CSV
    assert parsed.columns == ["title", "authors", "year", "doi"]
    assert records[0].title == "Tumours; a review"
    assert records[0].authors == ["Smith J", "Jones K"]
    assert records[0].doi == "10.1000/abc"
    assert records[1].authors == ["Müller A"]
    assert [r.location for r in records] == ["row 2", "row 3"]
    assert records[1].raw == {"title": "Second study", "authors": "Müller A", "year": "2020"}


def test_csv_without_a_title_column_lists_the_columns() -> None:
    with pytest.raises(ColumnMappingError) as raised:
        read_file(FIXTURES / "no_title_column.csv", filename="screening.csv")

    assert isinstance(raised.value, ParseError)
    assert raised.value.columns == ["Record ID", "Notes", "Reviewer"]  # for a mapping form
    assert str(raised.value) == (
        "screening.csv: no column could be used as the title. Columns found: 'Record ID', "
        "'Notes', 'Reviewer'. Choose which column holds the title in the column mapping and "
        "read the file again."
    )


def test_chosen_mapping_is_used_as_given() -> None:
    parsed = read_file(
        FIXTURES / "no_title_column.csv", filename="x.csv", mapping={"title": "Notes"}
    )

    assert [r.title for r in parsed.records()] == ["looks relevant", "duplicate?"]
    assert parsed.mapping == {"title": "Notes"}


def test_mapping_to_a_missing_column_is_refused() -> None:
    with pytest.raises(ParseError) as raised:
        read_file(FIXTURES / "semicolon.csv", filename="s.csv", mapping={"title": "Titel"})

    assert "the column 'Titel' chosen for title is not in the file" in str(raised.value)
    assert "Columns found: 'title', 'authors', 'year', 'doi'" in str(raised.value)


def test_embase_preamble_above_the_header_is_skipped_and_said(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/CSV/_baseline_embase.csv"
    parsed = read_file(path, filename=path.name)

    records = list(parsed.records())

    assert parsed.columns[:3] == ["Title", "Original Title", "Author Names"]
    assert parsed.warnings[0] == (
        "The header is on line 4; the lines above it were skipped as they are not records: "
        "'SEARCH QUERY dinosaur:ti'; '-------------------------------------'."
    )
    assert records[0].authors == ["Yang Z.", "Jiang B.", "Xu J.", "McNamara M.E."]
    assert records[0].pmid == "38773066"  # "Medline PMID"


def test_start_and_end_page_columns_are_joined(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/CSV/_baseline.csv"
    parsed = read_file(path, filename=path.name)

    record = next(parsed.records())

    assert parsed.mapping["pages"] == "Start Page"
    assert parsed.mapping["end_page"] == "End Page"
    assert record.pages == "97-105"
    assert record.authors[0] == "Björn A. Blomberg"


def test_rows_wider_than_the_header_keep_their_extra_cells(write: WriteFile) -> None:
    path = write("wide.csv", "title,year\nA,2001\nB,2002,stray note,more\n")
    parsed = read_file(path, filename="wide.csv")

    records = list(parsed.records())

    assert records[1].raw == {
        "title": "B",
        "year": "2002",
        "extra 1": "stray note",
        "extra 2": "more",
    }
    assert (
        "1 row(s) have more cells than the header has columns (row 3); the extra cells are "
        "kept in the raw record as 'extra 1', 'extra 2', …" in parsed.warnings
    )


def test_repeated_header_names_are_made_unique(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/CSV/_baseline_abstrackr.csv"
    parsed = read_file(path, filename=path.name)

    records = list(parsed.records())

    assert "labeled_at" in parsed.columns and "labeled_at (2)" in parsed.columns
    assert records[0].authors == [
        "Longrich, N.R.",
        "Pereda-Suberbiola, X.",
        "Bardet, N.",
        "Jalil, N.-E.",
    ]
    assert (
        "Skipped 1 line(s) with a single cell and no delimiter, which are headings rather "
        "than records: line 36: 'citations that are not yet labeled by anyone'." in parsed.warnings
    )


def test_unclosed_quote_is_refused_with_its_line(write: WriteFile) -> None:
    path = write("broken.csv", 'title,abstract\nFine,ok\n"Never closed,abc\nnext,row\n')
    parsed = read_file(path, filename="broken.csv")

    with pytest.raises(ParseError) as raised:
        list(parsed.records())

    assert raised.value.line == 3  # where the quote opens
    assert "the CSV is malformed (unexpected end of data) in the row starting" in str(raised.value)


def test_quoted_newlines_and_crlf_keep_row_numbers_right(write: WriteFile) -> None:
    path = write("multi.csv", 'Title,Abstract\r\n"One","first\r\nsecond"\r\n"Two",x\r\n')

    records = records_of(path)

    assert [r.abstract for r in records] == ["first second", "x"]
    assert [r.location for r in records] == ["row 2", "row 4"]


def test_blank_rows_are_not_records(write: WriteFile) -> None:
    path = write("gaps.csv", "Title,Year\nA,2001\n\n,\nB,2002\n")

    summary = summarise(read_file(path, filename="gaps.csv"))

    assert summary.record_count == 2
    assert "1 empty record was skipped (row 4): every cell is blank." in summary.warnings
