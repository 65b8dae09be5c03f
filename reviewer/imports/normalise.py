"""Field normalisation shared by every parser, so a DOI or a year means the same thing
whichever database exported it (de-duplication compares these values directly)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from reviewer.imports.base import ParsedRecord
from reviewer.imports.notes import PassNotes

_YEAR = re.compile(r"(?<!\d)(\d{4})")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_PMID_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})\b")
_PMID_TEXT = re.compile(r"(?:pmid|pubmed(?:\s*id)?)?\s*:?\s*(\d{1,9})(?:\s*\[[a-z]+\])?", re.I)
_PAGE_RANGE = re.compile(
    r"([A-Za-z]*)(\d+)([A-Za-z]*)\s*(?:-+|–|—|‐)\s*([A-Za-z]*)(\d+)([A-Za-z]*)"
)
_PAGE_DASHES = re.compile(r"\s*(?:-+|–|—|‐)\s*")

MIN_YEAR, MAX_YEAR = 1800, 2100


def clean_text(value: Any) -> str:
    """Collapse runs of whitespace (newlines, tabs, NBSP) to one space and strip."""
    if value is None:
        return ""
    return " ".join(str(value).split())  # str.split() is much faster than a regex here


def parse_year(value: str) -> int | None:
    """The first plausible year (1800..2100) in a date-ish string: '2018 Apr' -> 2018.

    Digit runs are read from their start, so '20170812' gives 2017 but '12345' gives nothing.
    """
    for match in _YEAR.finditer(value):
        year = int(match.group(1))
        if MIN_YEAR <= year <= MAX_YEAR:
            return year
    return None


def clean_doi(value: str) -> str:
    """A bare, lower-case DOI ('10.1000/xyz') from a DOI, doi: prefix or doi.org URL."""
    if not value:
        return ""
    text = value.strip()
    if "%2f" in text.lower():
        text = unquote(text)
    match = _DOI.search(text)
    if not match:
        return ""
    return match.group(0).rstrip(".,;:)]}'").lower()


def find_doi(value: str) -> str:
    """A DOI mentioned in free text or a URL ('doi:10...', 'https://doi.org/10...')."""
    lowered = value.lower()
    if "doi" not in lowered and "10." not in lowered:
        return ""
    return clean_doi(value)


def clean_pmid(value: str) -> str:
    """PubMed id digits from '123', 'PMID: 123', '123 [pmid]' or a PubMed URL; else ''."""
    text = value.strip()
    if not text:
        return ""
    if text.endswith(".0") and text[:-2].isdigit():  # a spreadsheet turned it into a float
        text = text[:-2]
    if text.isdigit():
        return text.lstrip("0") if len(text) <= 9 else ""
    if match := _PMID_URL.search(text):
        return match.group(1)
    if match := _PMID_TEXT.fullmatch(text):
        return match.group(1).lstrip("0")
    return ""


def clean_pages(start: str, end: str = "") -> str:
    """'123-130' from '123--130', '123 – 130', ('123', '130') or PubMed's '123-30'."""
    start, end = clean_text(start), clean_text(end)
    text = f"{start}-{end}" if start and end and end != start else start or end
    match = _PAGE_RANGE.fullmatch(text)
    if not match:
        return _PAGE_DASHES.sub("-", text)
    pre1, first, post1, pre2, last, post2 = match.groups()
    if not pre2 and not post2 and len(last) < len(first) and not post1:
        # Abbreviated end page: 335-9 means 335-339.
        last = first[: len(first) - len(last)] + last
        pre2 = pre1
    left = f"{pre1}{first}{post1}"
    right = f"{pre2}{last}{post2}"
    return left if left == right else f"{left}-{right}"


def dedupe(values: Iterable[str]) -> list[str]:
    """Cleaned, non-empty values, first spelling kept, case-insensitive duplicates dropped."""
    seen: set[str] = set()
    result = []
    for value in values:
        text = clean_text(value)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            result.append(text)
    return result


def split_list(value: str, separators: str = ";") -> list[str]:
    """Split a delimited cell ('a; b; c') on any of `separators`."""
    if not value:
        return []
    present = [s for s in separators if s in value]
    if not present:
        text = clean_text(value)
        return [text] if text else []
    if len(present) > 1:
        for separator in present[1:]:
            value = value.replace(separator, present[0])
    return [part for part in (clean_text(p) for p in value.split(present[0])) if part]


def build_record(
    *,
    location: str,
    raw: dict[str, Any],
    notes: PassNotes,
    title: str = "",
    abstract: str = "",
    authors: Iterable[str] = (),
    year: str = "",
    journal: str = "",
    volume: str = "",
    issue: str = "",
    pages: str = "",
    doi: str = "",
    pmid: str = "",
    keywords: Iterable[str] = (),
    language: str = "",
    publication_type: str = "",
    url: str = "",
) -> ParsedRecord:
    """Normalise extracted values into a `ParsedRecord`; note a year we cannot read.

    `pages` is taken as already joined (parsers call `clean_pages`); `doi` and `pmid` may
    be raw ("https://doi.org/...", "PMID: 123").
    """
    year_text = clean_text(year)
    year_value = parse_year(year_text) if year_text else None
    if year_text and year_value is None:
        notes.unreadable_year(location, year_text)
    return ParsedRecord(
        title=clean_text(title),
        abstract=clean_text(abstract),
        authors=[a for a in (clean_text(a) for a in authors) if a],
        year=year_value,
        journal=clean_text(journal),
        volume=clean_text(volume),
        issue=clean_text(issue),
        pages=clean_text(pages),
        doi=clean_doi(doi),
        pmid=clean_pmid(pmid),
        keywords=dedupe(keywords),
        language=clean_text(language),
        publication_type=clean_text(publication_type),
        url=clean_text(url),
        raw=raw,
        location=location,
    )
