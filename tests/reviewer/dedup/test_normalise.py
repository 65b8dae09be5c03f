"""Normalisation of titles, authors, journals, pages and DOIs."""

from __future__ import annotations

import pytest

from reviewer.dedup.normalise import (
    Author,
    Pages,
    journals_match,
    normalise_doi,
    normalise_journal,
    normalise_pages,
    normalise_title,
    parse_author,
)


@pytest.mark.parametrize(
    "raw",
    [
        "Effect of <i>Helicobacter</i> &amp; gastric cancer.",
        "EFFECT OF HELICOBACTER & GASTRIC CANCER",
        "[Effect of Helicobacter and gastric cancer].",
        "Effect of Helicobacter and gastric cancer [Article in German]",
        "Effect of Helicobacter and gastric cancer. [Chinese]",
        "Effect of Helicobacter and gastric cancer. [Review] [24 refs]",
        "Effect of Hélicobacter and gastric-cancer",
        "Effect of {H}elicobacter and gastric cancer (Structured abstract)",
    ],
)
def test_title_forms_normalise_alike(raw: str) -> None:
    assert normalise_title(raw) == "effect of helicobacter and gastric cancer"


def test_mathml_tags_are_dropped() -> None:
    title = "Mass of the <mml:math><mml:mi>W</mml:mi></mml:math> boson"
    assert normalise_title(title) == "mass of the w boson"


@pytest.mark.parametrize(
    "raw",
    [
        "10.1000/ABC.123",
        "https://doi.org/10.1000/abc.123",
        "http://dx.doi.org/10.1000/abc.123.",
        "doi:10.1000/abc.123",
        "DOI 10.1000/abc.123;",
        "https://doi.org/10.1000%2Fabc.123",
    ],
)
def test_doi_forms(raw: str) -> None:
    assert normalise_doi(raw) == "10.1000/abc.123"


def test_no_doi() -> None:
    assert normalise_doi("not a doi") == ""


@pytest.mark.parametrize(
    "raw",
    ["Smith, John A.", "Smith JA", "J. A. Smith", "Smith, J A", "Smith, J.A.", "John A. Smith"],
)
def test_author_forms(raw: str) -> None:
    assert parse_author(raw) == Author("smith", "ja")


def test_author_short_forms_and_particles() -> None:
    assert parse_author("Smith, J") == Author("smith", "j")
    assert parse_author("van den Brule, A J C") == Author("vandenbrule", "ajc")
    assert parse_author("Müller, Jörg") == Author("muller", "j")
    assert parse_author("et al.") is None


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("J Clin Oncol", "Journal of Clinical Oncology"),
        ("Nat Rev Nephrol", "Nature Reviews Nephrology"),
        (
            "Proc Natl Acad Sci U S A",
            "Proceedings of the National Academy of Sciences of the United States of America",
        ),
        ("Obstetrics & Gynecology", "Obstetrics and Gynecology"),
        ("PLoS ONE [Electronic Resource]", "PLoS One"),
    ],
)
def test_journal_abbreviations_match(short: str, full: str) -> None:
    assert journals_match(normalise_journal(short), normalise_journal(full))


def test_different_journals_do_not_match() -> None:
    assert not journals_match(normalise_journal("Cancer"), normalise_journal("Cell"))
    assert not journals_match(
        normalise_journal("J Clin Oncol"), normalise_journal("Journal of Clinical Virology")
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("73-6", Pages("73", "76")),
        ("73-76", Pages("73", "76")),
        ("288--297", Pages("288", "297")),
        ("288–97", Pages("288", "297")),
        ("e1234", Pages("e1234", "")),
        ("S12-S15", Pages("s12", "s15")),
        ("S12-5", Pages("s12", "s15")),
        ("pp. 1001-1009", Pages("1001", "1009")),
        ("", Pages("", "")),
    ],
)
def test_pages(raw: str, expected: Pages) -> None:
    assert normalise_pages(raw) == expected


def test_a_compound_surname_split_after_its_particle_keeps_the_joined_form() -> None:
    # an export that splits "Van Hoorn KJ" after the particle: "Van, Hoorn K. J."
    split = parse_author("Van, Hoorn K. J.")
    assert split is not None and split.joined == "vanhoorn"
    assert parse_author("Okafor, Chidi A.") == Author("okafor", "ca")  # no particle, no join
