"""Decompression bombs: a search export workbook is measured before it is read."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from reviewer.imports import ParseError, read_file, summarise, xlsx
from reviewer.imports.workbook_limits import (
    SEARCH_EXPORT_LIMITS,
    WorkbookLimits,
    WorkbookTooLarge,
)
from tests import xlsx_bombs
from tests.reviewer.imports.conftest import WriteFile


def test_a_sheet_declaring_three_million_rows_is_refused_before_reading(write: WriteFile) -> None:
    path = write("export.xlsx", xlsx_bombs.declared_bomb("A1:ZZ3000000"))

    with pytest.raises(ParseError) as error:
        read_file(path, filename="export.xlsx")

    assert str(error.value) == (
        "export.xlsx: The sheet declares the range A1:ZZ3000000: 3,000,000 rows and 702 "
        "columns, over the limit of 200,000 rows and 1,000 columns. Split the sheet, or save "
        "it as CSV."
    )


def test_a_workbook_that_unpacks_a_thousand_fold_is_refused_as_a_bomb(write: WriteFile) -> None:
    data = xlsx_bombs.text_bomb(megabytes=30)
    path = write("export.xlsx", data)
    assert len(data) < 200_000

    started = time.perf_counter()
    with pytest.raises(ParseError, match="more than 200 times its size: a compression bomb"):
        read_file(path, filename="export.xlsx")
    assert time.perf_counter() - started < 1.0  # from the ZIP directory, nothing unpacked


def test_a_workbook_over_the_unpacked_size_limit_is_refused(
    write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        xlsx, "LIMITS", WorkbookLimits(rows=100, columns=100, uncompressed_bytes=1024 * 1024)
    )
    path = write("export.xlsx", xlsx_bombs.text_bomb(megabytes=2))

    with pytest.raises(ParseError, match=r"unpacks to 2 MB, over the limit of 1 MB"):
        read_file(path, filename="export.xlsx")


def test_rows_past_the_limit_are_counted_before_reading_when_no_dimension_says_so(
    write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        xlsx, "LIMITS", WorkbookLimits(rows=50, columns=100, uncompressed_bytes=1024 * 1024)
    )
    path = write("export.xlsx", xlsx_bombs.rows_bomb(60))

    with pytest.raises(ParseError, match=r"The sheet has more than 50 rows, the limit\."):
        read_file(path, filename="export.xlsx")


def test_a_row_numbered_past_the_limit_is_refused_while_reading(write: WriteFile) -> None:
    path = write("export.xlsx", xlsx_bombs.far_row_bomb(1_048_576))
    parsed = read_file(path, filename="export.xlsx")

    started = time.perf_counter()
    with pytest.raises(ParseError, match=r"The sheet has more than 200,000 rows, the limit\."):
        summarise(parsed)
    assert time.perf_counter() - started < 10  # empty rows only, stopped at the limit


def test_a_cell_in_the_last_column_is_refused_not_padded(write: WriteFile) -> None:
    path = write("export.xlsx", xlsx_bombs.wide_row_bomb("XFD"))

    with pytest.raises(ParseError, match=r"Row 2 of the sheet is 16,384 cells wide"):
        summarise(read_file(path, filename="export.xlsx"))


def test_a_workbook_within_the_limits_reads_as_before(write: WriteFile) -> None:
    path = write("export.xlsx", xlsx_bombs.rows_bomb(1_000))

    summary = summarise(read_file(path, filename="export.xlsx"))

    assert summary.record_count == 1_000


def test_limits_read_the_dimension_of_every_sheet_from_its_first_bytes() -> None:
    buffer = io.BytesIO(xlsx_bombs.declared_bomb("B2:C10"))
    with zipfile.ZipFile(buffer) as archive:
        SEARCH_EXPORT_LIMITS.check_archive(archive, file_size=len(buffer.getvalue()))
    wide = io.BytesIO(xlsx_bombs.declared_bomb("A1:XFD2"))
    with zipfile.ZipFile(wide) as archive, pytest.raises(WorkbookTooLarge, match="16,384 columns"):
        SEARCH_EXPORT_LIMITS.check_archive(archive, file_size=10_000)


def test_real_excel_exports_are_within_the_limits(exports: Path) -> None:
    for path in sorted((exports / "asreview_citation_file_formatting" / "XLSX").glob("*.xlsx")):
        assert summarise(read_file(path, filename=path.name)).record_count > 0, path.name
