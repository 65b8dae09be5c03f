"""Field normalisation shared by every parser."""

from __future__ import annotations

import pytest

from reviewer.imports.normalise import (
    clean_doi,
    clean_pages,
    clean_pmid,
    clean_text,
    dedupe,
    parse_year,
    split_list,
)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2018 Apr", 2018),
        ("1948/07//", 1948),
        ("Start date: 20170812", 2017),
        ("4-8 Aug. 2020", 2020),
        ("2012.0", 2012),
        ("n.d.", None),
        ("10 15", None),
        ("12345", None),
        ("1750", None),
        ("Spring 2101 or 1999", 1999),
    ],
)
def test_year_is_the_first_plausible_four_digits(text: str, year: int | None) -> None:
    assert parse_year(text) == year


@pytest.mark.parametrize(
    ("text", "doi"),
    [
        ("10.1000/ABC.123", "10.1000/abc.123"),
        ("https://doi.org/10.1000/xyz", "10.1000/xyz"),
        ("http://dx.doi.org/10.1177/2325967120950040", "10.1177/2325967120950040"),
        ("doi:10.1011/hea0004444", "10.1011/hea0004444"),
        ("DOI 10.1000/x.", "10.1000/x"),
        ("10.1136/neurintsurg-2017-013179 [doi]", "10.1136/neurintsurg-2017-013179"),
        ("https://doi.org/10.1002%2Fcpp.2398", "10.1002/cpp.2398"),
        ("S1769-7212(19)30059-X", ""),
        ("", ""),
    ],
)
def test_doi_is_bare_and_lower_case(text: str, doi: str) -> None:
    assert clean_doi(text) == doi


@pytest.mark.parametrize(
    ("text", "pmid"),
    [
        ("28754806", "28754806"),
        ("PMID: 28754806", "28754806"),
        ("28754806.0", "28754806"),
        ("https://pubmed.ncbi.nlm.nih.gov/28754806/", "28754806"),
        ("https://www.ncbi.nlm.nih.gov/pubmed/23162881", "23162881"),
        ("PMC7026692", ""),
        ("rayyan-42924189", ""),
        ("WOS:000223334444221", ""),
    ],
)
def test_pmid_is_digits_only_when_clearly_a_pmid(text: str, pmid: str) -> None:
    assert clean_pmid(text) == pmid


@pytest.mark.parametrize(
    ("start", "end", "pages"),
    [
        ("123", "130", "123-130"),
        ("123--130", "", "123-130"),
        ("123 – 130", "", "123-130"),
        ("335-9", "", "335-339"),
        ("1234-56", "", "1234-1256"),
        ("704-704", "", "704"),
        ("e0815", "", "e0815"),
        ("S1", "S10", "S1-S10"),
        ("97", "", "97"),
        ("", "", ""),
    ],
)
def test_pages_are_a_start_end_range(start: str, end: str, pages: str) -> None:
    assert clean_pages(start, end) == pages


def test_whitespace_is_collapsed() -> None:
    assert clean_text("  A\ttitle\r\n over\u00a0lines ") == "A title over lines"
    assert clean_text(None) == ""


def test_keywords_are_deduplicated_keeping_order_and_first_spelling() -> None:
    assert dedupe(["Child", " child ", "Margins", "", "CHILD", "margins"]) == ["Child", "Margins"]


def test_split_list_on_any_separator() -> None:
    assert split_list("a; b |c;;", ";|") == ["a", "b", "c"]
    assert split_list("single", ";") == ["single"]
    assert split_list("", ";") == []
