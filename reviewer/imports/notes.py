"""Warnings gathered during one reading pass, and how records are referred to in them.

Some problems are worth one line per occurrence (a truncated record); others would flood
the screen (3,000 records with "n.d." as their year) and are counted, with a few examples.

Warnings come in two ranks. A `Notice` with `loses_data` says that something in the file
is lost, cut or guessed (a truncated record, skipped text, a guessed encoding, a year left
blank); the preview lists those first and sets them apart. Any other warning is
informational ("8 records have no abstract").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: How many record numbers a warning lists before "…".
MAX_LISTED = 5
#: How many skipped lines a warning quotes.
_MAX_EXAMPLES = 3

_REF = re.compile(r"(record|row) (\d+)")


class Notice(str):
    """A warning's text, marked when it tells of data lost, cut or guessed.

    A `str`, so everything that shows, joins or compares warnings keeps working; plain
    strings count as informational.
    """

    loses_data: bool

    def __new__(cls, text: str, *, loses_data: bool = False) -> Notice:
        notice = super().__new__(cls, text)
        notice.loses_data = loses_data
        return notice


def loses_data(warning: str) -> bool:
    """Whether a warning tells of data lost, cut or guessed (see `Notice`)."""
    return bool(getattr(warning, "loses_data", False))


def ranked(warnings: list[str]) -> list[str]:
    """Data-losing warnings first, each rank in the order found."""
    return sorted(warnings, key=lambda warning: not loses_data(warning))


@dataclass(frozen=True, slots=True)
class CutRecord:
    """A record the file visibly cut short: where it starts, and whether it is the
    file's last record (the sign of a download that stopped half-way)."""

    record: int
    line: int
    at_end: bool


def record_location(number: int, line: int | None = None) -> str:
    """'record 12, line 340' (or 'record 12' when the line is unknown)."""
    return f"record {number}, line {line}" if line is not None else f"record {number}"


def row_location(line: int) -> str:
    """'row 57': where a CSV/XLSX record sits, numbered as a spreadsheet shows it."""
    return f"row {line}"


def short_ref(location: str) -> tuple[str, int]:
    """('record', 12) from 'record 12, line 340'; ('row', 57) from 'row 57'."""
    match = _REF.match(location)
    if not match:
        return ("record", 0)
    return (match.group(1), int(match.group(2)))


def refs_phrase(locations: list[str], total: int) -> str:
    """'records 4, 9' or 'rows 5, 7, 8, 10, 11, …' for the first few of `total` locations."""
    refs = [short_ref(loc) for loc in locations[:MAX_LISTED]]
    if not refs:
        return ""
    noun = refs[0][0]
    numbers = ", ".join(str(n) for _, n in refs)
    more = ", …" if total > len(refs) else ""
    plural = "s" if total > 1 else ""
    return f"{noun}{plural} {numbers}{more}"


def count_phrase(count: int, singular: str, plural: str) -> str:
    """'1 record has' / '3 records have'."""
    return f"{count} {singular if count == 1 else plural}"


class PassNotes:
    """Collects warnings while the records of a file are read once.

    Immediate warnings go straight into `sink` (the `ParsedFile.warnings` list the caller
    sees); counted ones are added by `finish()` when the pass ends.
    """

    def __init__(self, sink: list[str], cut: list[CutRecord] | None = None) -> None:
        self.sink = sink
        self.cut = cut if cut is not None else []
        self._bad_years: list[tuple[str, str]] = []
        self._bad_year_count = 0
        self._empty: list[str] = []
        self._empty_count = 0
        self._nul: list[str] = []
        self._nul_count = 0

    def warn(self, message: str, *, loses_data: bool = False) -> None:
        self.sink.append(Notice(message, loses_data=loses_data))

    def cut_short(self, record: int, line: int, *, at_end: bool, message: str) -> None:
        """A record the file visibly cut short: listed, and refused unless accepted."""
        self.cut.append(CutRecord(record, line, at_end))
        self.warn(message, loses_data=True)

    def unreadable_year(self, location: str, text: str) -> None:
        self._bad_year_count += 1
        if len(self._bad_years) < MAX_LISTED:
            self._bad_years.append((location, text))

    def skipped_empty(self, location: str) -> None:
        self._empty_count += 1
        if len(self._empty) < MAX_LISTED:
            self._empty.append(location)

    def removed_nul(self, location: str) -> None:
        self._nul_count += 1
        if len(self._nul) < MAX_LISTED:
            self._nul.append(location)

    def finish(self) -> None:
        """Add the counted warnings; call once at the end of a complete pass."""
        if self._bad_year_count:
            noun, number = short_ref(self._bad_years[0][0])
            example = self._bad_years[0][1]
            self.warn(
                f"{count_phrase(self._bad_year_count, 'record has', 'records have')} an "
                f"unreadable year (e.g. {noun} {number}: {example!r}); their year is left "
                "blank.",
                loses_data=True,
            )
        if self._empty_count:
            rows = short_ref(self._empty[0])[0] == "row"
            why = "every cell is blank" if rows else "they hold nothing but a record type or id"
            self.warn(
                f"{count_phrase(self._empty_count, 'empty record was', 'empty records were')} "
                f"skipped ({refs_phrase(self._empty, self._empty_count)}): {why}.",
                loses_data=True,
            )
        if self._nul_count:
            self.warn(
                f"{count_phrase(self._nul_count, 'record holds', 'records hold')} NUL "
                f"characters ({refs_phrase(self._nul, self._nul_count)}), a sign of a damaged "
                "export; they were removed, the rest of the text is kept."
            )


class OutsideText:
    """Non-blank lines outside any record (export headers, Ovid's "1." numbering), counted
    with a few examples for one warning. `block`: what a record looks like in the format
    ("TY … ER block")."""

    def __init__(self, block: str) -> None:
        self.block = block
        self.count = 0
        self.examples: list[tuple[int, str]] = []

    def add(self, line_number: int, line: str) -> None:
        text = line.strip().lstrip("\ufeff")
        if not text:
            return
        self.count += 1
        if len(self.examples) < _MAX_EXAMPLES:
            self.examples.append((line_number, text[:80]))

    def warn(self, notes: PassNotes) -> None:
        """The warning, when any line was skipped."""
        if not self.count:
            return
        shown = "; ".join(f"line {n}: {text!r}" for n, text in self.examples)
        more = ", …" if self.count > len(self.examples) else ""
        noun = "line" if self.count == 1 else "lines"
        notes.warn(
            f"Skipped {self.count} {noun} of text outside records (not part of any "
            f"{self.block}): {shown}{more}.",
            loses_data=True,
        )
