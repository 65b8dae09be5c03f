"""RIS (Embase, Scopus, Ovid, CINAHL, EndNote, Zotero, Mendeley, Rayyan, ...).

rispy supplies the tables: which tags repeat and the names of the reference types. The
reading is ours (`TagCollector`: repeated tags become lists, untagged lines continue the
previous tag) because rispy's `load` builds one big list and silently drops a last record
that lacks its `ER` line. We stream, count lines, report a truncated last record (which
the import refuses unless the user accepts it), and say what text outside records we
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rispy.config import LIST_TYPE_TAGS, TYPE_OF_REFERENCE_MAPPING

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, clean_pmid, find_doi, split_list
from reviewer.imports.notes import OutsideText, PassNotes, record_location
from reviewer.imports.source import SourceFile, all_values, drop_empty, first_value

#: Raw keys that do not make a record non-empty on their own.
BOOKKEEPING_KEYS = frozenset({"TY", "ER", "ID"})

# "TY  - JOUR" per the spec, but exporters also write "A1\t- ", "KW - x", "PMID  - 123".
_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]{1,3})[ \t]{1,4}-(?:[ \t]|$)")
_EXPLICIT_PMID = re.compile(
    r"(?:\bPMID\b|\bPUBMED\b)\s*(?:ID)?\s*[:=]?\s*(\d{1,9})\b"
    r"|pubmed\.ncbi\.nlm\.nih\.gov/(\d{1,9})\b"
    r"|ncbi\.nlm\.nih\.gov/pubmed/(\d{1,9})\b",
    re.I,
)
#: A reference-list entry: "Author, A. (2018). Title. Journal, ..." (Ovid PsycINFO writes the
#: record's cited references as M1 lines, each with its own PubMed link).
_CITATION = re.compile(r"\(\d{4}[a-z]?\)[.,]")
_AFTER_DASH = frozenset({" ", "\n", ""})
_PUBMED_DATABASE = re.compile(r"\b(nlm|pubmed|medline)\b", re.I)
_DOCUMENT_TYPE = re.compile(r"[A-Za-z][A-Za-z \-]{1,40}")


class TagCollector:
    """A record's values by the file's own tags (RIS here, Web of Science in `wos`).

    Repeated tags are kept, never dropped: a tag that may repeat (`list_tags`, rispy's
    tables of them) always holds a list; any other tag holds its text, and becomes the list
    of its values when a file repeats it. A continuation line adds an item to a list tag
    and more text to any other. This is what rispy's parsers do with their tag mapping
    switched off and `enforce_list_tags=False`; it is written here because that
    bookkeeping is private in rispy (`RisParser._add_tag`), and rispy's public `load`
    builds the whole file as one list and drops a last record without its end line.
    """

    def __init__(self, list_tags: frozenset[str]) -> None:
        self.list_tags = list_tags

    def add(self, record: dict[str, Any], tag: str, content: str) -> None:
        """A tagged line."""
        if tag not in record:
            record[tag] = [content] if tag in self.list_tags else content
            return
        current = record[tag]
        if isinstance(current, list):
            current.append(content)
        else:
            record[tag] = [current, content]

    def extend(self, record: dict[str, Any], tag: str, content: str) -> None:
        """A continuation line of `tag`: a new item of a list tag, more text otherwise."""
        if tag in self.list_tags or tag not in record:
            self.add(record, tag, content)
            return
        current = record[tag]
        if isinstance(current, list):
            current[-1] = f"{current[-1]} {content}"
        else:
            record[tag] = f"{current} {content}"


def parse_line(line: str) -> tuple[str, str] | tuple[None, str]:
    """(tag, content) of a tagged line (`_TAG_LINE`), (None, text) of an untagged one."""
    if line[2:5] == "  -" and line[5:6] in _AFTER_DASH and line[:2].isupper():
        return line[:2], line[6:].strip()  # the common case, without a regex
    match = _TAG_LINE.match(line)
    if match:
        return match.group(1), line[match.end() :].strip()
    return None, line.strip()


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the records of a RIS file."""
    collector = TagCollector(frozenset(LIST_TYPE_TAGS))
    outside = OutsideText("TY … ER block")
    number = 0
    record: dict[str, Any] | None = None
    start_line = 0
    last_tag = "TY"
    after_blank: list[tuple[int, str]] | None = None  # untagged lines after a blank line
    add_tag = collector.add

    with source.open_text() as handle:
        for line_number, line in enumerate(handle, start=1):
            if record is None:
                if line.startswith("\ufeff"):  # several exports pasted into one file
                    line = line[1:]
                tag, content = parse_line(line)
                if tag == "TY":
                    number += 1
                    record, start_line, last_tag = {"TY": content}, line_number, "TY"
                    after_blank = None
                else:
                    outside.add(line_number, line)
                continue

            if line[2:5] == "  -" and line[5:6] in _AFTER_DASH and line[:2].isupper():
                tag, content = line[:2], line[6:].strip()  # the common case, inlined for speed
            elif not line.strip():
                if after_blank is None:
                    after_blank = []
                continue
            else:
                tag, content = parse_line(line)
            if tag is None:
                if after_blank is not None:
                    after_blank.append((line_number, line))
                else:
                    collector.extend(record, last_tag, content)
                continue

            if tag == "TY":  # a new record began before this one's ER
                for skipped in after_blank or ():
                    outside.add(*skipped)
                notes.warn(
                    f"Record {number} (line {start_line}) has no end line (ER  -) before the "
                    f"next record starts on line {line_number}. It was kept as one record; "
                    "check that it is complete and not two records run together.",
                    loses_data=True,
                )
                yield _to_record(record, number, start_line, notes)
                number += 1
                record, start_line, last_tag = {"TY": content}, line_number, "TY"
                after_blank = None
                continue

            for _, text in after_blank or ():  # text after a blank line, then more tags
                collector.extend(record, last_tag, text.strip())
            after_blank = None
            if tag == "ER":
                yield _to_record(record, number, start_line, notes)
                record = None
                continue
            add_tag(record, tag, content)
            last_tag = tag

    if record is not None:
        for skipped in after_blank or ():
            outside.add(*skipped)
        notes.cut_short(
            number,
            start_line,
            at_end=True,
            message=(
                f"Record {number} (line {start_line}) is cut short: the file ends before its "
                "end line (ER  -). A file whose last record is cut is usually a download that "
                "did not finish: export the search again if you can."
            ),
        )
        yield _to_record(record, number, start_line, notes)
    outside.warn(notes)


