"""EndNote / Refer tagged: records between blank lines, wrapped lines, the tag mapping."""

from __future__ import annotations

from pathlib import Path

from reviewer.imports import read_file
from reviewer.imports.base import FileFormat
from reviewer.imports.notes import loses_data
from tests.reviewer.imports.conftest import WriteFile, records_of

EXPORT = """\
%0 Journal Article
%T Inflammatory myofibroblastic tumour of the lung in children:
a case series
%A Smith, Anna
%A Jensen, Mette
%B Journal of Pediatric Surgery
%D 2019
%8 March 1, 2019
%V 54
%N 3
%P 512-519
%R 10.1016/j.jpedsurg.2019.01.001
%K children; lung; myofibroblastic
%U https://example.org/imt-lung
%X Twelve children were treated.
Ten had complete resection.
%G English

%0 Book Section
%T Pathology of the tumour
%A Rossi, Giulia
%B Paediatric Soft Tissue Tumours
%E Kim, Ji-woo
%D 2004
%P 101-130
"""


def test_records_fields_and_wrapped_lines(write: WriteFile) -> None:
    path = write("search.enw", EXPORT.replace("\n", "\r\n"))

    parsed = read_file(path, filename="search.enw")
    first, chapter = list(parsed.records())

    assert parsed.format is FileFormat.REFER
    assert first.title == (
        "Inflammatory myofibroblastic tumour of the lung in children: a case series"
    )
    assert first.authors == ["Smith, Anna", "Jensen, Mette"]
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (
        2019,
        "Journal of Pediatric Surgery",
        "54",
        "3",
        "512-519",
    )
    assert first.doi == "10.1016/j.jpedsurg.2019.01.001"
    assert first.keywords == ["children", "lung", "myofibroblastic"]
    assert first.abstract == "Twelve children were treated. Ten had complete resection."
    assert (first.language, first.publication_type) == ("English", "Journal Article")
    assert first.location == "record 1, line 1"
    # a book's %B is the book, not a journal
    assert (chapter.title, chapter.journal, chapter.authors) == (
        "Pathology of the tumour",
        "",
        ["Rossi, Giulia"],
    )
    assert chapter.raw["%B"] == "Paediatric Soft Tissue Tumours"
    assert chapter.location == "record 2, line 19"
    assert parsed.warnings == []


def test_text_before_the_first_tag_is_skipped_and_said(write: WriteFile) -> None:
    path = write("search.txt", "Exported from the library on 3 May\n\n" + EXPORT)

    parsed = read_file(path, filename="search.txt")

    assert len(list(parsed.records())) == 2
    [warning] = parsed.warnings
    assert "Skipped 1 line of text outside records (not part of any block of tags)" in warning
    assert "line 1: 'Exported from the library on 3 May'" in warning
    assert loses_data(warning)


def test_the_real_ais_export_reads_every_record(exports: Path) -> None:
    records = records_of(exports / "colrev/3_packages_search_data/ais_enl.txt")

    assert len(records) == 6
    trust = records[0]
    assert trust.title.startswith("How Trust Leads to Commitment on Microsourcing Platforms")
    assert trust.authors[:2] == ["Guo, Wenbo", "Straub, Detmar W."]
    assert (trust.journal, trust.year, trust.pages) == (
        "Management Information Systems Quarterly",
        2021,
        "1309-1348",
    )
    assert trust.abstract.startswith("IS research has extensively examined")


def test_a_type_line_opens_the_next_record_without_a_blank_line(write: WriteFile) -> None:
    path = write("search.enw", EXPORT.replace("\n\n%0 Book Section", "\n%0 Book Section"))

    records = records_of(path)

    assert [r.title for r in records] == [
        "Inflammatory myofibroblastic tumour of the lung in children: a case series",
        "Pathology of the tumour",
    ]
