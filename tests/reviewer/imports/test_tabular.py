"""Shared table handling: finding the header, naming columns, splitting list cells."""

from __future__ import annotations

import pytest

from reviewer.imports.tabular import find_header, split_authors, split_keywords, unique_columns


@pytest.mark.parametrize(
    ("cell", "authors"),
    [
        ("Wilson L.N.; Gardner J.D.; Wilson J.P.", ["Wilson L.N.", "Gardner J.D.", "Wilson J.P."]),
        ("Alba Vicente|Josep Sanjuan", ["Alba Vicente", "Josep Sanjuan"]),
        ("Longrich, N.R.\n and Bardet, N.", ["Longrich, N.R.", "Bardet, N."]),
        ("Yang Z., Jiang B., McNamara M.E.", ["Yang Z.", "Jiang B.", "McNamara M.E."]),
        ("PM Barrett, KJ Willis", ["PM Barrett", "KJ Willis"]),
        ("['Marx, Karl', 'Lindgren, Astrid']", ["Marx, Karl", "Lindgren, Astrid"]),
        ("Marx, Karl", ["Marx, Karl"]),  # one author, surname first
        ("Joseph Rottman, Erran Carmel", ["Joseph Rottman, Erran Carmel"]),  # ambiguous: kept
        ("", []),
    ],
)
def test_authors_split_only_on_unambiguous_separators(cell: str, authors: list[str]) -> None:
    assert split_authors(cell) == authors


@pytest.mark.parametrize(
    ("cell", "keywords"),
    [
        ("article; controlled study", ["article", "controlled study"]),
        ("Archipelago|Aptian", ["Archipelago", "Aptian"]),
        ("phosphate,Africa,animal", ["phosphate", "Africa", "animal"]),
        (
            "article, bronchogenic cyst (diagnosis, surgery), colon",
            ["article", "bronchogenic cyst (diagnosis, surgery)", "colon"],
        ),
        ("['Pippi', 'Nordwind']", ["Pippi", "Nordwind"]),
    ],
)
def test_keywords_split(cell: str, keywords: list[str]) -> None:
    assert split_keywords(cell) == keywords


def test_header_is_the_first_row_at_least_half_as_full_as_the_widest() -> None:
    rows = [
        ["SEARCH QUERY", "dinosaur:ti", "", "", ""],
        ["-----", "", "", "", ""],
        [],
        ["Title", "Authors", "Year", "DOI", "Abstract"],
        ["A", "B", "2020", "", ""],
    ]

    assert find_header(rows) == 3
    assert find_header([["only one cell"], ["x"]]) is None


def test_column_names_are_stripped_unique_and_never_blank() -> None:
    assert unique_columns([" abstract ", "labeled_at", "", "labeled_at"]) == [
        "abstract",
        "labeled_at",
        "column 3",
        "labeled_at (2)",
    ]
