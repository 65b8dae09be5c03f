"""Which export format a file is in, judged from its content.

File names lie: PubMed's MEDLINE saved as .ris, Web of Science tagged text saved as .ris,
RIS saved as .txt, tab-separated text saved as .csv. So we sniff the first 64 KB and use
the extension only to break a tie. Files we know we cannot read (PDF, Word, old Excel,
JSON, EndNote's %-tagged format) are named as such, with what to export instead.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from reviewer.imports.base import FileFormat
from reviewer.imports.decoding import SNIFF_BYTES, bomless_utf16, head_text, read_head
from reviewer.imports.delimited import DELIMITER_NAMES, sniff_delimiter

ACCEPTED = (
    "RIS (.ris), PubMed MEDLINE (.nbib), Web of Science tagged (.ciw/.txt), BibTeX (.bib), "
    "EndNote XML (.xml), EndNote/Refer tagged (.enw), CSV/TSV and Excel (.xlsx)"
)
_EXPORT_INSTEAD = "export the search results as RIS or EndNote XML instead"

_MEDLINE_TAG = re.compile(r"^(?:PMID|OWN|STAT|FAU|DCOM|LID|AID|JID|JT|DP|TA)\s*-(?= )", re.M)
_TAGGED_LINE = re.compile(r"[A-Z][A-Z0-9]{1,3} {1,3}- ")
_MEDLINE_PMID = re.compile(r"^PMID- ", re.M)
_RIS_TY = re.compile(r"^TY[ \t]+-", re.M)
_RIS_ER = re.compile(r"^ER[ \t]+-", re.M)
_WOS_PT = re.compile(r"^PT [A-Z]\b", re.M)
_WOS_END = re.compile(r"^(ER|EF)\s*$", re.M)
_WOS_HEADER = re.compile(r"^(FN|VR) ", re.M)
# An entry is "@type{key," then a field "name =": a line starting "@SUM(A1:A3)" (a
# spreadsheet formula in a CSV) or "@someone (handle)" is not one.
_BIBTEX = re.compile(
    r"^\s*@\s*[A-Za-z]+\s*[{(]\s*[^\s,{}()\"#%'=]*\s*,\s*[A-Za-z][\w\-:.]*\s*="
    r"|^\s*@\s*(?:string|preamble)\s*[{(]",
    re.M | re.I,
)
_REFER = re.compile(r"^%[0-9A-Z@!#$&()*+^~>\[\]] ", re.M)
_REFER_TYPE = re.compile(r"^%0 ", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")

_EXTENSIONS: dict[str, FileFormat] = {
    ".ris": FileFormat.RIS,
    ".nbib": FileFormat.MEDLINE,
    ".medline": FileFormat.MEDLINE,
    ".ciw": FileFormat.WOS,
    ".bib": FileFormat.BIBTEX,
    ".xml": FileFormat.ENDNOTE_XML,
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".tab": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
}


@dataclass(frozen=True, slots=True)
class Detection:
    """The format we would read the file as, and why; `format` None means we cannot.

    `refused` marks files we recognised as something we do not read (a PDF, JSON, an
    empty file): choosing a format by hand does not help with those.
    """

    format: FileFormat | None
    reason: str
    refused: bool = False


def detect_format(path: Path, filename: str) -> Detection:
    """Decide the format from the file's content, using the extension only as a tie-break."""
    head = read_head(path, SNIFF_BYTES)
    extension = Path(filename).suffix.lower()
    if not head:
        return _refuse(f"{filename} is empty (0 bytes): there are no records to import.")
    refusal = _binary_refusal(path, head, filename)
    if refusal is not None:
        return refusal
    text, _encoding = head_text(head)
    if not text.strip():
        return _refuse(f"{filename} contains only blank lines: there are no records to import.")
    return _detect_text(text, filename, extension, complete=len(head) < SNIFF_BYTES)


def _refuse(reason: str) -> Detection:
    return Detection(None, reason, refused=True)


