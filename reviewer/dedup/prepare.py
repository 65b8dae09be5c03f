"""Per-record precomputation: every normalised field the blocking and comparison read.

Done once per record so that scoring a pair only compares ready-made strings and tuples.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.dedup.normalise import (
    Author,
    Pages,
    acronym_definitions,
    clean_title,
    fold,
    leading_number,
    normalise_doi,
    normalise_journal,
    normalise_pages,
    normalise_pmid,
    normalise_volume,
    parse_authors,
    title_is_translation,
)
from reviewer.dedup.rules import (
    TrapView,
    generic_title,
    issue_numbers,
    page_range,
    record_kinds,
    series_info,
    strip_erratum_citation,
    strip_kind_markers,
)
from reviewer.dedup.types import DedupInput, RecordId

_ABSTRACT_CHARS = 600
_GENERIC_MAX_CHARS = (
    80  # the longest generic title ("Acknowledgement of reviewers 2021") is far shorter
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One record's normalised fields."""

    index: int
    id: RecordId
    title: str  # folded words joined by spaces
    title_key: str  # folded title without spaces
    acronyms: tuple[tuple[str, str], ...]  # acronyms the title defines: (acronym, expansion)
    authors: tuple[Author, ...]
    author_string: str  # "smith j wang s" for fuzzy comparison
    year: int | None
    journal: tuple[str, ...]
    volume: str
    volume_number: str
    issue: str
    pages: Pages
    doi: str
    pmid: str
    abstract: str
    trap: TrapView


def prepare(index: int, record: DedupInput) -> Prepared:
    """Normalise one input record."""
    cleaned = clean_title(record.title)
    base_title, erratum_citation = strip_erratum_citation(cleaned)
    title = fold(strip_kind_markers(base_title))
    authors = parse_authors(record.authors)
    volume = normalise_volume(record.volume)
    volume_number = leading_number(volume)
    pages = normalise_pages(record.pages)
    year = record.year if record.year and 1000 < record.year < 3000 else None
    kinds = record_kinds(
        cleaned,
        record.publication_type,
        record.journal,
        record.volume,
        record.issue,
        record.pages,
        erratum_citation,
    )
    issue = normalise_volume(record.issue)
    trap = TrapView(
        kinds=kinds,
        series=series_info(base_title, title),
        year=year,
        volume_number=volume_number,
        first_page=pages.first,
        issue=issue,
        issue_numbers=issue_numbers(record.issue),
        page_range=page_range(pages.first, pages.last),
        last_page=pages.last,
        generic=generic_title(fold(cleaned)) if len(cleaned) <= _GENERIC_MAX_CHARS else "",
        translated=title_is_translation(record.title),
        title_words=len(title.split()),
    )
    return Prepared(
        index=index,
        id=record.id,
        title=title,
        title_key=title.replace(" ", ""),
        acronyms=acronym_definitions(base_title),
        authors=authors,
        author_string=" ".join(f"{author.surname} {author.initials[:1]}" for author in authors),
        year=year,
        journal=normalise_journal(record.journal),
        volume=volume,
        volume_number=volume_number,
        issue=issue,
        pages=pages,
        doi=normalise_doi(record.doi),
        pmid=normalise_pmid(record.pmid),
        abstract=fold(record.abstract[: _ABSTRACT_CHARS * 2])[:_ABSTRACT_CHARS],
        trap=trap,
    )
