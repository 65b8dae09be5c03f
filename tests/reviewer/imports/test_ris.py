"""RIS: records, continuation lines, what is skipped and said, and the tag mapping."""

from __future__ import annotations

from pathlib import Path

from reviewer.imports import read_file, summarise
from reviewer.imports.notes import CutRecord, loses_data
from tests.reviewer.imports.conftest import FIXTURES, WriteFile, records_of


def test_truncated_last_record_is_read_listed_and_called_a_failed_download() -> None:
    parsed = read_file(FIXTURES / "truncated.ris", filename="truncated.ris")

    records = list(parsed.records())

    assert [r.title for r in records] == [
        "Complete first record",
        "Second record, cut off by a failed download",
    ]
    assert records[1].abstract == "The export stopped here and the"
    assert records[1].location == "record 2, line 10"
    assert (
        "Record 2 (line 10) is cut short: the file ends before its end line (ER  -). A file "
        "whose last record is cut is usually a download that did not finish: export the "
        "search again if you can." in parsed.warnings
    )
    assert parsed.cut_records == [CutRecord(record=2, line=10, at_end=True)]
    assert loses_data(parsed.warnings[0])


def test_export_header_before_the_first_record_is_skipped_with_a_warning() -> None:
    parsed = read_file(FIXTURES / "truncated.ris", filename="truncated.ris")

    list(parsed.records())

    assert (
        "Skipped 2 lines of text outside records (not part of any TY … ER block): "
        "line 1: 'Provider: Example Database'; line 2: 'Content: text/plain; "
        'charset="UTF-8"\'.' in parsed.warnings
    )


def test_record_without_er_before_the_next_ty_is_kept(exports: Path) -> None:
    parsed = read_file(exports / "colrev/2_loader_data/ris_data.ris", filename="ris_data.ris")

    records = list(parsed.records())

    assert [r.title for r in records] == [
        "Title of a conference paper",
        "Title of a journal paper",
    ]
    assert records[0].pmid == "12345678"  # "PMID - 12345678", a four-letter tag
    assert records[0].keywords == ["keyword2", "keyword3"]  # "KW - " then untagged lines
    assert any("Record 1 (line 2) has no end line" in w for w in parsed.warnings)
    assert parsed.cut_records == []  # a missing ER mid-file is a warning, not a cut record


def test_untagged_lines_continue_the_previous_tag(exports: Path) -> None:
    records = records_of(exports / "rispy/example_multiline.ris")

    assert [r.abstract for r in records] == [
        "first line, ER then second line and at the end the last line"
    ] * 3
    assert records[0].raw["N1"] == ["first line", "* second line", "* last line"]


def test_record_without_title_is_kept_and_warned(write: WriteFile) -> None:
    path = write(
        "mixed.ris",
        "TY  - JOUR\nTI  - Has a title\nER  -\n\nTY  - JOUR\nAB  - Only an abstract.\nER  -\n",
    )

    summary = summarise(read_file(path, filename="mixed.ris"))

    assert summary.record_count == 2
    assert summary.sample[1].title == ""
    assert summary.sample[1].abstract == "Only an abstract."
    assert (
        "1 record has no title (record 2); they are kept, and screeners will see them "
        "without one." in summary.warnings
    )


def test_repeated_single_value_tag_keeps_every_value(exports: Path) -> None:
    record = records_of(exports / "rispy/example_custom_list_tags.ris")[0]

    assert record.raw["SN"] == ["12345", "ABCDEFG", "666666"]
    assert record.authors == ["Marx, Karl", "Marxus, Karlus"]


def test_tag_mapping_on_a_full_record(exports: Path) -> None:
    record = records_of(exports / "rispy/example_full.ris")[0]

    assert record.title == "Title of reference"
    assert record.authors == ["Marx, Karl", "Lindgren, Astrid"]  # A1, not A2 (editor)
    assert record.year == 2014
    assert record.journal == "Lorem"  # JF (full name) over JA (abbreviation)
    assert (record.volume, record.issue, record.pages) == ("9", "3", "e0815")
    assert record.keywords == ["Pippi", "Nordwind", "Piraten"]
    assert record.abstract.startswith("BACKGROUND: Lorem ipsum")  # N2
    assert record.url == "http://example_url.com"
    assert record.publication_type == "Journal"


