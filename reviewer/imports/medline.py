"""PubMed's MEDLINE format (.nbib, "PubMed" export; also ERIC's).

Hand-written: the format is simple and no maintained Python parser streams it. A tag is up
to four characters, left-justified, followed by "- " ("PMID- ", "TI  - "); continuation
lines are indented six spaces; a blank line ends a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, clean_pmid, find_doi
from reviewer.imports.notes import PassNotes, record_location
from reviewer.imports.source import SourceFile, all_values, drop_empty, first_value

BOOKKEEPING_KEYS = frozenset({"OWN", "STAT"})

# Strictly "XXXX- " with the tag padded to four; ERIC also writes "ISSN - ...".
_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]{1,3}) {0,3}-(?: |$)")
_INDENT = frozenset({" ", "\t"})
_DOI_MARK = re.compile(r"^(.*?)\s*\[doi\]\s*$", re.I)

#: Tags kept as lists even when they occur once, so `raw` has one shape per tag.
LIST_TAGS = frozenset(
    {"FAU", "AU", "AUID", "AD", "CN", "MH", "OT", "PT", "LID", "AID", "IS", "PHST", "LA", "RN"}
)


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the records of a MEDLINE file."""
    number = 0
    record: dict[str, Any] = {}
    start_line = 0
    last_tag = ""
    outside: list[tuple[int, str]] = []
    outside_count = 0
    endings = _Endings()

    with source.open_text() as handle:
        for line_number, line in enumerate(handle, start=1):
            if line[4:6] == "- " and line[:1].isupper():  # "TI  - ...": the common case
                tag, value = line[:4].rstrip(), line[6:].strip()
            elif line[:1] in _INDENT and line.strip():  # "      continued text"
                if record:
                    _continue(record, last_tag, line.strip())
                    continue
                tag, value = "", line
            elif not line.strip():
                if record:
                    endings.check(record, last_tag, number, start_line, notes, at_end=False)
                    yield _to_record(record, number, start_line, notes)
                    record = {}
                continue
            elif match := _TAG_LINE.match(line.lstrip("\ufeff")):  # "ISSN - ...", a BOM
                tag, value = match.group(1), line.lstrip("\ufeff")[match.end() :].strip()
            elif record:  # an unindented continuation, as some tools write them
                _continue(record, last_tag, line.strip())
                continue
            else:
                tag, value = "", line
            if not tag:
                outside_count += 1
                if len(outside) < 3:
                    outside.append((line_number, line.strip()[:80]))
                continue
            if tag == "PMID" and "PMID" in record:  # records not separated by a blank line
                endings.check(record, last_tag, number, start_line, notes, at_end=False)
                yield _to_record(record, number, start_line, notes)
                record = {}
            if not record:
                number += 1
                start_line = line_number
            _add(record, tag, value)
            last_tag = tag

    if record:
        endings.check(record, last_tag, number, start_line, notes, at_end=True)
        yield _to_record(record, number, start_line, notes)
    if outside_count:
        shown = "; ".join(f"line {n}: {text!r}" for n, text in outside)
        more = ", …" if outside_count > len(outside) else ""
        notes.warn(
            f"Skipped {outside_count} line(s) of text that belong to no record "
            f"(no tag like 'PMID- ' before them): {shown}{more}.",
            loses_data=True,
        )


#: Earlier records that must agree on their last tag before a last record without it
#: counts as cut (a hand-written file's records end as they please).
_AGREEING = 3


class _Endings:
    """Spots records cut short. MEDLINE has no end tag, but PubMed writes SO (the source
    citation) as the last line of every record: once the file's earlier records all had
    one, a PubMed record without SO was cut. Otherwise (ERIC, files other tools wrote)
    only the last record is judged, once at least three earlier records all ended with
    the same tag: it must have that tag too. A file of one record cannot be judged."""

    def __init__(self) -> None:
        self.checked = 0
        self.with_so = 0
        self.last_tags: set[str] = set()

    def check(
        self,
        record: dict[str, Any],
        last_tag: str,
        number: int,
        line: int,
        notes: PassNotes,
        *,
        at_end: bool,
    ) -> None:
        cut, why = False, ""
        if "PMID" in record and self.checked and self.with_so == self.checked:
            cut = "SO" not in record
            why = "it has no SO line (the source), which PubMed writes last in every record"
        elif at_end and self.checked >= _AGREEING and len(self.last_tags) == 1:
            usual = next(iter(self.last_tags))
            cut = usual not in record
            why = f"it has no {usual} line, which ends every other record in the file"
        self.checked += 1
        self.with_so += "SO" in record
        self.last_tags.add(last_tag)
        if not cut:
            return
        if at_end:
            message = (
                f"Record {number} (line {line}) is cut short: {why}. A file whose last record "
                "is cut is usually a download that did not finish: export the search again "
                "if you can."
            )
        else:
            message = f"Record {number} (line {line}) is cut short: {why}."
        notes.cut_short(number, line, at_end=at_end, message=message)


def _add(record: dict[str, Any], tag: str, value: str) -> None:
    current = record.get(tag)
    if current is None:
        record[tag] = [value] if tag in LIST_TAGS else value
    elif isinstance(current, list):
        current.append(value)
    else:
        record[tag] = [current, value]


def _continue(record: dict[str, Any], tag: str, text: str) -> None:
    current = record[tag]
    if isinstance(current, list):
        current[-1] = f"{current[-1]} {text}".strip()
    else:
        record[tag] = f"{current} {text}".strip()


def _to_record(raw_tags: dict[str, Any], number: int, line: int, notes: PassNotes) -> ParsedRecord:
    raw = drop_empty(raw_tags)
    pmid = clean_pmid(first_value(raw, "PMID"))
    persons = all_values(raw, "FAU") or all_values(raw, "AU")
    return build_record(
        location=record_location(number, line),
        raw=raw,
        notes=notes,
        # Book records (PubMed Bookshelf) have a book title (BTI) and maybe no TI.
        title=first_value(raw, "TI", "BTI", "CTI"),
        abstract=first_value(raw, "AB"),
        authors=[*persons, *all_values(raw, "CN")],
        year=first_value(raw, "DP", "DEP"),
        journal=first_value(raw, "JT", "TA"),
        volume=first_value(raw, "VI"),
        issue=first_value(raw, "IP"),
        pages=clean_pages(first_value(raw, "PG")),
        doi=_doi(raw),
        pmid=pmid,
        keywords=[*all_values(raw, "MH"), *all_values(raw, "OT")],
        language="; ".join(all_values(raw, "LA")),
        publication_type="; ".join(all_values(raw, "PT")),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
    )


def _doi(raw: dict[str, Any]) -> str:
    """The LID/AID value marked '[doi]'; ERIC writes a doi.org URL without the mark."""
    values = all_values(raw, "LID", "AID")
    for value in values:
        if match := _DOI_MARK.match(value):
            return match.group(1)
    for value in values:
        if doi := find_doi(value):
            return doi
    return ""
