"""Web of Science tagged format (.ciw/.txt "Plain text" export; Zoological Record too).

Two-letter tags, a space, the value; continuation lines start with three spaces (each
author on its own line under AU/AF). FN/VR open the file, PT opens a record, ER closes
it, EF closes the file. rispy supplies the table of tags that repeat; the reading is ours
(`ris.TagCollector`), for the same reasons as in `ris`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rispy.config import WOK_LIST_TYPE_TAGS

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, split_list
from reviewer.imports.notes import OutsideText, PassNotes, record_location
from reviewer.imports.ris import TagCollector
from reviewer.imports.source import SourceFile, all_values, drop_empty, first_value

BOOKKEEPING_KEYS = frozenset({"PT", "ER", "UT"})

_FILE_TAGS = frozenset({"FN", "VR", "EF"})
_TAG = re.compile(r"[A-Z][A-Z0-9]")
_EMAIL = re.compile(r"\s*\([^()]*@[^()]*\)\s*$")


def parse_line(line: str) -> tuple[str, str] | tuple[None, str]:
    """(tag, content); (None, text) for a continuation line, which starts with spaces."""
    if line[:2] == "  ":
        return None, line[3:].strip()
    return line[:2], line[3:].strip()


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the records of a Web of Science tagged file."""
    collector = TagCollector(frozenset(WOK_LIST_TYPE_TAGS))
    number = 0
    record: dict[str, Any] | None = None
    start_line = 0
    last_tag = "PT"
    outside = OutsideText("PT … ER block")

    with source.open_text() as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            line = raw_line.rstrip("\n").lstrip("\ufeff")
            if not line.strip():
                continue
            parsed_tag, content = parse_line(line)
            tag = parsed_tag if parsed_tag and _is_tag(line) else None
            if record is None:
                if tag == "PT":
                    number += 1
                    record, start_line, last_tag = {"PT": content}, line_number, "PT"
                elif tag not in _FILE_TAGS:
                    outside.add(line_number, line)
                continue
            if tag is None:  # a continuation line ("   Majeed, AP")
                collector.extend(record, last_tag, line.strip())
                continue
            if tag == "ER":
                yield _to_record(record, number, start_line, notes)
                record = None
            elif tag == "PT":
                notes.warn(
                    f"Record {number} (line {start_line}) has no end line (ER) before the next "
                    f"record starts on line {line_number}. It was kept as one record; check "
                    "that it is complete and not two records run together.",
                    loses_data=True,
                )
                yield _to_record(record, number, start_line, notes)
                number += 1
                record, start_line, last_tag = {"PT": content}, line_number, "PT"
            elif tag == "EF":
                break
            else:
                collector.add(record, tag, content)
                last_tag = tag

    if record is not None:
        notes.cut_short(
            number,
            start_line,
            at_end=True,
            message=(
                f"Record {number} (line {start_line}) is cut short: the file ends before its "
                "end line (ER). A file whose last record is cut is usually a download that "
                "did not finish: export the search again if you can."
            ),
        )
        yield _to_record(record, number, start_line, notes)
    outside.warn(notes)


def _is_tag(line: str) -> bool:
    """'AU Smith, J' or 'ER': two capitals/digits, then a space or the end of the line."""
    return _TAG.fullmatch(line[:2]) is not None and line[2:3] in ("", " ")


def _to_record(raw_tags: dict[str, Any], number: int, line: int, notes: PassNotes) -> ParsedRecord:
    raw = drop_empty(raw_tags)
    authors = all_values(raw, "AF") or all_values(raw, "AU") or all_values(raw, "CA", "GP")
    keywords = [k for value in all_values(raw, "DE", "ID") for k in split_list(value)]
    return build_record(
        location=record_location(number, line),
        raw=raw,
        notes=notes,
        title=first_value(raw, "TI"),
        abstract=first_value(raw, "AB"),
        # Zoological Record appends e-mail addresses: "Stillman, Andrew N. (a@b.edu)".
        authors=[_EMAIL.sub("", a) for a in authors],
        year=first_value(raw, "PY", "EY", "PD"),
        journal=first_value(raw, "SO", "SE", "BS"),
        volume=first_value(raw, "VL"),
        issue=first_value(raw, "IS"),
        pages=clean_pages(first_value(raw, "BP"), first_value(raw, "EP")),
        doi=first_value(raw, "DI"),
        pmid=first_value(raw, "PM"),
        keywords=keywords,
        language=first_value(raw, "LA"),
        publication_type=first_value(raw, "DT"),
        url=first_value(raw, "UR"),
    )
