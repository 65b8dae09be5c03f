"""summarise: one pass giving the preview a user confirms before importing."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.imports import MAPPABLE_FIELDS, FileFormat, ParseError, read_file, summarise
from reviewer.imports.notes import loses_data
from tests.reviewer.imports.conftest import WriteFile


def _ris(*titles: str) -> str:
    return "".join(
        f"TY  - JOUR\nTI  - {t}\nAU  - Smith, J\nPY  - 2020\nER  -\n"
        if t
        else "TY  - JOUR\nAU  - Smith, J\nPY  - 2020\nER  -\n"
        for t in titles
    )


def test_counts_fields_and_keeps_a_sample(exports: Path) -> None:
    path = exports / "nbib_py/pubmed-balloongui-set.nbib"

    summary = summarise(read_file(path, filename=path.name), sample_size=3)

    assert summary.format is FileFormat.MEDLINE
    assert summary.encoding == "utf-8"
    assert summary.record_count == 75
    assert set(summary.fields_found) == set(MAPPABLE_FIELDS)
    assert summary.fields_found["title"] == 75
    assert summary.fields_found["abstract"] == 70
    assert [r.location for r in summary.sample] == [
        "record 1, line 1",
        "record 2, line 284",
        "record 3, line 396",
    ]
    assert summary.columns == [] and summary.mapping == {}


def test_records_without_title_are_listed_up_to_five(write: WriteFile) -> None:
    path = write("untitled.ris", _ris("A", "", "B", "", "", "", "", "", "C"))

    summary = summarise(read_file(path, filename="untitled.ris"))

    assert summary.record_count == 9
    assert (
        "6 records have no title (records 2, 4, 5, 6, 7, …); they are kept, and screeners "
        "will see them without one." in summary.warnings
    )
    assert "9 records have no abstract." in summary.warnings


def test_zero_records_is_an_error(write: WriteFile) -> None:
    path = write("header_only.csv", "Title,Authors,Year\n")

    with pytest.raises(ParseError) as raised:
        summarise(read_file(path, filename="header_only.csv"))

    assert str(raised.value) == ("header_only.csv: no records found; is this a CSV / TSV export?")


def test_only_empty_records_is_an_error_too(write: WriteFile) -> None:
    path = write("types.ris", "TY  - JOUR\nER  -\nTY  - GEN\nID  - 7\nER  -\n")
    parsed = read_file(path, filename="types.ris")

    with pytest.raises(ParseError) as raised:
        summarise(parsed)

    assert "no records found; is this a RIS export?" in str(raised.value)
    assert any("2 empty records were skipped (records 1, 2)" in w for w in parsed.warnings)


def test_tabular_summary_reports_columns_and_mapping(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/CSV/_baseline_scopus.csv"

    summary = summarise(read_file(path, filename=path.name))

    assert summary.encoding == "utf-8-sig"
    assert summary.columns[:3] == ["Authors", "Author full names", "Author(s) ID"]
    assert summary.mapping["title"] == "Title"
    assert summary.fields_found["doi"] == 10
    assert summary.fields_found["pmid"] == 7  # three have an empty "PubMed ID" cell


def test_data_losing_warnings_come_before_informational_ones(write: WriteFile) -> None:
    # No abstracts (informational), a year that cannot be read (the year is lost),
    # and a last record cut short.
    text = _ris("One") + "TY  - JOUR\nTI  - Two\nPY  - n.d.\nER  -\nTY  - JOUR\nTI  - Thr"
    summary = summarise(read_file(write("mixed.ris", text), filename="mixed.ris"))

    ranks = [loses_data(w) for w in summary.warnings]

    assert ranks[:2] == [True, True] and not any(ranks[2:])
    assert summary.warnings[0].startswith("Record 3 (line 10) is cut short")
    assert "unreadable year" in summary.warnings[1]
    assert "3 records have no abstract." in summary.warnings[2:]
    assert [c.record for c in summary.cut_records] == [3]
