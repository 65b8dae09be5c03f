"""Small XLSX files that unpack to a lot: decompression bombs for the workbook limits.

Each starts from a real one-sheet workbook written by openpyxl (a header row: Title,
Year) and replaces its sheet with XML streamed into the ZIP, so nothing large is ever
held in memory while the bomb is built. Used by the tests and by bench/xlsx_bombs.py.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(sheet_xml: Iterable[bytes]) -> bytes:
    """A valid workbook whose first sheet's XML is the concatenated `sheet_xml` chunks."""
    base = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["Title", "Year"])
    book.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename == SHEET:
                with bomb.open(SHEET, "w", force_zip64=True) as sheet:
                    for chunk in sheet_xml:
                        sheet.write(chunk)
            else:
                bomb.writestr(info, source.read(info))
    return out.getvalue()


def sheet(rows: Iterable[bytes], *, dimension: str = "") -> Iterator[bytes]:
    """A worksheet's XML around `rows` (each a <row> element), header row first."""
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}">'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    yield (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>Year</t></is></c></row>'
    )
    yield from rows
    yield b"</sheetData></worksheet>"


def many_rows(count: int, *, batch: int = 10_000) -> Iterator[bytes]:
    """`count` identical record rows (numbered by position, no r attribute), in chunks."""
    row = b'<row><c t="inlineStr"><is><t>Tumour</t></is></c><c><v>2020</v></c></row>'
    for start in range(0, count, batch):
        yield row * min(batch, count - start)


def rows_bomb(count: int) -> bytes:
    """A sheet of `count` tiny identical rows: ~70 bytes each unpacked, almost nothing packed."""
    return workbook(sheet(many_rows(count)))


def numbered_rows(count: int) -> bytes:
    """`count` distinct numbered rows: compresses about as well as a real sheet does, so
    only the row limit, met while reading, stops it."""

    def rows() -> Iterator[bytes]:
        for start in range(2, count + 2, 10_000):
            yield b"".join(
                f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Tumour {n * 7919 % 100_003}'
                f'</t></is></c><c r="B{n}"><v>{1950 + n % 75}</v></c></row>'.encode()
                for n in range(start, min(start + 10_000, count + 2))
            )

    return workbook(sheet(rows()))


def declared_bomb(ref: str = "A1:ZZ3000000") -> bytes:
    """Two real rows under a <dimension> that claims `ref`."""
    return workbook(sheet(many_rows(1), dimension=ref))


def far_row_bomb(row: int = 1_048_576) -> bytes:
    """One record row numbered `row` (the last Excel allows, by default), no dimension:
    readers that fill in the missing rows make a million empty ones."""
    return workbook(sheet([f'<row r="{row}"><c r="A{row}"><v>1</v></c></row>'.encode()]))


def wide_row_bomb(column: str = "XFD") -> bytes:
    """One record row with a cell in `column` (XFD is the last of 16,384), no dimension."""
    cell = f'<row r="2"><c r="A2"><v>1</v></c><c r="{column}2"><v>2</v></c></row>'
    return workbook(sheet([cell.encode()]))


def text_bomb(megabytes: int) -> bytes:
    """One cell of `megabytes` MB of the same letter: a file of a few KB per 10 MB."""

    def rows() -> Iterator[bytes]:
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(megabytes):
            yield b"x" * (1024 * 1024)
        yield b"</t></is></c></row>"

    return workbook(sheet(rows()))
