"""Guessing which spreadsheet column holds which field, from the headers real tools write.

The candidates were collected from the CSV/TSV/XLSX exports of Lens.org, Scopus, Embase,
PubMed, CINAHL, Cochrane, Covidence, Rayyan, Zotero, RefWorks, OpenAlex, Google Scholar,
Abstrackr, EPPI-Reviewer, IEEE, Springer and ASReview. Headers are compared after
normalising case and punctuation ("Abstract Note" = "abstract_note"), exactly, in the
order listed: the first candidate present wins, and no column serves two fields.
"""

from __future__ import annotations

import re

from reviewer.imports.base import END_PAGE_KEY, MAPPABLE_FIELDS, ColumnMapping

_PUNCTUATION = re.compile(r"[\s_./()\-,:&#]+")

CANDIDATES: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "article title",
        "primary title",
        "title primary",
        "item title",
        "document title",
        "paper title",
        "ti",
        "t1",
        "display name",
    ),
    "abstract": ("abstract", "abstract note", "ab", "notes abstract", "n2", "summary"),
    "authors": (
        "authors",
        "author",
        "author s",
        "author names",
        "author full names",
        "authors primary",
        "first authors",
        "authorships author display name",
        "creators",
        "au",
        "af",
        "a1",
    ),
    "year": (
        "year",
        "publication year",
        "published year",
        "pub year",
        "year published",
        "py",
        "y1",
        "date published",
        "publication date",
        "date of publication",
        "date",
        "da",
    ),
    "journal": (
        "journal",
        "source title",
        "journal title",
        "journal name",
        "journal book",
        "publication title",
        "periodical full",
        "full journal title",
        "publication",
        "primary location source display name",
        "secondary title",
        "alternate title3",
        "jf",
        "jo",
        "t2",
        "so",
        "source",
    ),
    "volume": ("volume", "journal volume", "biblio volume", "vol", "vl"),
    "issue": ("issue", "issue number", "journal issue", "biblio issue", "number", "is"),
    "pages": (
        "pages",
        "page",
        "page range",
        "pagination",
        "start page",
        "page start",
        "first page",
        "biblio first page",
        "pg",
        "sp",
    ),
    "doi": ("doi", "item doi", "ids doi", "digital object identifier", "do", "di"),
    "pmid": (
        "pmid",
        "pubmed id",
        "pubmedid",
        "pubmed id number",
        "medline pmid",
        "ids pmid",
        "pubmed",
        "pm",
    ),
    "keywords": (
        "keywords",
        "author keywords",
        "keyword",
        "manual tags",
        "keywords display name",
        "subjects",
        "kw",
        "de",
    ),
    "language": (
        "language",
        "article language",
        "language of original document",
        "output language",
        "lang",
        "la",
    ),
    "publication_type": (
        "publication type",
        "document type",
        "item type",
        "reference type",
        "type of reference",
        "content type",
        "doctype",
        "type",
        "pt",
        "dt",
        "ty",
    ),
    "url": (
        "url",
        "link",
        "links",
        "urls",
        "external url",
        "source urls",
        "full text link",
        "plink",
        "primary location landing page url",
        "ur",
    ),
}

#: Start-page candidates and the end-page header that goes with each.
PAGE_PARTNERS: dict[str, tuple[str, ...]] = {
    "start page": ("end page",),
    "page start": ("page end",),
    "first page": ("last page",),
    "biblio first page": ("biblio last page",),
    "sp": ("ep",),
}


def header_key(header: str) -> str:
    """'Abstract_Note ' -> 'abstract note'; 'Author(s)' -> 'author s'."""
    return _PUNCTUATION.sub(" ", header.strip().lower()).strip()


def guess_mapping(columns: list[str]) -> ColumnMapping:
    """Field -> column for the columns we recognise; fields we cannot place are left out."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(header_key(column), column)
    mapping: ColumnMapping = {}
    used: set[str] = set()
    for field in MAPPABLE_FIELDS:
        for candidate in CANDIDATES.get(field, ()):
            found = by_key.get(candidate)
            if found is not None and found not in used:
                mapping[field] = found
                used.add(found)
                break
    end = end_page_column(mapping.get("pages", ""), columns)
    if end and end not in used:
        mapping[END_PAGE_KEY] = end
    return mapping


def end_page_column(pages_column: str, columns: list[str]) -> str:
    """The end-page column partnering a start-page column ('Start Page' -> 'End Page')."""
    partners = PAGE_PARTNERS.get(header_key(pages_column), ())
    for column in columns:
        if header_key(column) in partners:
            return column
    return ""
