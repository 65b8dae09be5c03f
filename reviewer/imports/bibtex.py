"""BibTeX (.bib from Scopus, WoS, ACM, EBSCO, Wiley, Zotero, JabRef, ...), via bibtexparser v2.

bibtexparser parses a whole string, so we hand it the file in slices of a few hundred
entries (cut where a line starts a new `@entry{`), carrying `@string` macros forward:
memory stays flat for big files and line numbers stay right. Blocks bibtexparser could
not parse are entries we would lose, so they stop the import with their line number;
duplicate keys or fields only warn, because the entry itself is intact.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares import LatexDecodingMiddleware
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, clean_text, split_list
from reviewer.imports.notes import PassNotes, record_location
from reviewer.imports.source import SourceFile

BOOKKEEPING_KEYS = frozenset({"ENTRYTYPE", "ID"})

#: Entries parsed per bibtexparser call.
SLICE_ENTRIES = 500

_ENTRY_START = re.compile(r"\s*@\s*[A-Za-z]+\s*[{(]")
_NOT_ENTRIES = re.compile(r"\s*@\s*(comment|preamble|string)\b", re.I)
_HTML_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.I)
_LATEX_ESCAPE = re.compile(r"\\([_%&#$])")
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&])")
# What LaTeX decoding changes: commands, groups, math, ties, dashes and TeX quotes.
_LATEX_MARKUP = re.compile(r"[\\{}$~]|--|``|''")

#: Fields whose text is not LaTeX (a "%" in a URL is not a comment).
VERBATIM_FIELDS = frozenset(
    {"url", "doi", "pmid", "eprint", "file", "pdf", "link", "issn", "isbn", "author", "editor"}
)


class _LatexDecoding(LatexDecodingMiddleware):
    """LaTeX -> Unicode ({\\"u} -> ü, braces dropped), except for verbatim fields.

    Names are decoded one by one after splitting, because decoding first would strip the
    braces that protect a corporate author like {Barnes and Noble} from the split. The
    values as written are kept (`originals`) for the raw record.
    """

    def __init__(self) -> None:
        super().__init__()
        self.originals: dict[int, list[tuple[str, str]]] = {}

    def transform_entry(self, entry: Entry, library: Library) -> Any:
        self.originals[id(entry)] = [(f.key, _as_text(f.value)) for f in entry.fields]
        kept = [(f, f.value) for f in entry.fields if f.key.lower() in VERBATIM_FIELDS]
        result = super().transform_entry(entry, library)
        for field, value in kept:
            field.value = value
        return result

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        text = html.unescape(python_string) if _HTML_ENTITY.search(python_string) else python_string
        if not _LATEX_MARKUP.search(text):
            return text, ""  # plain text: pylatexenc is slow (it walks every character)
        # Exporters rarely escape % and &; to LaTeX they start a comment (dropping the rest
        # of the line: "50% of patients" -> "50") and a table cell. Treat them as text.
        return super()._transform_python_value_string(_BARE_SPECIAL.sub(r"\\\1", text))

    def decode(self, text: str) -> str:
        decoded, error = self._transform_python_value_string(text)
        return decoded if not error else text


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the entries of a BibTeX file, slice by slice."""
    decoding = _LatexDecoding()
    strings: list[String] = []
    number = 0
    for first_line, text in _slices(source):
        library = Library(blocks=list(strings)) if strings else None
        library = parse_string(text, append_middleware=[decoding], library=library)
        for block in library.blocks:
            line = (block.start_line or 0) + first_line
            if isinstance(block, String):
                if block not in strings:
                    strings.append(block)
                continue
            entry = _entry_of(block, line, source, notes, number + 1)
            if entry is None:
                continue
            number += 1
            yield _to_record(entry, number, line, notes, decoding)
        decoding.originals.clear()


def _slices(source: SourceFile) -> Iterator[tuple[int, str]]:
    """(1-based first line, text) chunks of about SLICE_ENTRIES entries each."""
    lines: list[str] = []
    first_line = 1
    entries = 0
    with source.open_text() as handle:
        for line_number, line in enumerate(handle, start=1):
            if _ENTRY_START.match(line) and not _NOT_ENTRIES.match(line):
                if entries >= SLICE_ENTRIES:
                    yield first_line, "".join(lines)
                    lines, first_line, entries = [], line_number, 0
                entries += 1
            lines.append(line)
    if lines:
        yield first_line, "".join(lines)


def _entry_of(
    block: Any, line: int, source: SourceFile, notes: PassNotes, number: int
) -> Entry | None:
    """The entry a block holds; warn about repairable problems, raise on lost entries."""
    if isinstance(block, Entry):
        return block
    if isinstance(block, DuplicateBlockKeyBlock):
        notes.warn(
            f"Line {line}: the entry key '{block.key}' is used twice; both entries were kept."
        )
        return _recovered(block, line, source, number)
    if isinstance(block, DuplicateFieldKeyBlock):
        keys = ", ".join(sorted(block.duplicate_keys))
        notes.warn(
            f"Line {line}: the entry has the field(s) {keys} more than once; the first value "
            "is used and all are kept in the raw record."
        )
        return _recovered(block, line, source, number)
    if isinstance(block, MiddlewareErrorBlock):
        notes.warn(f"Line {line}: some LaTeX could not be decoded; the text is kept as written.")
        return _recovered(block, line, source, number)
    if isinstance(block, ParsingFailedBlock):
        raw = (block.raw or "").strip()
        if not raw.startswith("@") or _NOT_ENTRIES.match(raw):
            notes.warn(
                f"Line {line}: skipped text that is not an entry: {raw[:60]!r}.", loses_data=True
            )
            return None
        error = block.error
        reason = clean_text(getattr(error, "abort_reason", "") or str(error)).rstrip(".")
        raise source.error(
            f"this BibTeX entry could not be read ({reason or 'syntax error'}). Fix the "
            "entry (often an unbalanced brace or a missing comma) and upload the file again.",
            line=line,
            record=number,
        )
    return None


def _recovered(block: Any, line: int, source: SourceFile, number: int) -> Entry:
    """The entry bibtexparser rebuilt around a repairable error; never dropped silently."""
    entry = block.ignore_error_block
    if not isinstance(entry, Entry):
        raise source.error("this BibTeX entry could not be read.", line=line, record=number)
    return entry


def _to_record(
    entry: Entry, number: int, line: int, notes: PassNotes, decoding: _LatexDecoding
) -> ParsedRecord:
    raw: dict[str, Any] = {"ENTRYTYPE": entry.entry_type, "ID": entry.key}
    originals = decoding.originals.get(id(entry)) or [
        (f.key, _as_text(f.value)) for f in entry.fields
    ]
    for key, value in originals:
        if key in raw:  # a duplicated field: keep every value
            previous = raw[key]
            raw[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            raw[key] = value
    fields: dict[str, str] = {}
    for field in entry.fields:
        key, value = field.key.lower(), _as_text(field.value)
        if key in VERBATIM_FIELDS and key not in ("author", "editor"):
            value = _unescape(_LATEX_ESCAPE.sub(r"\1", value))  # "10.1/x\_3" is "10.1/x_3"
        fields.setdefault(key, value)

    def get(*keys: str) -> str:
        return next((fields[k] for k in keys if fields.get(k, "").strip()), "")

    keywords_text = get("keywords", "keyword", "author_keywords")
    separators = ";" if ";" in keywords_text else ","
    pmid = get("pmid", "pubmed")
    if not pmid and get("eprinttype").lower() == "pubmed":
        pmid = get("eprint")
    return build_record(
        location=record_location(number, line),
        raw=raw,
        notes=notes,
        title=get("title"),
        abstract=get("abstract"),
        authors=_names(get("author"), decoding),
        year=get("year", "date"),
        journal=get("journal", "journaltitle", "booktitle", "series"),
        volume=get("volume"),
        issue=get("number", "issue"),
        pages=clean_pages(get("pages")),
        doi=get("doi"),
        pmid=pmid,
        keywords=split_list(keywords_text, separators),
        language=get("language", "langid"),
        publication_type=entry.entry_type,
        url=get("url"),
    )


def _names(value: str, decoding: _LatexDecoding) -> list[str]:
    """Split 'A and B and {C and D}' at top-level 'and's, then decode each name."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", value, re.I):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            names.append(value[start : match.start()])
            start = match.end()
    names.append(value[start:])
    return [clean_text(decoding.decode(name)) for name in names if name.strip()]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _unescape(value: str) -> str:
    """Some exporters (WoS) put HTML entities in BibTeX: 'A dummy title&apos;s'."""
    return html.unescape(value) if _HTML_ENTITY.search(value) else value
