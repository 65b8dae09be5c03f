"""detect_format: content first, extension only as a tie-break, clear refusals."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from reviewer.imports import FileFormat, detect_format, read_file
from tests.reviewer.imports.conftest import WriteFile


@pytest.mark.parametrize(
    ("relative", "expected", "reason_has"),
    [
        ("asreview_citation_file_formatting/RIS/_baseline_pubmed.ris", "medline", "PMID-"),
        ("rispy/example_wos.ris", "wos", "Web of Science"),
        ("colrev/2_loader_data/enl_data.enl", "refer", "EndNote/Refer tags (%T, %0, %A)"),
        ("colrev/3_packages_search_data/ais_enl.txt", "refer", "EndNote/Refer tags"),
        ("asreview_demo_data/web_of_science.txt", "ris", "TY  -"),
        ("asreview_demo_data/generic_tab.csv", "csv", "tab-separated"),
        ("asreview_demo_data/generic_semicolon.csv", "csv", "semicolon-separated"),
        ("asreview_citation_file_formatting/CSV/_baseline_embase.csv", "csv", "header on row 4"),
        ("asreview_citation_file_formatting/XLSX/_baseline.xlsx", "xlsx", "xl/workbook.xml"),
        ("colrev/3_packages_search_data/eric_nbib.nbib", "medline", "OWN -"),
        ("colrev/3_packages_search_data/wiley_bib.bib", "bibtex", "BibTeX"),
        ("iebh_reflib/blue-light.xml", "endnote-xml", "EndNote XML"),
    ],
)
def test_content_decides_not_the_name(
    exports: Path, relative: str, expected: str, reason_has: str
) -> None:
    path = exports / relative

    detection = detect_format(path, path.name)

    assert detection.format == FileFormat(expected)
    assert reason_has in detection.reason
    assert not detection.refused


@pytest.mark.parametrize(
    ("relative", "says"),
    [
        ("colrev/3_packages_search_data/google_scholar.json", "is JSON, which is not supported"),
    ],
)
def test_unsupported_real_exports_are_refused(exports: Path, relative: str, says: str) -> None:
    path = exports / relative

    detection = detect_format(path, path.name)

    assert detection.format is None
    assert detection.refused
    assert says in detection.reason
    assert "export the search results as RIS or EndNote XML instead" in detection.reason


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("search.ris", b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n", "is a PDF document, not a search export"),
        ("empty.ris", b"", "is empty (0 bytes)"),
        ("blank.ris", b"\r\n\r\n   \n", "contains only blank lines"),
        ("image.ris", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is a binary file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel 97-2003 .xls"),
        ("export.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 32, "compressed (gzip)"),
        ("export.json", b'[{"title": "A"}]', "is JSON, which is not supported"),
        ("pubmed.xml", b"<?xml version='1.0'?><PubmedArticleSet>", "PubMed XML"),
        ("page.ris", b"<!DOCTYPE html><html><body>Sign in</body></html>", "web page (HTML)"),
    ],
)
def test_files_we_cannot_read_are_named(
    write: WriteFile, name: str, content: bytes, says: str
) -> None:
    detection = detect_format(write(name, content), name)

    assert detection.format is None
    assert detection.refused
    assert says in detection.reason


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "library.enlx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("library.Data/sdb/sdb.eni", "x")

    detection = detect_format(path, "library.enlx")

    assert detection.refused
    assert "ZIP archive" in detection.reason


def test_unknown_text_lists_what_we_accept(write: WriteFile) -> None:
    detection = detect_format(
        write("notes.txt", "Just some words.\nAnd more words.\n"), "notes.txt"
    )

    assert detection.format is None
    assert not detection.refused
    assert "We accept RIS (.ris), PubMed MEDLINE (.nbib)" in detection.reason


def test_ris_from_pubmed_via_endnote_is_not_mistaken_for_medline(exports: Path) -> None:
    # EndNote writes "DP  - NLM", a tag MEDLINE also uses; TY lines and no PMID- decide.
    path = exports / "asreview_demo_data/pubmed_endnote.txt"

    assert detect_format(path, path.name).format is FileFormat.RIS


def test_extension_breaks_a_tie_between_tagged_formats(write: WriteFile) -> None:
    text = "TI  - A title\nAU  - Smith, J\n"  # no TY and no PMID: could be either

    assert detect_format(write("a.nbib", text), "a.nbib").format is FileFormat.MEDLINE
    assert detect_format(write("a.ris", text), "a.ris").format is FileFormat.RIS


def test_utf16_csv_is_detected(write: WriteFile) -> None:
    path = write("export.csv", "Title\tAuthors\nA study\tSmith, J\n", encoding="utf-16")

    detection = detect_format(path, "export.csv")

    assert detection.format is FileFormat.CSV
    assert "tab-separated" in detection.reason


@pytest.mark.parametrize(
    "line",
    ["@SUM(A1:A3),Smith J,2020", "@SUM(A1,B2),Smith J,2020", "@author (twitter),Smith J,2020"],
)
def test_a_csv_line_starting_with_an_at_sign_is_still_a_csv(write: WriteFile, line: str) -> None:
    content = f"Title,Authors,Year\nA tumour in a child,Doe A,2019\n{line}\nAnother,Roe B,2021\n"
    path = write("export.csv", content)

    detection = detect_format(path, "export.csv")
    records = list(read_file(path, filename="export.csv").records())

    assert detection.format is FileFormat.CSV
    assert [r.title for r in records] == ["A tumour in a child", line.split(",")[0], "Another"]


def test_bibtex_with_the_entry_key_on_its_own_line_is_still_bibtex(write: WriteFile) -> None:
    path = write("refs.txt", "@Article{\n  smith2020,\n  title = {A tumour},\n  year = 2020\n}\n")

    assert detect_format(path, "refs.txt").format is FileFormat.BIBTEX
