"""guess_mapping: column headers real exporters write, mapped to our fields."""

from __future__ import annotations

import pytest

from reviewer.imports import guess_mapping


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (  # Scopus
            [
                "Authors",
                "Author full names",
                "Title",
                "Year",
                "Source title",
                "DOI",
                "PubMed ID",
                "Author Keywords",
                "Index Keywords",
                "Page start",
                "Page end",
                "Document Type",
                "Source",
            ],
            {
                "title": "Title",
                "authors": "Authors",
                "year": "Year",
                "journal": "Source title",
                "doi": "DOI",
                "pmid": "PubMed ID",
                "keywords": "Author Keywords",
                "pages": "Page start",
                "end_page": "Page end",
                "publication_type": "Document Type",
            },
        ),
        (  # Web of Science / Lens
            ["Article Title", "Author Full Names", "Publication Year", "Source Title", "Abstract"],
            {
                "title": "Article Title",
                "authors": "Author Full Names",
                "year": "Publication Year",
                "journal": "Source Title",
                "abstract": "Abstract",
            },
        ),
        (  # ASReview / rispy names
            [
                "primary_title",
                "abstract_note",
                "first_authors",
                "publication_year",
                "alternate_title3",
                "pubmedID",
            ],
            {
                "title": "primary_title",
                "abstract": "abstract_note",
                "authors": "first_authors",
                "year": "publication_year",
                "journal": "alternate_title3",
                "pmid": "pubmedID",
            },
        ),
        (  # tagged-format column names
            ["TI", "AB", "AU", "PY", "SO", "DI", "PM", "DE"],
            {
                "title": "TI",
                "abstract": "AB",
                "authors": "AU",
                "year": "PY",
                "journal": "SO",
                "doi": "DI",
                "pmid": "PM",
                "keywords": "DE",
            },
        ),
        (  # Cochrane CENTRAL
            ["CENTRAL ID", "Author(s)", "Title", "Source", "Year", "PubMed ID", "URL"],
            {
                "title": "Title",
                "authors": "Author(s)",
                "journal": "Source",
                "year": "Year",
                "pmid": "PubMed ID",
                "url": "URL",
            },
        ),
        (  # RefWorks tab-separated
            ["Reference Type", "Authors, Primary", "Title Primary", "Periodical Full", "Pub Year"],
            {
                "publication_type": "Reference Type",
                "authors": "Authors, Primary",
                "title": "Title Primary",
                "journal": "Periodical Full",
                "year": "Pub Year",
            },
        ),
    ],
    ids=["scopus", "wos-lens", "asreview", "tags", "cochrane", "refworks"],
)
def test_headers_of_real_exporters(columns: list[str], expected: dict[str, str]) -> None:
    assert guess_mapping(columns) == expected


def test_matching_ignores_case_spacing_and_punctuation() -> None:
    mapping = guess_mapping([" TITLE ", "Abstract Note", "author/s", "PUBMED_ID"])

    assert mapping == {
        "title": " TITLE ",
        "abstract": "Abstract Note",
        "authors": "author/s",
        "pmid": "PUBMED_ID",
    }


def test_no_column_serves_two_fields_and_unknowns_are_left_out() -> None:
    mapping = guess_mapping(["Title", "Notes", "Reviewer"])

    assert mapping == {"title": "Title"}