def _binary_refusal(path: Path, head: bytes, filename: str) -> Detection | None:
    """A refusal for binary content, an XLSX detection, or None for text."""
    if head.startswith(b"%PDF"):
        return _refuse(
            f"{filename} is a PDF document, not a search export. Export the search results "
            f"from the database as a file of references: {ACCEPTED}."
        )
    if head.startswith(b"PK\x03\x04"):
        return _zip_detection(path, filename)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _refuse(
            f"{filename} is an old-style Office file (Excel 97-2003 .xls or Word .doc), "
            "which is not supported; save it as .xlsx or CSV instead."
        )
    if head.startswith(b"\x1f\x8b"):
        return _refuse(f"{filename} is a compressed (gzip) file; unpack it and upload the export.")
    if bomless_utf16(head) is None and head[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        sample = head[:8192]
        if b"\x00" in sample or len(_CONTROL.findall(sample.decode("latin-1"))) > len(sample) // 20:
            return _refuse(
                f"{filename} is a binary file, not a text export we can read. We accept {ACCEPTED}."
            )
    return None


def _zip_detection(path: Path, filename: str) -> Detection:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return _refuse(f"{filename} looks like a ZIP archive but cannot be opened (damaged?).")
    if "xl/workbook.xml" in names:
        return Detection(FileFormat.XLSX, "Excel workbook (a ZIP with xl/workbook.xml)")
    if "word/document.xml" in names:
        return _refuse(f"{filename} is a Word document, not a search export; {_EXPORT_INSTEAD}.")
    return _refuse(
        f"{filename} is a ZIP archive (an EndNote .enlx library, perhaps). Unpack it, or in "
        f"EndNote {_EXPORT_INSTEAD}."
    )


def _detect_text(text: str, filename: str, extension: str, *, complete: bool) -> Detection:
    start = text.lstrip()
    if start.startswith("<"):
        return _detect_xml(start, filename)
    if start[:1] in "{[" and re.match(r"[{\[]\s*[\"{\[\]}]", start):
        return _refuse(f"{filename} is JSON, which is not supported; {_EXPORT_INSTEAD}.")
    if _REFER_TYPE.search(text) or len(_REFER.findall(text)) >= 3:
        found = ", ".join(list(dict.fromkeys(tag.strip() for tag in _REFER.findall(text)))[:3])
        return Detection(FileFormat.REFER, f"EndNote/Refer tags ({found}) found")

    medline_tags = _MEDLINE_TAG.findall(text)
    ris_starts = len(_RIS_TY.findall(text))
    if medline_tags and (not ris_starts or _MEDLINE_PMID.search(text)):
        found = ", ".join(list(dict.fromkeys(medline_tags))[:3])
        return Detection(FileFormat.MEDLINE, f"MEDLINE tags ({found}) found")
    if ris_starts:
        if not complete:
            # Counted in the first 64 KB only: beside the file's real record count they
            # would mislead (issue 17 item 9), so a longer file's line gives none.
            return Detection(FileFormat.RIS, "RIS tags found ('TY  -' record starts, 'ER  -' ends)")
        ends = len(_RIS_ER.findall(text))
        return Detection(
            FileFormat.RIS, f"RIS tags found ({ris_starts} 'TY  -' record starts, {ends} 'ER  -')"
        )
    if _WOS_PT.search(text) and (_WOS_END.search(text) or _WOS_HEADER.search(text)):
        return Detection(
            FileFormat.WOS, "Web of Science tags (FN/VR header, PT … ER records) found"
        )
    if _BIBTEX.search(text):
        return Detection(FileFormat.BIBTEX, "BibTeX entries (@article{…) found")

    by_extension = _EXTENSIONS.get(extension)
    lines = [line for line in text.splitlines() if line.strip()]
    tagged = sum(1 for line in lines if _TAGGED_LINE.match(line))
    if by_extension in (FileFormat.RIS, FileFormat.MEDLINE) and tagged >= len(lines) / 2:
        return Detection(by_extension, f"tagged lines ('XX  - ') and the {extension} extension")

    guess = sniff_delimiter(text, complete=complete)
    tabular_name = by_extension is FileFormat.CSV and guess is not None and guess.width >= 2
    if guess is not None and (guess.looks_like_table() or tabular_name):
        name = DELIMITER_NAMES[guess.delimiter]
        return Detection(
            FileFormat.CSV,
            f"{name}-separated table with {guess.width} columns"
            + (f" (header on row {guess.header_index + 1})" if guess.header_index else ""),
        )
    return Detection(
        None,
        f"{filename}: the format was not recognised. We accept {ACCEPTED}. If it is one of "
        "these, choose the format by hand.",
    )


def _detect_xml(start: str, filename: str) -> Detection:
    lowered = start[:4096].lower()
    if "<records" in lowered or "<record>" in lowered or "<ref-type" in lowered:
        return Detection(FileFormat.ENDNOTE_XML, "EndNote XML (<records><record>) found")
    if "<pubmedarticle" in lowered:
        return _refuse(
            f"{filename} is PubMed XML, which is not supported; in PubMed choose "
            "Save > Format: PubMed (a .nbib/MEDLINE file) instead."
        )
    if "<html" in lowered or "<!doctype html" in lowered:
        return _refuse(
            f"{filename} is a web page (HTML), not an export. Use the database's export or "
            f"download button; we accept {ACCEPTED}."
        )
    return _refuse(
        f"{filename} is XML but not EndNote XML (no <records> element); {_EXPORT_INSTEAD}."
    )
