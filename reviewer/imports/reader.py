"""Opening an export: `read_file` checks it and returns a `ParsedFile` that streams records.

Nothing is parsed up front beyond what is needed to fail early (the encoding, a
spreadsheet's header and mapping); `ParsedFile.records()` reads the file afresh on every
call, so 100,000 records never sit in memory at once and the importer can insert them in
batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.imports import (
    bibtex,
    delimited,
    endnote_xml,
    medline,
    refer,
    ris,
    tabular,
    wos,
    xlsx,
)
from reviewer.imports.base import ColumnMapping, FileFormat, ParsedRecord, ParseError
from reviewer.imports.decoding import Decoding, choose_decoding, read_head
from reviewer.imports.detect import detect_format
from reviewer.imports.mapping import guess_mapping
from reviewer.imports.notes import CutRecord, Notice, PassNotes
from reviewer.imports.source import SourceFile

RecordReader = Callable[[SourceFile, PassNotes], Iterator[ParsedRecord]]

_READERS: dict[FileFormat, RecordReader] = {
    FileFormat.RIS: ris.read_records,
    FileFormat.MEDLINE: medline.read_records,
    FileFormat.WOS: wos.read_records,
    FileFormat.BIBTEX: bibtex.read_records,
    FileFormat.ENDNOTE_XML: endnote_xml.read_records,
    FileFormat.REFER: refer.read_records,
}

_BOOKKEEPING: dict[FileFormat, frozenset[str]] = {
    FileFormat.RIS: ris.BOOKKEEPING_KEYS,
    FileFormat.MEDLINE: medline.BOOKKEEPING_KEYS,
    FileFormat.WOS: wos.BOOKKEEPING_KEYS,
    FileFormat.BIBTEX: bibtex.BOOKKEEPING_KEYS,
    FileFormat.ENDNOTE_XML: endnote_xml.BOOKKEEPING_KEYS,
    FileFormat.REFER: refer.BOOKKEEPING_KEYS,
    FileFormat.CSV: tabular.BOOKKEEPING_KEYS,
    FileFormat.XLSX: tabular.BOOKKEEPING_KEYS,
}

#: Normalised fields whose presence makes a record worth keeping.
_CONTENT_FIELDS = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "keywords",
    "url",
)


@dataclass(eq=False)
class ParsedFile:
    """An export we can read. `records()` streams its records, a fresh pass per call.

    `encoding` is the codec the text is read with ("utf-8-sig", "cp1252", …; the declared
    one for EndNote XML; "" for Excel workbooks). `warnings` holds what the user should
    know about the file; warnings found while reading are appended during each pass
    (replacing the previous pass's). `columns` and `mapping` are set for CSV/TSV/XLSX only.
    """

    path: Path
    filename: str
    format: FileFormat
    encoding: str
    warnings: list[str] = field(default_factory=list)
    cut_records: list[CutRecord] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    mapping: ColumnMapping = field(default_factory=dict)
    _source: SourceFile | None = field(default=None, repr=False)
    _layout: tabular.TableLayout | None = field(default=None, repr=False)
    _opening_warnings: list[str] = field(default_factory=list, repr=False)

    def records(self) -> Iterator[ParsedRecord]:
        """Yield every record in file order; raise ParseError on a broken or empty file.

        Completely empty records (a type and nothing else) are skipped and counted in a
        warning; records without a title are kept. NUL characters are removed from every
        value (no database column can hold one: PostgreSQL refuses them), with a warning.
        Records the file visibly cut short are listed in `cut_records` by the end of a pass.
        """
        assert self._source is not None, "use read_file() to make a ParsedFile"
        self.warnings[:] = self._opening_warnings
        self.cut_records.clear()
        notes = PassNotes(self.warnings, self.cut_records)
        bookkeeping = _BOOKKEEPING[self.format]
        count = 0
        for record in self._read(notes):
            if _is_empty(record, bookkeeping):
                notes.skipped_empty(record.location)
                continue
            if _strip_nul(record):
                notes.removed_nul(record.location)
            count += 1
            yield record
        notes.finish()
        if count == 0:
            raise ParseError(
                f"no records found; is this a {self.format.label} export?",
                filename=self.filename,
            )

    def _read(self, notes: PassNotes) -> Iterator[ParsedRecord]:
        assert self._source is not None
        if self.format is FileFormat.CSV:
            assert self._layout is not None
            return delimited.read_csv_records(self._source, self._layout, self.mapping, notes)
        if self.format is FileFormat.XLSX:
            assert self._layout is not None
            return xlsx.read_xlsx_records(self._source, self._layout, self.mapping, notes)
        return _READERS[self.format](self._source, notes)


def read_file(
    path: Path,
    *,
    filename: str,
    fmt: FileFormat | None = None,
    mapping: ColumnMapping | None = None,
) -> ParsedFile:
    """Check a file and prepare to read it as `fmt` (detected from content when None).

    Raises ParseError when the file cannot be read at all: empty, binary (a PDF given as
    RIS), of no format we know, or a table with no column we can use as the title.
    """
    detection = detect_format(path, filename)
    # a reason that starts with the file's name says it once ("x.pdf is a PDF document")
    named = "" if filename and detection.reason.startswith(filename) else filename
    if detection.refused:
        raise ParseError(detection.reason, filename=named)
    chosen = FileFormat(fmt) if fmt else detection.format
    if chosen is None:
        raise ParseError(detection.reason, filename=named)
    warnings: list[str] = []
    if detection.format is not None and detection.format is not chosen:
        warnings.append(
            Notice(
                f"Read as {chosen.label} as chosen, though the content looks like "
                f"{detection.format.label} ({detection.reason}).",
                loses_data=True,
            )
        )

    if chosen is FileFormat.XLSX:
        source = SourceFile(path, filename, Decoding("utf-8"))
        layout, sheet_warnings = xlsx.xlsx_layout(source)
        warnings += sheet_warnings
        return _tabular_file(source, chosen, "", layout, mapping, warnings)

    decoding = _decoding_for(path, chosen)
    if decoding.warning:  # the encoding was guessed, or bad bytes replaced
        warnings.append(Notice(decoding.warning, loses_data=True))
    source = SourceFile(path, filename, decoding)
    if chosen is FileFormat.CSV:
        layout = delimited.csv_layout(source)
        return _tabular_file(source, chosen, decoding.encoding, layout, mapping, warnings)
    encoding = decoding.encoding
    if chosen is FileFormat.ENDNOTE_XML:
        encoding = endnote_xml.declared_encoding(read_head(path))
    return ParsedFile(
        path=path,
        filename=filename,
        format=chosen,
        encoding=encoding,
        warnings=list(warnings),
        _source=source,
        _opening_warnings=warnings,
    )


def _decoding_for(path: Path, fmt: FileFormat) -> Decoding:
    if fmt is FileFormat.ENDNOTE_XML:
        return Decoding("utf-8")  # expat decodes XML itself, from its declaration or BOM
    return choose_decoding(path)


def _tabular_file(
    source: SourceFile,
    fmt: FileFormat,
    encoding: str,
    layout: tabular.TableLayout,
    mapping: ColumnMapping | None,
    warnings: list[str],
) -> ParsedFile:
    chosen_mapping = dict(mapping) if mapping else guess_mapping(layout.columns)
    chosen_mapping = tabular.require_title(source, layout, chosen_mapping)
    unit = "line" if fmt is FileFormat.CSV else "row"
    warnings = warnings + tabular.describe_layout(layout, unit=unit)
    return ParsedFile(
        path=source.path,
        filename=source.filename,
        format=fmt,
        encoding=encoding,
        warnings=list(warnings),
        columns=list(layout.columns),
        mapping=chosen_mapping,
        _source=source,
        _layout=layout,
        _opening_warnings=warnings,
    )


def _is_empty(record: ParsedRecord, bookkeeping: frozenset[str]) -> bool:
    """True when a record holds no bibliographic content: no field, no raw value beyond
    its type or id (`TY  - GEN` then `ER  -`, a blank spreadsheet row)."""
    if any(getattr(record, name) for name in _CONTENT_FIELDS):
        return False
    return not any(key not in bookkeeping and _has_text(value) for key, value in record.raw.items())


def _has_text(value: object) -> bool:
    if isinstance(value, list):
        return any(_has_text(item) for item in value)
    return bool(str(value).strip()) if value is not None else False


def without_nul(value: Any) -> Any:
    """`value` (text, or lists and dicts of it, as JSON holds) with NUL characters removed."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


def _strip_nul(record: ParsedRecord) -> bool:
    """Remove NUL characters from every value of the record; True when there were any."""
    names = (*_CONTENT_FIELDS, "language", "publication_type")
    if not _has_nul(record.raw) and not any(_has_nul(getattr(record, n)) for n in names):
        return False
    found = False
    for name in names:
        value = getattr(record, name)
        cleaned = without_nul(value)
        if cleaned != value:
            setattr(record, name, cleaned)
            found = True
    raw = without_nul(record.raw)
    if raw != record.raw:
        record.raw = raw
        found = True
    return found
