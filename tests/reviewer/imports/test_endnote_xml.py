"""EndNote XML: streamed records, text inside <style>, malformed XML refused with a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.imports import ParseError, read_file
from tests.reviewer.imports.conftest import FIXTURES, WriteFile, records_of


def test_blue_light_record_field_by_field(exports: Path) -> None:
    record = records_of(exports / "iebh_reflib/blue-light.xml")[0]

    assert record.title == (
        "Formulation of Herbal Gel of Antirrhinum majus Extract and Evaluation of its "
        "Anti-Propionibacterium acne Effects"
    )
    assert record.authors[:2] == ["Shahtalebi, M. A.", "Asghari, G. R."]
    assert record.year == 2018
    assert record.journal == "Adv Biomed Res"
    assert (record.volume, record.pages) == ("7", "53")
    assert record.doi == "10.4103/abr.abr_99_17"
    assert record.pmid == "29657938"  # accession number; remote provider NLM
    assert record.keywords == ["Acne", "Antirrhinum majus", "Propionibacterium acnes", "blue light"]
    assert record.publication_type == "Journal Article"
    assert record.location == "record 1"


def test_same_records_agree_across_nbib_ris_and_xml(exports: Path) -> None:
    by_format = {
        ext: {r.pmid: r for r in records_of(exports / f"iebh_reflib/blue-light.{ext}")}
        for ext in ("nbib", "ris", "xml")
    }
    common = set(by_format["nbib"]) & set(by_format["ris"]) & set(by_format["xml"])

    assert len(common) == 80  # every PubMed record is in all three
    for pmid in common:
        dois = {by_format[ext][pmid].doi for ext in by_format}
        years = {by_format[ext][pmid].year for ext in by_format}
        assert len(dois) == 1, (pmid, dois)
        assert len(years) == 1, (pmid, years)
        assert by_format["ris"][pmid].authors == by_format["xml"][pmid].authors
    assert sum(1 for pmid in common if by_format["xml"][pmid].doi) == 51


def test_accession_numbers_are_pmids_only_for_medline(exports: Path) -> None:
    records = records_of(exports / "iebh_reflib/Dump-Converted_test.xml")

    medline = [r for r in records if r.raw.get("remote-database-name") == "MEDLINE"]
    cinahl = [r for r in records if r.raw.get("remote-database-name") == "cin20"]

    assert medline and all(r.pmid == r.raw["accession-num"] for r in medline)
    assert cinahl and all(r.pmid == "" for r in cinahl)


def test_escaped_text_and_whitespace_inside_styles(exports: Path) -> None:
    record = records_of(exports / "iebh_reflib/multipart.xml")[0]

    assert record.title == "Foo & Bar"
    assert record.authors == ["Foo & Bar", "Baz & Quz"]
    assert record.journal == "Foo & Journal"
    assert record.raw["rec-number"] == "1 & 2"


def test_malformed_xml_is_refused_with_its_line() -> None:
    parsed = read_file(FIXTURES / "malformed_endnote.xml", filename="library.xml")

    with pytest.raises(ParseError) as raised:
        list(parsed.records())

    assert raised.value.line == 10  # where </titles> closes the unclosed <title>
    assert raised.value.record == 2
    assert str(raised.value).startswith(
        "library.xml, line 10, record 2: the XML is malformed (mismatched tag"
    )


def test_entity_declarations_are_refused(write: WriteFile) -> None:
    path = write(
        "evil.xml",
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]>'
        "<xml><records><record><titles><title>&a;</title></titles></record></records></xml>",
    )
    parsed = read_file(path, filename="evil.xml")

    with pytest.raises(ParseError) as raised:
        list(parsed.records())

    assert "declares entities or a DTD" in str(raised.value)