def _to_record(raw_tags: dict[str, Any], number: int, line: int, notes: PassNotes) -> ParsedRecord:
    raw = drop_empty(raw_tags)
    urls = [u for value in all_values(raw, "UR") for u in re.split(r"[;\s]+", value) if u]
    doi = first_value(raw, "DO") or _doi_elsewhere(raw)
    return build_record(
        location=record_location(number, line),
        raw=raw,
        notes=notes,
        title=first_value(raw, "TI", "T1", "CT", "BT", "ST"),
        abstract=first_value(raw, "AB", "N2"),
        authors=_primary_authors(raw),
        year=first_value(raw, "PY", "Y1", "DA"),
        journal=first_value(raw, "JF", "T2", "JO", "J2", "JA"),
        volume=first_value(raw, "VL", "VO"),
        issue=first_value(raw, "IS", "CP"),
        pages=clean_pages(first_value(raw, "SP"), first_value(raw, "EP")),
        doi=doi,
        pmid=_pmid(raw),
        keywords=[k for value in all_values(raw, "KW") for k in split_list(value)],
        language=first_value(raw, "LA"),
        publication_type=_publication_type(raw),
        url=urls[0] if urls else first_value(raw, "L2", "LK"),
    )


def _primary_authors(raw: dict[str, Any]) -> list[str]:
    """AU, then A1 names not already under AU (some exporters write both).

    Repeats within one tag stay: two co-authors may share a name.
    """
    authors = all_values(raw, "AU")
    listed = set(authors)
    return authors + [name for name in all_values(raw, "A1") if name not in listed]


def _doi_elsewhere(raw: dict[str, Any]) -> str:
    """A DOI some exporters put in notes or links ('M3  - doi:10...', a doi.org URL)."""
    for value in all_values(raw, "M3", "N1", "UR", "L3", "L2", "LK", "DI"):
        if doi := find_doi(value):
            return doi
    return ""


def _pmid(raw: dict[str, Any]) -> str:
    """A PubMed id only where the exporter clearly means one.

    AN is an accession number *of the database searched*: a PMID from PubMed/MEDLINE
    (EndNote and Ovid MEDLINE exports, DP/DB 'NLM'/'MEDLINE'), an Embase or WoS id
    elsewhere. Embase.com puts the MEDLINE PMID in C5, Scopus in C2; Cochrane writes
    'PUBMED 123' in C3. Elsewhere a PMID written out in a note or link counts, unless it
    is another work's: a value that reads as a reference-list entry, or a tag whose values
    name several PMIDs (a list of cited works). When unsure we leave it blank rather than
    store a wrong PMID: a wrong one shows a wrong PubMed link and keeps two copies of the
    same paper apart in de-duplication (different PMIDs mean different papers).
    """
    if pmid := clean_pmid(first_value(raw, "PMID")):
        return pmid
    databases = " ".join(all_values(raw, "DB", "DP"))
    pubmed = _PUBMED_DATABASE.search(databases) is not None
    embase = "embase" in databases.lower()
    if pubmed and not embase and (pmid := clean_pmid(first_value(raw, "AN"))):
        return pmid
    if embase and (pmid := clean_pmid(first_value(raw, "C5"))):
        return pmid
    if "scopus" in databases.lower() and (pmid := clean_pmid(first_value(raw, "C2"))):
        return pmid
    for tag in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "N1", "M1", "M2", "AN", "UR", "L2"):
        named: set[str] = set()
        for value in all_values(raw, tag):
            lowered = value.lower()
            if "pmid" not in lowered and "pubmed" not in lowered:
                continue  # cheap test first: notes can be long
            if _CITATION.search(value):
                continue  # an entry of the record's reference list: another work's PMID
            named |= {g for m in _EXPLICIT_PMID.finditer(value) for g in m.groups() if g}
        if len(named) == 1:
            return named.pop()
        # several: the tag lists other works (Ovid PsycINFO's cited references are M1s)
    return ""


def _publication_type(raw: dict[str, Any]) -> str:
    """M3 when it names a document type (Embase, Scopus: 'Article', 'Review'), else TY.

    Ovid PsycINFO puts subject classifications in M3 and some exporters a DOI, so M3 is
    only used when it looks like a type.
    """
    work_type = first_value(raw, "M3").strip()
    if work_type and _DOCUMENT_TYPE.fullmatch(work_type):
        return work_type
    code = first_value(raw, "TY").strip()
    return str(TYPE_OF_REFERENCE_MAPPING.get(code.upper(), code))
