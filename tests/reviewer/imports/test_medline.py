"""PubMed MEDLINE (.nbib): continuation lines, full author names, DOIs, book records."""

from __future__ import annotations

from pathlib import Path

from reviewer.imports import read_file, summarise
from reviewer.imports.notes import CutRecord
from tests.reviewer.imports.conftest import FIXTURES, WriteFile, records_of


def test_single_pubmed_record_field_by_field(exports: Path) -> None:
    record = records_of(exports / "nbib_py/single.nbib")[0]

    assert record.pmid == "28754806"
    assert record.doi == "10.1136/neurintsurg-2017-013179"
    assert record.title == (
        "Impact of balloon guide catheter on technical and clinical outcomes: a systematic "
        "review and meta-analysis."
    )
    assert record.authors == ["Brinjikji, Waleed", "Pereira, Vitor M", "Kallmes, David F"]
    assert record.year == 2018
    assert record.journal == "Journal of neurointerventional surgery"
    assert (record.volume, record.issue, record.pages) == ("10", "4", "335-339")
    assert record.language == "eng"
    assert record.publication_type == "Journal Article; Meta-Analysis; Review; Systematic Review"
    assert record.url == "https://pubmed.ncbi.nlm.nih.gov/28754806/"
    assert record.abstract.startswith("BACKGROUND AND PURPOSE: Flow arrest")
    assert record.abstract.endswith("And I could go on...")
    assert record.keywords[:2] == ["Aged", "Brain Ischemia/diagnostic imaging/*surgery"]
    assert "stroke" in record.keywords  # OT (author keywords) after MH


def test_continuation_lines_join_with_single_spaces() -> None:
    records = records_of(FIXTURES / "continuation.nbib")

    assert records[0].title == (
        "Inflammatory myofibroblastic tumour in children: a retrospective review of margins, "
        "recurrence and reoperation."
    )
    assert records[0].abstract == (
        "BACKGROUND: Inflammatory myofibroblastic tumours are rare. METHODS: We reviewed 45 "
        "children. RESULTS: Positive margins were associated with recurrence."
    )
    assert records[0].raw["AD"] == ["Department of Surgery, Example Hospital, Example City."]


def test_full_author_names_win_over_initials() -> None:
    record = records_of(FIXTURES / "continuation.nbib")[0]

    assert record.authors == ["Smith, Jane A", "van der Berg, Piet"]
    assert record.raw["AU"] == ["Smith JA", "van der Berg P"]


def test_doi_pages_year_and_keywords_are_normalised() -> None:
    record = records_of(FIXTURES / "continuation.nbib")[0]

    assert record.doi == "10.1000/imt.2019.001"  # "10.1000/IMT.2019.001 [doi]"
    assert record.pages == "112-119"  # PubMed's "112-9"
    assert record.year == 2019  # "2019 Mar-Apr"
    assert record.keywords == ["Child", "*Neoplasms, Muscle Tissue/surgery", "margins"]
    assert record.journal == "Journal of pediatric surgery"


def test_book_record_takes_its_title_from_bti() -> None:
    book = records_of(FIXTURES / "continuation.nbib")[1]

    assert book.title == "Pediatric Surgical Oncology: a textbook chapter without an article title"
    assert book.authors == ["Example Consortium"]
    assert book.publication_type == "Book Chapter"
    assert book.location == "record 2, line 29"


def test_records_not_separated_by_blank_lines_still_split_at_pmid(write: WriteFile) -> None:
    path = write("joined.nbib", "PMID- 1\nTI  - First\nPMID- 2\nTI  - Second\n")

    records = records_of(path)

    assert [(r.pmid, r.title) for r in records] == [("1", "First"), ("2", "Second")]


def test_eric_export_without_pmid(exports: Path) -> None:
    record = records_of(exports / "colrev/3_packages_search_data/eric_nbib.nbib")[0]

    assert record.title == "Paper title"
    assert record.pmid == ""
    assert record.url == ""
    assert record.doi == "10.1000/123456789"  # AID  - http://dx.doi.org/10.1000/123456789
    assert record.pages == "1-9"
    assert record.keywords == ["Keyword 1", "Keyword 2"]


def test_medline_with_a_ris_name_is_read_as_medline(exports: Path) -> None:
    path = exports / "asreview_citation_file_formatting/RIS/_baseline_pubmed.ris"

    summary = summarise(read_file(path, filename=path.name))

    assert summary.record_count == 50
    assert summary.sample[0].pmid == "30922926"
    assert summary.sample[0].doi == "10.1016/j.ejmg.2019.03.004"  # LID - ... [doi], not [pii]


def test_big_pubmed_set_has_all_pmids_and_dois(exports: Path) -> None:
    summary = summarise(read_file(exports / "nbib_py/pubmed-balloongui-set.nbib", filename="x"))

    assert summary.record_count == 75
    assert summary.fields_found["pmid"] == 75
    assert summary.fields_found["authors"] == 75
    assert summary.warnings == ["5 records have no abstract."]


PUBMED_RECORD = (
    "PMID- {pmid}\nTI  - Inflammatory myofibroblastic tumour {pmid}.\n"
    "AB  - A child with a mass.\nFAU - Smith, Anna\nDP  - 2020 Jan\n"
    "SO  - J Pediatr Surg. 2020;55(1):1-5.\n"
)


def test_a_pubmed_file_whose_last_record_lost_its_end_is_cut_short(write: WriteFile) -> None:
    cut = "PMID- 3\nTI  - Inflammatory myofibroblastic tumour 3.\nAB  - A child with a ma"
    path = write(
        "pubmed.nbib",
        PUBMED_RECORD.format(pmid=1) + "\n" + PUBMED_RECORD.format(pmid=2) + "\n" + cut,
    )
    parsed = read_file(path, filename="pubmed.nbib")

    records = list(parsed.records())

    assert [r.pmid for r in records] == ["1", "2", "3"]
    assert parsed.cut_records == [CutRecord(record=3, line=15, at_end=True)]
    assert parsed.warnings[0].startswith(
        "Record 3 (line 15) is cut short: it has no SO line (the source), which PubMed writes "
        "last in every record. A file whose last record is cut is usually a download"
    )


def test_a_pubmed_record_cut_mid_file_is_listed_too(write: WriteFile) -> None:
    cut = "PMID- 2\nTI  - Inflammatory myofibroblastic tumour 2.\n"
    path = write(
        "pubmed.nbib",
        PUBMED_RECORD.format(pmid=1) + "\n" + cut + "\n" + PUBMED_RECORD.format(pmid=3),
    )
    parsed = read_file(path, filename="pubmed.nbib")

    list(parsed.records())

    assert parsed.cut_records == [CutRecord(record=2, line=8, at_end=False)]


def test_real_pubmed_exports_have_no_cut_record(exports: Path) -> None:
    for name in ("nbib_py/pubmed-balloongui-set.nbib", "iebh_reflib/blue-light.nbib"):
        parsed = read_file(exports / name, filename=name)
        list(parsed.records())
        assert parsed.cut_records == [], name


def test_records_without_so_that_end_differently_are_not_called_cut(write: WriteFile) -> None:
    text = (
        "PMID- 1\nTI  - One.\nDP  - 2021\nLID - 10.1/x [doi]\n\n"
        "PMID- 2\nTI  - Two.\nFAU - Rossi, Giulia\nJT  - Journal\n"
    )
    parsed = read_file(write("handmade.nbib", text), filename="handmade.nbib")

    list(parsed.records())

    assert parsed.cut_records == []