def test_start_and_end_page_are_joined(exports: Path) -> None:
    record = records_of(exports / "rispy/example_basic.ris")[0]

    assert record.pages == "379-423"
    assert record.year == 1948  # "1948/07//"


def test_urls_separated_by_semicolons_give_the_first(exports: Path) -> None:
    records = records_of(exports / "rispy/example_urls.ris")

    assert [r.url for r in records] == ["http://example.com"] * 4


def test_doi_url_is_reduced_to_the_doi(exports: Path) -> None:
    record = records_of(exports / "rispy/example_empty_tag.ris")[0]

    assert record.doi == "10.1177/2325967120950040"  # DO  - http://dx.doi.org/10.1177/...
    assert record.pages == ""  # "SP  -" with nothing after it


def test_pmid_from_endnote_pubmed_export_an_with_nlm_provider(exports: Path) -> None:
    record = records_of(exports / "asreview_demo_data/pubmed_endnote.txt")[0]

    assert record.pmid == "21553931"
    assert record.doi == "10.2165/11586800-000000000-00000"


def test_pmid_from_scopus_c2_and_embase_c5(exports: Path) -> None:
    scopus = records_of(exports / "asreview_citation_file_formatting/RIS/_baseline_scopus.ris")
    embase = records_of(exports / "asreview_citation_file_formatting/RIS/_baseline_embase.ris")

    assert scopus[0].doi == "10.1038/s41467-024-46843-2"
    assert scopus[0].pmid == "38580657"
    assert embase[0].doi == "10.1038/s41467-024-48400-3"
    assert embase[0].pmid == "38773066"


