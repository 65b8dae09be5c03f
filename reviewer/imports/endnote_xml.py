"""EndNote XML (File > Export > XML), read as a stream with defusedxml's iterparse.

Each `<record>` is handled and then cleared, so memory does not grow with the file. Text
sits inside `<style>` elements (EndNote's formatting runs), sometimes split over several.
defusedxml refuses entity tricks (billion laughs, external entities) in uploaded files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET

from reviewer.imports.base import ParsedRecord
from reviewer.imports.normalise import build_record, clean_pages, clean_pmid, clean_text
from reviewer.imports.notes import PassNotes, record_location
from reviewer.imports.source import SourceFile, all_values, first_value

BOOKKEEPING_KEYS = frozenset(
    {"database", "source-app", "rec-number", "foreign-keys/key", "ref-type", "ref-type@name"}
)

_PUBMED_DATABASE = re.compile(r"\b(nlm|pubmed|medline)\b", re.I)
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_LEAF_TAGS = frozenset({"style"})


def declared_encoding(head: bytes) -> str:
    """The encoding the XML declaration names ('utf-8' when it names none)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    match = _DECLARED_ENCODING.search(head[:200])
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def read_records(source: SourceFile, notes: PassNotes) -> Iterator[ParsedRecord]:
    """Stream the `<record>` elements of an EndNote XML file."""
    number = 0
    parent: ET.Element | None = None
    try:
        for event, element in DET.iterparse(str(source.path), events=("start", "end")):
            if event == "start":
                if parent is None and element.tag in ("records", "xml"):
                    parent = element
                continue
            if element.tag != "record":
                continue
            number += 1
            yield _to_record(element, number, notes)
            element.clear()
            if parent is not None and element in parent:
                parent.remove(element)
    except ET.ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise source.error(
            f"the XML is malformed ({_expat_reason(error)}, column {column}); the file may "
            "be truncated or edited by hand. Export it from EndNote again.",
            line=line,
            record=number + 1,
        ) from error
    except defusedxml.DefusedXmlException as error:
        raise source.error(
            f"the XML declares entities or a DTD ({type(error).__name__}), which we refuse "
            "for safety. An EndNote export never needs them: export it from EndNote again.",
            record=number + 1,
        ) from error
    if number == 0:
        notes.warn("The XML has no <record> elements; EndNote XML keeps each reference in one.")


def _expat_reason(error: ET.ParseError) -> str:
    """expat's message without its own 'line N, column M' suffix."""
    return re.sub(r":\s*line \d+, column \d+$", "", str(error))


def _text(element: ET.Element) -> str:
    """The element's text across its <style> runs, line breaks kept (keywords use them)."""
    return "".join(element.itertext()).strip()


def _to_record(record: ET.Element, number: int, notes: PassNotes) -> ParsedRecord:
    raw = _flatten(record)

    def get(*paths: str) -> str:
        return first_value(raw, *paths)

    pmid = ""
    accession = get("accession-num")
    database = " ".join(all_values(raw, "remote-database-name", "remote-database-provider"))
    # The accession number is the searched database's id: a PMID only for PubMed/MEDLINE.
    if accession and _PUBMED_DATABASE.search(database):
        pmid = clean_pmid(accession)
    return build_record(
        location=record_location(number),
        raw=raw,
        notes=notes,
        title=get("titles/title", "titles/alt-title", "titles/short-title"),
        abstract=get("abstract"),
        authors=all_values(raw, "contributors/authors/author"),
        year=get("dates/year", "dates/pub-dates/date"),
        journal=get(
            "periodical/full-title",
            "titles/secondary-title",
            "alt-periodical/full-title",
            "periodical/abbr-1",
        ),
        volume=get("volume"),
        issue=get("number", "issue"),
        pages=clean_pages(get("pages")),
        doi=get("electronic-resource-num"),
        pmid=pmid,
        # One <keyword> each, or (older EndNote) all in one, a line apiece.
        keywords=[k for value in all_values(raw, "keywords/keyword") for k in _lines(value)],
        language=get("language"),
        publication_type=get("ref-type@name") or get("ref-type"),
        url=get("urls/related-urls/url", "urls/web-urls/url", "urls/pdf-urls/url"),
    )


def _lines(text: str) -> list[str]:
    return [line for line in (clean_text(part) for part in text.splitlines()) if line]


def _flatten(record: ET.Element) -> dict[str, Any]:
    """{'titles/title': '...', 'contributors/authors/author': [...], 'ref-type@name': ...}.

    Elements holding only text (or `<style>` runs) are leaves; repeated paths become lists.
    """
    raw: dict[str, Any] = {}

    def add(key: str, value: str) -> None:
        if not value:
            return
        current = raw.get(key)
        if current is None:
            raw[key] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            raw[key] = [current, value]

    def walk(element: ET.Element, prefix: str) -> None:
        for child in element:
            path = f"{prefix}{child.tag}"
            for name, value in child.attrib.items():
                if name == "name":  # <ref-type name="Journal Article">17</ref-type>
                    add(f"{path}@name", value.strip())
            if any(grandchild.tag not in _LEAF_TAGS for grandchild in child):
                walk(child, f"{path}/")
            else:
                add(path, _text(child))

    walk(record, "")
    return raw
