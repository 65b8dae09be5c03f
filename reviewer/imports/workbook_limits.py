"""Bounds on what an uploaded XLSX workbook may expand to, checked before it is read.

An XLSX file is a ZIP of XML parts, and a few hundred kilobytes can unpack to gigabytes:
a sheet of 3,000,000 tiny rows, a shared-strings part of one repeated text (openpyxl
reads that part whole), a cell in column XFD that makes every row 16,384 cells wide. The
upload limit bounds the file, not what it expands to. These limits bound that, cheaply,
before any cell is read:

- from the ZIP's directory: the number of parts, the size of all parts unpacked, and
  how much larger than the file that is (zipfile never unpacks more of a part than the
  directory declares, so the declared sizes are a true bound);
- from the first bytes of each sheet: the rows and columns its `<dimension>` declares;

and `check_row` enforces the same row and column limits while the rows are read, as a
sheet may declare no dimension, or a false one. Each refusal says what was found and
what the limit is. Used by the search import (`reviewer.imports.xlsx`) and by the
extraction spreadsheet import (`extraction.transfer_sheets`), each with its own limits.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

_MB = 1024 * 1024

#: How much of each sheet's XML is read to find its <dimension> (it comes first).
_DIMENSION_HEAD = 64 * 1024
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]+)\"")
_CELL = re.compile(r"\$?([A-Za-z]{0,3})\$?(\d*)")
_ROW = re.compile(rb"<(?:\w{1,20}:)?row[\s>/]")
#: The longest row start tag the scan must not split between two chunks ("<x:row ").
_ROW_TAG_LENGTH = 24
_SCAN_CHUNK = 1024 * 1024


class WorkbookTooLarge(ValueError):
    """A workbook over one of the limits; the message says which, and by how much."""


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """How large a workbook may be once unpacked, and how many rows and columns a sheet
    may hold. `max_ratio` applies only past `ratio_from_bytes` unpacked: small files with
    a high ratio are harmless."""

    rows: int
    columns: int
    uncompressed_bytes: int
    parts: int = 1_000
    max_ratio: int = 200
    ratio_from_bytes: int = 20 * _MB

    def check_archive(self, archive: zipfile.ZipFile, *, file_size: int) -> None:
        """Refuse (WorkbookTooLarge) a workbook over the limits, from its directory and
        its sheets' declared dimensions, before anything else is unpacked."""
        parts = archive.infolist()
        if len(parts) > self.parts:
            raise WorkbookTooLarge(
                f"The workbook holds {len(parts):,} parts; at most {self.parts:,} are read."
            )
        unpacked = sum(part.file_size for part in parts)
        if unpacked > self.uncompressed_bytes:
            raise WorkbookTooLarge(
                f"The workbook unpacks to {unpacked / _MB:,.0f} MB, over the limit of "
                f"{self.uncompressed_bytes / _MB:,.0f} MB. Save the sheet as CSV, or split "
                "it, and upload that."
            )
        if unpacked > self.ratio_from_bytes and unpacked > self.max_ratio * max(file_size, 1):
            raise WorkbookTooLarge(
                f"The workbook unpacks to {unpacked / _MB:,.0f} MB from "
                f"{file_size / 1024:,.0f} KB, more than {self.max_ratio} times its size: a "
                "compression bomb, not a spreadsheet. It was not read."
            )
        for part in parts:
            if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                self._check_sheet(archive, part)

    def _check_sheet(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        """The range the sheet declares, then its <row> elements counted as its bytes
        unpack (a sheet may declare nothing, or a false range): an XML parser would take
        minutes over a few million rows before the row limit could stop it, a byte scan
        takes a fraction of a second."""
        with archive.open(part) as sheet:
            chunk = sheet.read(_DIMENSION_HEAD)
            match = _DIMENSION.search(chunk)
            if match is not None:
                ref = match.group(1).decode("ascii", "replace")
                rows, columns = _extent(ref)
                if rows > self.rows or columns > self.columns:
                    raise WorkbookTooLarge(
                        f"The sheet declares the range {ref}: {rows:,} rows and {columns:,} "
                        f"columns, over the limit of {self.rows:,} rows and {self.columns:,} "
                        "columns. Split the sheet, or save it as CSV."
                    )
            count, tail = 0, b""
            while chunk:
                text = tail + chunk
                count += len(_ROW.findall(text))
                if count > self.rows:
                    raise WorkbookTooLarge(
                        f"The sheet has more than {self.rows:,} rows, the limit. Split it, or "
                        "save it as CSV."
                    )
                tail = text[-_ROW_TAG_LENGTH:]
                tail = tail[tail.rfind(b"<") :] if b"<" in tail else b""
                chunk = sheet.read(_SCAN_CHUNK)

    def check_row(self, row: int, width: int) -> None:
        """Refuse (WorkbookTooLarge) a row past the row limit, or wider than the column
        limit, as the rows are read."""
        if row > self.rows:
            raise WorkbookTooLarge(
                f"The sheet has more than {self.rows:,} rows, the limit. Split it, or save it "
                "as CSV."
            )
        if width > self.columns:
            raise WorkbookTooLarge(
                f"Row {row:,} of the sheet is {width:,} cells wide, over the limit of "
                f"{self.columns:,} columns. Delete the empty columns far to the right, or "
                "save the sheet as CSV."
            )


def _extent(ref: str) -> tuple[int, int]:
    """(last row, last column) of a range such as 'A1:ZZ3000000' (1-based; 0 if absent)."""
    rows = columns = 0
    for corner in ref.split(":"):
        match = _CELL.fullmatch(corner.strip())
        if not match:
            continue
        letters, digits = match.groups()
        column = 0
        for char in letters.upper():
            column = column * 26 + (ord(char) - 64)
        rows = max(rows, int(digits) if digits else 0)
        columns = max(columns, column)
    return rows, columns


#: Search exports as Excel workbooks. The largest single database export is 20,000
#: records (Scopus); the row limit leaves room for merged exports. Abstracts make the
#: shared strings large, hence the generous unpacked size.
SEARCH_EXPORT_LIMITS = WorkbookLimits(rows=200_000, columns=1_000, uncompressed_bytes=400 * _MB)
