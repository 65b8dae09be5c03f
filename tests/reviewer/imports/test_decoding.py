"""Encodings and line endings: what a user exporting from Windows tools would upload."""

from __future__ import annotations

import codecs

import pytest

from reviewer.imports import read_file, summarise
from tests.reviewer.imports.conftest import WriteFile

RIS = (
    "TY  - JOUR\r\nTI  - Effect of café au lait on Müller cells\r\n"
    "AU  - Müller, Jürgen\r\nER  - \r\n"
)


@pytest.mark.parametrize(
    ("encoding", "prefix", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-16-le", b"", "utf-16-le"),  # no BOM: the NUL bytes give it away
    ],
)
def test_unicode_encodings_are_read_without_warning(
    write: WriteFile, encoding: str, prefix: bytes, reported: str
) -> None:
    path = write("export.ris", prefix + RIS.encode(encoding))

    parsed = read_file(path, filename="export.ris")
    records = list(parsed.records())

    assert parsed.encoding == reported
    assert records[0].title == "Effect of café au lait on Müller cells"
    assert records[0].authors == ["Müller, Jürgen"]
    assert parsed.warnings == []


def test_cp1252_is_decoded_with_a_warning_naming_the_first_bad_line(write: WriteFile) -> None:
    content = "TY  - JOUR\nTI  - Plain first line\nAU  - Smith, J\n"
    content += "AB  - The patients’ “quality” of life – 50 €\nER  -\n"
    path = write("endnote.ris", content, encoding="cp1252")

    parsed = read_file(path, filename="endnote.ris")
    record = next(parsed.records())

    assert parsed.encoding == "cp1252"
    assert record.abstract == "The patients’ “quality” of life – 50 €"
    assert parsed.warnings == [
        "The file is not valid UTF-8 (first at line 4); decoded as cp1252 (Windows Western "
        "European); check special characters."
    ]


@pytest.mark.slow
def test_bad_byte_far_into_a_file_is_still_found(write: WriteFile) -> None:
    good = "TY  - JOUR\nTI  - Fine\nER  -\n" * 50_000  # ~1.3 MB of valid UTF-8 first
    path = write("big.ris", good.encode() + "TY  - JOUR\nTI  - Caf\xe9\nER  -\n".encode("cp1252"))

    parsed = read_file(path, filename="big.ris")
    records = list(parsed.records())

    assert records[-1].title == "Café"
    assert "first at line 150002" in parsed.warnings[0]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings_do_not_matter(write: WriteFile, newline: str) -> None:
    lines = ["PMID- 123", "TI  - A title that goes", "      on to a second line.", "", ""]
    lines += ["PMID- 456", "TI  - Another", ""]
    path = write("pubmed.nbib", newline.join(lines))

    records = list(read_file(path, filename="pubmed.nbib").records())

    assert [r.title for r in records] == ["A title that goes on to a second line.", "Another"]
    assert [r.location for r in records] == ["record 1, line 1", "record 2, line 6"]


def test_utf16_with_bom_csv_reports_its_encoding(write: WriteFile) -> None:
    path = write("scopus.csv", "\ufeffTitle,Year\r\nÉtude,2020\r\n", encoding="utf-16-le")

    summary = summarise(read_file(path, filename="scopus.csv"))

    assert summary.encoding == "utf-16"
    assert summary.sample[0].title == "Étude"
    assert summary.sample[0].year == 2020


def test_bad_bytes_after_a_utf8_bom_are_replaced_and_said(write: WriteFile) -> None:
    content = codecs.BOM_UTF8 + b"TY  - JOUR\nTI  - Fine\nER  -\nTY  - JOUR\nTI  - Caf\xe9\nER  -\n"
    parsed = read_file(write("mixed.ris", content), filename="mixed.ris")

    records = list(parsed.records())

    assert [r.title for r in records] == ["Fine", "Caf\ufffd"]
    assert parsed.warnings == [
        "The file says it is utf-8-sig but has bytes that are not (first at line 5); they "
        "are shown as \ufffd. Check special characters, and re-export the file if they matter."
    ]