def test_pmid_from_cochrane_pubmed_note(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/RIS/_baseline_cochrane_endnote.ris"

    records = records_of(path)

    assert records[0].pmid == "21314913"  # C3  - PUBMED 21314913
    assert records[0].raw["AN"] == "CN-00778158"


def test_accession_numbers_of_other_databases_are_not_pmids(exports: Path) -> None:
    wos = records_of(exports / "asreview_demo_data/web_of_science.txt")
    proquest = records_of(exports / "asreview_demo_data/proquest.ris")
    rayyan = records_of(exports / "asreview_demo_data/ris_issue_992.txt")
    trid = records_of(exports / "colrev/3_packages_search_data/trid_ris.ris")

    assert {r.pmid for r in wos + proquest + trid} == {""}
    assert wos[0].raw["AN"].startswith("WOS:")
    # Rayyan's AN is its own id; two records link to PubMed, and that link is believed.
    assert sorted(r.pmid for r in rayyan if r.pmid) == ["23162881", "24584310"]
    assert next(r for r in rayyan if r.pmid == "23162881").url == (
        "https://www.ncbi.nlm.nih.gov/pubmed/23162881"
    )


def test_a_psycinfo_reference_list_gives_the_record_no_pmid(exports: Path) -> None:
    """Ovid PsycINFO writes the record's cited references as M1 lines, each with its own
    PubMed link: none of those is the record's PMID (it had taken the first one)."""
    path = exports / "asreview_citation_file_formatting/RIS/_baseline_psychInfo_ovid.ris"

    records = records_of(path)

    assert {r.pmid for r in records} == {""}
    trial = next(r for r in records if r.title.startswith("The incredible years"))
    cited = [value for value in trial.raw["M1"] if "pubmed.ncbi.nlm.nih.gov/33416202" in value]
    assert cited and cited[0].startswith("Altafim, E. R. P., McCoy, D. C.")  # a cited work
    assert trial.doi == "10.5093/pi2022a2"


def test_a_pmid_in_a_note_counts_unless_it_is_another_work_s(write: WriteFile) -> None:
    path = write(
        "notes.ris",
        "TY  - JOUR\nTI  - Noted\nN1  - PMID: 12345678\nER  - \n\n"
        "TY  - JOUR\nTI  - One cited work\n"
        "M1  - Kim, J. (2019). A cited study. Journal, 1(2), 3-4. "
        "https://pubmed.ncbi.nlm.nih.gov/23456789\nER  - \n\n"
        "TY  - JOUR\nTI  - Two links\nL2  - https://pubmed.ncbi.nlm.nih.gov/34567890\n"
        "L2  - https://pubmed.ncbi.nlm.nih.gov/45678901\nER  - \n\n"
        "TY  - JOUR\nTI  - Same link twice\nUR  - https://pubmed.ncbi.nlm.nih.gov/56789012\n"
        "UR  - https://www.ncbi.nlm.nih.gov/pubmed/56789012\nER  - \n",
    )

    records = records_of(path)

    assert [(r.title, r.pmid) for r in records] == [
        ("Noted", "12345678"),
        ("One cited work", ""),  # a reference-list entry names another work
        ("Two links", ""),  # two PMIDs in one tag: which is this record's is unknown
        ("Same link twice", "56789012"),
    ]


def test_empty_records_are_skipped_with_a_warning(exports: Path) -> None:
    path = exports / "asreview_demo_data/baseline_reference_types.ris"

    summary = summarise(read_file(path, filename=path.name))

    assert summary.record_count == 59
    assert (
        "2 empty records were skipped (records 1, 2): they hold nothing but a record type "
        "or id." in summary.warnings
    )
    assert summary.sample[0].raw == {"TY": "GEN", "N1": ["Reference Type: Generic"]}


def test_unreadable_year_is_blank_and_counted(exports: Path) -> None:
    path = exports / "asreview_demo_data/faulty_year.ris"

    summary = summarise(read_file(path, filename=path.name))

    assert summary.sample[0].year is None
    assert (
        "1 record has an unreadable year (e.g. record 1: '10 15'); their year is left blank."
        in summary.warnings
    )


def test_tab_between_tag_and_dash_is_accepted(exports: Path) -> None:
    path = exports / "asreview_demo_data/baseline_tag_and_field_definitions.ris"

    record = records_of(path)[0]

    assert record.raw["A1"] == ["First Authors"]  # written "A1\t- First Authors"


def test_ovid_numbering_between_records_is_reported(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/RIS/_baseline_psychInfo_ovid.ris"
    parsed = read_file(path, filename=path.name)

    records = list(parsed.records())

    assert len(records) == 10
    assert records[0].doi == "10.1186/s11689-021-09396-9"
    assert parsed.warnings[0].startswith("Skipped 10 lines of text outside records")
    assert "line 1: '2.'" in parsed.warnings[0]


def test_many_authors_are_all_kept(exports: Path) -> None:
    record = records_of(exports / "asreview_demo_data/ris_many_authors.ris")[0]

    assert len(record.authors) == 7456


def test_tag_collector_keeps_every_value_of_repeated_tags_and_continuation_lines() -> None:
    """What rispy's parsers did with the mapping switched off and `enforce_list_tags=False`:
    a list tag always holds a list, a repeated single tag becomes the list of its values,
    and a continuation line adds an item to a list tag but text to any other."""
    from reviewer.imports.ris import TagCollector

    collector = TagCollector(frozenset({"AU", "KW"}))
    record: dict[str, object] = {}
    collector.add(record, "AU", "Smith, J")
    collector.extend(record, "AU", "Doe, A")  # an author on a line of its own
    collector.add(record, "TI", "A long title")
    collector.extend(record, "TI", "on two lines")
    collector.add(record, "SN", "1234-5678")
    collector.add(record, "SN", "8765-4321")  # a single tag given twice: both kept
    collector.extend(record, "SN", "(print)")  # continues the last value only
    collector.add(record, "KW", "tumour")

    assert record == {
        "AU": ["Smith, J", "Doe, A"],
        "TI": "A long title on two lines",
        "SN": ["1234-5678", "8765-4321 (print)"],
        "KW": ["tumour"],
    }
