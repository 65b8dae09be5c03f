"""BibTeX: LaTeX decoding, author splitting, and entries we refuse to lose."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.imports import ParseError, read_file
from reviewer.imports import bibtex as bibtex_module
from tests.reviewer.imports.conftest import WriteFile, records_of

ENTRY = r"""@article{muller2020,
  title = {The {RNA} world of M{\"u}ller: 50% of {\'e}tudes \& more},
  author = {M{\"u}ller, J{\"o}rg and {World Health Organization} and {Barnes and Noble}},
  journal = {Journal of Things},
  year = {2020},
  volume = 12, number = {3}, pages = {335--9},
  doi = {https://doi.org/10.1000/ABC\_1},
  url = {http://example.org/a%20b},
  keywords = {tumour; children; margins},
  abstract = {About 50% of patients & their families.},
}
"""


def test_latex_is_decoded_and_braces_dropped(write: WriteFile) -> None:
    record = records_of(write("one.bib", ENTRY))[0]

    assert record.title == "The RNA world of Müller: 50% of études & more"
    assert record.abstract == "About 50% of patients & their families."


def test_authors_split_on_and_outside_braces(write: WriteFile) -> None:
    record = records_of(write("one.bib", ENTRY))[0]

    assert record.authors == ["Müller, Jörg", "World Health Organization", "Barnes and Noble"]


def test_other_fields_are_normalised(write: WriteFile) -> None:
    record = records_of(write("one.bib", ENTRY))[0]

    assert record.doi == "10.1000/abc_1"
    assert record.url == "http://example.org/a%20b"  # not a LaTeX comment
    assert (record.volume, record.issue, record.pages) == ("12", "3", "335-339")
    assert record.keywords == ["tumour", "children", "margins"]
    assert record.publication_type == "article"
    assert record.year == 2020
    assert record.location == "record 1, line 1"


def test_raw_keeps_the_fields_as_written(write: WriteFile) -> None:
    record = records_of(write("one.bib", ENTRY))[0]

    assert record.raw["ENTRYTYPE"] == "article"
    assert record.raw["ID"] == "muller2020"
    assert record.raw["title"] == r"The {RNA} world of M{\"u}ller: 50% of {\'e}tudes \& more"


def test_broken_bibtex_entry_is_refused(exports: Path) -> None:
    path = exports / "colrev/3_packages_search_data/ebsco_bib.bib"
    parsed = read_file(path, filename=path.name)

    with pytest.raises(ParseError) as raised:
        list(parsed.records())

    # The second entry's Keywords field holds scraped web-page text with unbalanced braces
    # ("{name:Nowag"); bibtexparser cannot read it, and dropping it would lose a record.
    assert (raised.value.line, raised.value.record) == (15, 2)
    assert str(raised.value).startswith(
        "ebsco_bib.bib, line 15, record 2: this BibTeX entry could not be read (Expected a `=`"
    )


def test_duplicate_keys_keep_both_entries_with_a_warning(exports: Path) -> None:
    parsed = read_file(exports / "colrev/2_loader_data/bib_data.bib", filename="bib_data.bib")

    records = list(parsed.records())

    assert len(records) == 6
    assert (
        "Line 19: the entry key 'articlewriter_firstrandomword_2020' is used twice; both "
        "entries were kept." in parsed.warnings
    )


def test_comments_and_strings_are_not_records(write: WriteFile) -> None:
    path = write(
        "macros.bib",
        "% exported by a tool\n@comment{jabref-meta: x}\n@string{jpsurg = {J Pediatr Surg}}\n"
        "@article{a, title = {Uses a macro}, journal = jpsurg, year = 2001}\n",
    )

    records = records_of(path)

    assert [(r.title, r.journal, r.year) for r in records] == [
        ("Uses a macro", "J Pediatr Surg", 2001)
    ]


def test_large_file_is_read_in_slices_with_macros_carried_over(
    write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bibtex_module, "SLICE_ENTRIES", 2)
    entries = "".join(
        f"@article{{k{n},\n  title = {{Entry {n}}},\n  journal = jn,\n}}\n" for n in range(1, 8)
    )
    path = write("many.bib", "@string{jn = {Shared Journal}}\n" + entries)

    records = records_of(path)

    assert [r.title for r in records] == [f"Entry {n}" for n in range(1, 8)]
    assert {r.journal for r in records} == {"Shared Journal"}
    assert [r.location for r in records][-1] == "record 7, line 26"


def test_html_entities_from_wos_bibtex_are_decoded(exports: Path) -> None:
    records = records_of(exports / "colrev/3_packages_search_data/web_of_science_bib.bib")

    assert records[1].title == "A dummy title's"  # written "A dummy title&apos;s"
    assert records[0].doi == "10.1007/999-9-999-99999-9_3"  # written with "\_"
    assert records[0].journal == "A BOOKTITLE"  # @inproceedings: booktitle
