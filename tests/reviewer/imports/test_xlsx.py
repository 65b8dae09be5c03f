"""Excel workbooks: the first sheet, a header below title rows, typed cells."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from reviewer.imports import FileFormat, ParseError, read_file
from tests.reviewer.imports.conftest import WriteFile


def _workbook(path: Path, rows: list[list[object]], *, extra_sheet: bool = False) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Results"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("Search strategy").append(["(tumour) AND child"])
    workbook.save(path)
    return path


def test_xlsx_header_below_a_title_row(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "export.xlsx",
        [
            ["My export"],
            ["Title", "Authors", "Publication Year", "PMID", "Volume"],
            ["A study", "Smith J; Doe A", 2020.0, 12345678.0, 7],
            [None, None, None, None, None],
            ["Another", "Roe B", 2021, None, None],
        ],
        extra_sheet=True,
    )
    parsed = read_file(path, filename="export.xlsx")

    records = list(parsed.records())

    assert parsed.format is FileFormat.XLSX
    assert [(r.title, r.year, r.pmid, r.volume) for r in records] == [
        ("A study", 2020, "12345678", "7"),
        ("Another", 2021, "", ""),
    ]
    assert records[0].authors == ["Smith J", "Doe A"]
    assert [r.location for r in records] == ["row 3", "row 5"]
    assert parsed.warnings == [
        "Only the first sheet ('Results') was read; the workbook has 1 more: 'Search strategy'.",
        "The header is on row 2; the rows above it were skipped as they are not records: "
        "'My export'.",
    ]


def test_xlsx_without_title_column_lists_columns(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "x.xlsx", [["ID", "Notes"], [1, "n"]])

    with pytest.raises(ParseError) as raised:
        read_file(path, filename="x.xlsx")

    assert "Columns found: 'ID', 'Notes'" in str(raised.value)


def test_damaged_workbook_is_refused(write: WriteFile) -> None:
    path = write("damaged.xlsx", b"PK\x03\x04" + b"\x00" * 100)

    with pytest.raises(ParseError) as raised:
        read_file(path, filename="damaged.xlsx", fmt=FileFormat.XLSX)

    assert str(raised.value) == (
        "damaged.xlsx looks like a ZIP archive but cannot be opened (damaged?)."
    )


@pytest.mark.parametrize("epoch_1904", [False, True])
def test_cells_read_as_openpyxl_reads_them_dates_by_their_number_format(
    tmp_path: Path, epoch_1904: bool
) -> None:
    """The date styles come from the stylesheet (`tables.date_styles`), not openpyxl's
    private workbook state: every cell reads as openpyxl's own reader gives it."""
    import datetime as dt

    from reviewer.imports.tables import CellReader, open_workbook
    from reviewer.imports.workbook_limits import SEARCH_EXPORT_LIMITS

    workbook = openpyxl.Workbook()
    if epoch_1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = workbook.active
    cells: list[tuple[object, str]] = [
        (dt.datetime(2024, 2, 29), "mm-dd-yy"),  # a built-in date format (14)
        (dt.datetime(2023, 7, 1, 13, 45), "yyyy-mm-dd hh:mm"),  # a custom one
        (dt.datetime(2022, 1, 2), "d mmmm yyyy"),
        (45000.5, "0.00"),  # a number with a custom format that is no date
        (12, "General"),
        ("text", "General"),
    ]
    for column, (value, number_format) in enumerate(cells, start=1):
        cell = sheet.cell(row=1, column=column, value=value)
        cell.number_format = number_format
    path = tmp_path / "dates.xlsx"
    workbook.save(path)

    book = open_workbook(path, SEARCH_EXPORT_LIMITS)
    try:
        with book.archive.open(book.sheets[0][1]) as part:
            ((number, values),) = list(CellReader(book, SEARCH_EXPORT_LIMITS).rows(part))
    finally:
        book.archive.close()
    theirs = [c.value for c in next(openpyxl.load_workbook(path, data_only=True).active.rows)]

    assert number == 1
    assert values == theirs
    assert values[:3] == [
        dt.datetime(2024, 2, 29),
        dt.datetime(2023, 7, 1, 13, 45),
        dt.datetime(2022, 1, 2),
    ]
    assert values[3:] == [45000.5, 12, "text"]
