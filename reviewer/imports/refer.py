"""EndNote / Refer tagged format ("%0 Journal Article", "%T title", one tag per line).

EndNote's "EndNote Export" and "Refer/BibIX" styles write it (.enw, .enl, .txt), and some
databases offer it as their EndNote download (the AIS eLibrary, EBSCOhost's "Generic
bibliographic management software"). A tag is a percent sign, one character and a space;
a record is a block of tags, records are separated by blank lines (a second "%0" type
line also opens the next record), and a line that does not start with a tag continues the
tag before it (a wrapped abstract). There is no end line, so a record cut short by a
failed download cannot be told from a complete one.

No maintained Python library reads it (rispy reads RIS, bibtexparser BibTeX), and the
format is a dozen lines of rules, so the reading is ours. The tags are EndNote's Refer
tags; the raw record keeps every tag, as "%T".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, split_list
from reviewer.imports.notes import OutsideText, PassNotes, record_location
from reviewer.imports.source import SourceFile, all_values, drop_empty, first_value

#: Raw keys that do not make a record non-empty on their own.
BOOKKEEPING_KEYS = frozenset({"%0", "%F"})

#: "%A Smith, J": a percent sign, a character, then a space or the end of the line.
_TAG = re.compile(r"%([0-9A-Za-z@!#$&()*+^~>\[\]|?])(?: |$)")
#: Tags that repeat: authors, editors, keywords, notes, links, and their kin.
_REPEATED = frozenset({"%A", "%E", "%Y", "%?", "%K", "%Z", "%U", "%>", "%H", "%+"})
#: The journal's tag in Refer proper; EndNote writes it as the secondary title (%B).
_JOURNAL_TYPES = re.compile(r"journal|magazine|newspaper|article", re.I)


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the records of an EndNote/Refer tagged file."""
    number = 0
    record: dict[str, Any] | None = None
    start_line = 0
    last_tag = ""
    outside = OutsideText("block of tags")

    with source.open_text() as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            line = raw_line.rstrip("\r\n").lstrip("\ufeff")
            if not line.strip():
                if record is not None:
                    yield _to_record(record, number, start_line, notes)
                    record = None
                continue
            match = _TAG.match(line)
            if match is None:
                if record is not None and last_tag:
                    _extend(record, last_tag, line.strip())
                else:
                    outside.add(line_number, line)
                continue
            tag, content = f"%{match.group(1)}", line[match.end() :].strip()
            if record is not None and tag == "%0" and "%0" in record:
                # a record's type line opens the next record even without a blank line
                yield _to_record(record, number, start_line, notes)
                record = None
            if record is None:
                number += 1
                record, start_line = {}, line_number
            _add(record, tag, content)
            last_tag = tag

    if record is not None:
        yield _to_record(record, number, start_line, notes)
    outside.warn(notes)


def _add(record: dict[str, Any], tag: str, content: str) -> None:
    if tag in _REPEATED:
        record.setdefault(tag, []).append(content)
    elif tag in record:  # a single-valued tag given twice: keep both, the first counts
        earlier = record[tag]
        record[tag] = [*earlier, content] if isinstance(earlier, list) else [earlier, content]
    else:
        record[tag] = content


def _extend(record: dict[str, Any], tag: str, text: str) -> None:
    """A continuation line: appended to the tag's last value, with a space."""
    value = record[tag]
    if isinstance(value, list):
        value[-1] = f"{value[-1]} {text}".strip()
    else:
        record[tag] = f"{value} {text}".strip()


def _to_record(raw_tags: dict[str, Any], number: int, line: int, notes: PassNotes) -> ParsedRecord:
    raw = drop_empty(raw_tags)
    kind = first_value(raw, "%0")
    journal = first_value(raw, "%J")
    if not journal and (not kind or _JOURNAL_TYPES.search(kind)):
        journal = first_value(raw, "%B")
    return build_record(
        location=record_location(number, line),
        raw=raw,
        notes=notes,
        title=first_value(raw, "%T"),
        abstract=first_value(raw, "%X"),
        authors=all_values(raw, "%A"),
        year=first_value(raw, "%D", "%8"),
        journal=journal,
        volume=first_value(raw, "%V"),
        issue=first_value(raw, "%N"),
        pages=clean_pages(first_value(raw, "%P"), ""),
        doi=first_value(raw, "%R"),
        keywords=[k for value in all_values(raw, "%K") for k in split_list(value)],
        language=first_value(raw, "%G"),
        publication_type=kind or first_value(raw, "%9"),
        url=first_value(raw, "%U"),
    )
