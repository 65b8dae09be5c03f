"""read_file on every real export in shared/data/exports, and its file-level behaviour.

The oracle for record counts is shared/data/PROVENANCE.md. Where it is wrong, the entry
says why (checked by eye in the file); `untitled` lists records that truly have no title.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewer.imports import FileFormat, ParseError, detect_format, read_file, summarise
from tests.reviewer.imports.conftest import WriteFile, records_of


@dataclass(frozen=True)
class Export:
    path: str
    format: FileFormat
    count: int
    untitled: int = 0  # records in the file that genuinely carry no title


RIS, MEDLINE, WOS = FileFormat.RIS, FileFormat.MEDLINE, FileFormat.WOS
BIB, XML, CSV, XLSX = FileFormat.BIBTEX, FileFormat.ENDNOTE_XML, FileFormat.CSV, FileFormat.XLSX
REFER = FileFormat.REFER
CFF = "asreview_citation_file_formatting"

EXPORTS = [
    Export(f"{CFF}/CSV/_baseline.csv", CSV, 100),  # PROVENANCE says ';': it is comma-separated
    # PROVENANCE 11: it counted the line "citations that are not yet labeled by anyone",
    # a heading Abstrackr puts between labelled and unlabelled citations. 10 records.
    Export(f"{CFF}/CSV/_baseline_abstrackr.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_cinahl.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_cochrane.csv", CSV, 3),
    Export(f"{CFF}/CSV/_baseline_covidence.csv", CSV, 10),
    # PROVENANCE 13: it counted Embase's 3 lines above the header ("SEARCH QUERY",
    # dashes, a blank line). The same 10 records as RIS/_baseline_embase.ris.
    Export(f"{CFF}/CSV/_baseline_embase.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_excel.csv", CSV, 10),  # PROVENANCE 13: the same preamble
    Export(f"{CFF}/CSV/_baseline_googlescholar.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_openalex.csv", CSV, 9),
    Export(f"{CFF}/CSV/_baseline_pubmed.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_rayyan.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_scopus.csv", CSV, 10),
    Export(f"{CFF}/CSV/_baseline_zotero.csv", CSV, 10),
    Export(f"{CFF}/RIS/_baseline.ris", RIS, 100),
    Export(f"{CFF}/RIS/_baseline_cinahl.ris", RIS, 9),
    Export(f"{CFF}/RIS/_baseline_citavi.ris", RIS, 100),
    Export(f"{CFF}/RIS/_baseline_cochrane_endnote.ris", RIS, 3),
    Export(f"{CFF}/RIS/_baseline_cochrane_procite.ris", RIS, 3),
    Export(f"{CFF}/RIS/_baseline_cochrane_refman.ris", RIS, 3),
    Export(f"{CFF}/RIS/_baseline_covidence_endnote.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_covidence_mendeley.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_covidence_refworks.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_covidence_zotero.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_embase.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_endnote.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_eppireviewer.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_eric_ovid.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_googlescholar.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_mdpi.ris", RIS, 11),
    Export(f"{CFF}/RIS/_baseline_mendeley.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_openalex.ris", RIS, 9),
    Export(f"{CFF}/RIS/_baseline_psychInfo_ovid.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_pubmed.ris", MEDLINE, 50),  # MEDLINE despite its name
    Export(f"{CFF}/RIS/_baseline_rayyan.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_refworks.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_scopus.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_webofscience.ris", RIS, 10),
    Export(f"{CFF}/RIS/_baseline_zotero.ris", RIS, 10),
    Export(f"{CFF}/TSV/_baseline.tsv", CSV, 100),
    Export(f"{CFF}/TSV/_baseline_refworks.tsv", CSV, 100),
    # XLSX counts are not in PROVENANCE ("binary"); checked by eye in the sheets:
    Export(f"{CFF}/XLSX/_baseline.xlsx", XLSX, 100),  # a title row, the header, 100 rows
    Export(f"{CFF}/XLSX/_baseline_embase.xlsx", XLSX, 10),  # 3 preamble rows, header, 10
    Export(f"{CFF}/XLSX/_baseline_eppireviewer.xlsx", XLSX, 10),
    Export("asreview_demo_data/_baseline.ris", RIS, 100),
    Export("asreview_demo_data/baseline_empty_values.ris", RIS, 4, untitled=2),
    # PROVENANCE 61 counts every TY … ER block; the first two ('TY  -' and 'TY  - GEN'
    # with nothing else) are empty and skipped with a warning. No record has a title:
    # the file tests reference types and notes only.
    Export("asreview_demo_data/baseline_reference_types.ris", RIS, 59, untitled=59),
    Export("asreview_demo_data/baseline_tag-notes.ris", RIS, 12, untitled=11),
    Export("asreview_demo_data/baseline_tag-notes_labels.ris", RIS, 32),
    Export("asreview_demo_data/baseline_tag-notes_zotero.ris", RIS, 4),
    # PROVENANCE 2 counts the ER lines; there is one TY: after "ER  - End of Reference"
    # come a stray "UK  - Unknown Tag" and a second "ER  -" (skipped, with a warning).
    Export("asreview_demo_data/baseline_tag_and_field_definitions.ris", RIS, 1),
    Export("asreview_demo_data/baseline_tag_and_field_definitions_lists.ris", RIS, 1, untitled=1),
    Export("asreview_demo_data/baseline_zotero.ris", RIS, 100),
    Export("asreview_demo_data/duplicate_records.csv", CSV, 14, untitled=4),
    Export("asreview_demo_data/embase.csv", CSV, 6),
    Export("asreview_demo_data/embase.ris", RIS, 6),
    Export("asreview_demo_data/embase_newpage.csv", CSV, 6),
    Export("asreview_demo_data/faulty_year.ris", RIS, 1),
    Export("asreview_demo_data/generic.csv", CSV, 2),
    Export("asreview_demo_data/generic_bad_record_id.csv", CSV, 6),
    Export("asreview_demo_data/generic_column_names_with_spaces.csv", CSV, 2),
    Export("asreview_demo_data/generic_labels.csv", CSV, 6),
    Export("asreview_demo_data/generic_labels_no_abs.csv", CSV, 6),
    # generic_labels_no_title.csv has no title column: see test_csv_without_title_column.
    Export("asreview_demo_data/generic_partial_labels.csv", CSV, 6),
    Export("asreview_demo_data/generic_semicolon.csv", CSV, 2),
    Export("asreview_demo_data/generic_tab.csv", CSV, 2),  # tab-separated despite .csv
    Export("asreview_demo_data/generic_tab.tab", CSV, 2),
    Export("asreview_demo_data/generic_tab.tsv", CSV, 2),
    Export("asreview_demo_data/missing_values.csv", CSV, 4, untitled=2),
    Export("asreview_demo_data/ovid_psycinfo.ris", RIS, 6),
    Export("asreview_demo_data/ovid_zotero.ris", RIS, 6),
    Export("asreview_demo_data/proquest.ris", RIS, 6),
    Export("asreview_demo_data/pubmed_endnote.txt", RIS, 6),
    Export("asreview_demo_data/pubmed_zotero.ris", RIS, 6),
    Export("asreview_demo_data/record_id.csv", CSV, 10),
    Export("asreview_demo_data/ris_issue_1099.txt", RIS, 7),
    Export("asreview_demo_data/ris_issue_992.txt", RIS, 19),
    Export("asreview_demo_data/ris_many_authors.ris", RIS, 1),
    Export("asreview_demo_data/scopus.ris", RIS, 6),
    Export("asreview_demo_data/web_of_science.txt", RIS, 10),  # RIS in a .txt
    Export("colrev/2_loader_data/bib_data.bib", BIB, 6, untitled=1),  # @proceedings, no title
    Export("colrev/2_loader_data/csv_data.csv", CSV, 2),
    Export("colrev/2_loader_data/nbib_data.nbib", MEDLINE, 1),
    # PROVENANCE 1 counts ER lines: the first of the two records has no ER (a blank line
    # and "% Comment" follow it, then the next TY). Both are kept, with a warning.
    Export("colrev/2_loader_data/ris_data.ris", RIS, 2),
    Export("colrev/2_loader_data/xlsx_data.xlsx", XLSX, 3),  # header and 3 rows
    Export("colrev/3_packages_search_data/abi_inform_proquest_bib.bib", BIB, 2),
    Export("colrev/3_packages_search_data/abi_inform_proquest_ris.ris", RIS, 2),
    Export("colrev/3_packages_search_data/acm_bib.bib", BIB, 2),
    Export("colrev/3_packages_search_data/crossref_bib.bib", BIB, 1),
    Export("colrev/3_packages_search_data/dblp_bib.bib", BIB, 2),
    # ebsco_bib.bib: its second entry is broken: see test_broken_bibtex_entry_is_refused.
    Export("colrev/3_packages_search_data/eric_nbib.nbib", MEDLINE, 1),
    Export("colrev/3_packages_search_data/europe_pmc_bib.bib", BIB, 2),
    Export("colrev/3_packages_search_data/files_dir_bib.bib", BIB, 3),
    Export("colrev/3_packages_search_data/ieee_csv.csv", CSV, 2),
    Export("colrev/3_packages_search_data/ieee_ris.ris", RIS, 2),
    Export("colrev/3_packages_search_data/jstor_ris.ris", RIS, 4),
    Export("colrev/3_packages_search_data/psycinfo_ris.ris", RIS, 1),
    Export("colrev/3_packages_search_data/pubmed_csv.csv", CSV, 1),
    Export("colrev/3_packages_search_data/scopus_bib.bib", BIB, 11),
    Export("colrev/3_packages_search_data/springer_csv.csv", CSV, 1),
    Export("colrev/3_packages_search_data/taylor_and_francis_bib.bib", BIB, 2),
    Export("colrev/3_packages_search_data/trid_ris.ris", RIS, 3),
    Export("colrev/3_packages_search_data/unknown_source_bib.bib", BIB, 1),
    Export("colrev/3_packages_search_data/web_of_science_bib.bib", BIB, 2),
    Export("colrev/3_packages_search_data/wiley_bib.bib", BIB, 2),
    Export("colrev/dedupe_test/records.bib", BIB, 21),
    Export("colrev/dedupe_test/records_expected.bib", BIB, 19),
    Export("iebh_reflib/Dump-Converted_test.xml", XML, 25),
    Export("iebh_reflib/SpiderCite_demo.xml", XML, 10),
    Export("iebh_reflib/blue-light.nbib", MEDLINE, 80),
    Export("iebh_reflib/blue-light.ris", RIS, 102),
    Export("iebh_reflib/blue-light.xml", XML, 102),
    Export("iebh_reflib/multipart.xml", XML, 1),
    Export("nbib_py/pubmed-balloongui-set.nbib", MEDLINE, 75),
    Export("nbib_py/single.nbib", MEDLINE, 1),
    Export("rispy/example_basic.ris", RIS, 1),
    Export("rispy/example_bom.ris", RIS, 1, untitled=1),  # a DOI and nothing else
    Export("rispy/example_custom_list_tags.ris", RIS, 1, untitled=1),  # authors and ISSNs
    Export("rispy/example_empty_tag.ris", RIS, 1),
    Export("rispy/example_extraneous_data.ris", RIS, 2),
    Export("rispy/example_full.ris", RIS, 2),
    Export("rispy/example_full_without_whitespace.ris", RIS, 2),
    Export("rispy/example_full_write.ris", RIS, 2),
    Export("rispy/example_multi_unknown_tags.ris", RIS, 1),
    Export("rispy/example_multiline.ris", RIS, 3, untitled=3),  # notes only
    Export("rispy/example_single_unknown_tag.ris", RIS, 1),
    Export("rispy/example_starting_newlines.ris", RIS, 1),
    Export("rispy/example_urls.ris", RIS, 4),
    Export("rispy/example_utf_chars.ris", RIS, 1),  # no TI; its short title (ST) is used
    Export("rispy/example_wos.ris", WOS, 2),  # Web of Science tagged despite .ris
    Export("synthesisr/scopus.ris", RIS, 92),
    Export("synthesisr/zoorec.txt", WOS, 134),
    Export("colrev/2_loader_data/enl_data.enl", REFER, 3),
    Export("colrev/3_packages_search_data/ais_enl.txt", REFER, 6),
]

#: Files in exports/ that are not search exports of a supported format, and why.
NOT_TESTED_HERE = {
    "synthesisr/code_lookup.csv": "a tag dictionary, not records",
    "asreview_demo_data/generic.vec": "word vectors, not records",
    f"{CFF}/README.md": "documentation",
    "colrev/2_loader_data/md_data.md": "markdown, not an export",
    "colrev/3_packages_search_data/google_scholar.json": "JSON: refused (test_detect)",
    "asreview_demo_data/generic_labels_no_title.csv": "no title column (below)",
    "colrev/3_packages_search_data/ebsco_bib.bib": "a broken entry (test_bibtex)",
}


def test_every_shared_export_is_covered(exports: Path) -> None:
    on_disk = {str(p.relative_to(exports)) for p in exports.rglob("*") if p.is_file()}
    covered = {e.path for e in EXPORTS} | set(NOT_TESTED_HERE)
    assert on_disk - covered == set(), "a new export file needs an entry in EXPORTS"
    assert covered - on_disk == set(), "an entry names a file that is not there"


@pytest.mark.parametrize("export", EXPORTS, ids=[e.path for e in EXPORTS])
def test_real_export_is_detected_and_counted(exports: Path, export: Export) -> None:
    path = exports / export.path

    detection = detect_format(path, path.name)
    summary = summarise(read_file(path, filename=path.name))

    assert detection.format is export.format, detection.reason
    assert summary.format is export.format
    assert summary.record_count == export.count
    assert summary.record_count - summary.fields_found["title"] == export.untitled


def test_csv_without_title_column_names_its_columns(exports: Path) -> None:
    path = exports / "asreview_demo_data/generic_labels_no_title.csv"

    with pytest.raises(ParseError) as raised:
        read_file(path, filename=path.name)

    message = str(raised.value)
    assert message.startswith("generic_labels_no_title.csv: no column could be used as the title")
    assert "'abstract', 'file_attachments2', 'authors'" in message
    assert "Choose which column holds the title" in message


def test_csv_without_title_column_reads_with_a_mapping(exports: Path) -> None:
    path = exports / "asreview_demo_data/generic_labels_no_title.csv"

    parsed = read_file(path, filename=path.name, mapping={"title": "abstract"})

    assert len(list(parsed.records())) == 6
    assert parsed.mapping == {"title": "abstract"}


# --- file-level behaviour ---


def test_records_is_a_fresh_stream_each_call(write: WriteFile) -> None:
    path = write("two.ris", "TY  - JOUR\nTI  - One\nER  -\nTY  - JOUR\nTI  - Two\nER  -\n")
    parsed = read_file(path, filename="two.ris")

    stream = parsed.records()
    first = next(stream)

    assert not isinstance(stream, list)
    assert first.title == "One"
    assert [r.title for r in parsed.records()] == ["One", "Two"]
    assert [r.title for r in parsed.records()] == ["One", "Two"]


def test_warnings_are_not_repeated_by_a_second_pass(write: WriteFile) -> None:
    path = write("cut.ris", "TY  - JOUR\nTI  - One\nER  -\nTY  - JOUR\nTI  - Cut\n")
    parsed = read_file(path, filename="cut.ris")

    list(parsed.records())
    list(parsed.records())

    assert len([w for w in parsed.warnings if "cut short" in w]) == 1
    assert len(parsed.cut_records) == 1


def test_pdf_named_ris_is_refused_even_when_the_format_is_chosen(write: WriteFile) -> None:
    path = write("search.ris", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n")

    with pytest.raises(ParseError) as raised:
        read_file(path, filename="search.ris", fmt=FileFormat.RIS)

    # the file's name once (it read "search.ris: search.ris is a PDF document")
    assert str(raised.value).startswith("search.ris is a PDF document")
    assert str(raised.value).count("search.ris") == 1


def test_empty_file_is_refused(write: WriteFile) -> None:
    path = write("empty.nbib", b"")

    with pytest.raises(ParseError) as raised:
        read_file(path, filename="empty.nbib")

    assert "empty.nbib is empty (0 bytes)" in str(raised.value)


def test_unknown_text_says_what_we_accept(write: WriteFile) -> None:
    path = write("notes.txt", "Dear colleague,\nhere are the results we discussed.\n")

    with pytest.raises(ParseError) as raised:
        read_file(path, filename="notes.txt")

    assert str(raised.value).startswith("notes.txt: the format was not recognised.")
    assert str(raised.value).count("notes.txt") == 1
    assert "RIS (.ris), PubMed MEDLINE (.nbib)" in str(raised.value)


def test_chosen_format_that_finds_nothing_says_so(write: WriteFile) -> None:
    path = write("pubmed.txt", "PMID- 1\nTI  - A title\n\n")
    parsed = read_file(path, filename="pubmed.txt", fmt=FileFormat.RIS)

    with pytest.raises(ParseError) as raised:
        list(parsed.records())

    assert "no records found; is this a RIS export?" in str(raised.value)
    assert any("looks like PubMed MEDLINE" in w for w in parsed.warnings)


def test_records_keep_their_raw_original_as_json(exports: Path) -> None:
    import json

    path = exports / "iebh_reflib/blue-light.ris"
    record = records_of(path)[0]

    assert json.loads(json.dumps(record.raw)) == record.raw
    assert record.raw["TY"] == "JOUR"
    assert record.raw["AU"][0] == "Shahtalebi, M. A."
