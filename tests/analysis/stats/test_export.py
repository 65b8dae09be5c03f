"""Rows of the three tables, and those rows as CSV (UTF-8 with BOM, formulas defused) and
as XLSX that openpyxl reads back."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.stats import (
    FieldSpec,
    crosstab_from_counts,
    crosstab_rows,
    risk_factor_rows,
    risk_factor_table,
    summarise,
    summary_rows,
    to_csv_bytes,
    to_xlsx_bytes,
)
from tests.analysis.stats import SITE_COUNTS, SITES

TABLE = crosstab_from_counts(
    SITE_COUNTS, row_levels=SITES, col_levels=("yes", "no"), row_label="site", col_label="non-op"
)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_crosstab_rows_hold_counts_percentages_expected_and_every_test() -> None:
    rows = crosstab_rows(TABLE)
    assert rows[0] == ["site \\ non-op", "yes", "no", "Total"]
    assert rows[1] == ["extremities", 2, 11, 13]
    assert rows[5] == ["Total", 20, 385, 405]
    assert ["extremities", 15.4, 84.6, 100.0] in rows
    tests = {row[0]: row for row in rows if row}
    assert tests["Likelihood-ratio chi-square"][3:] == [TABLE.likelihood_ratio.p, "0.043"]
    assert tests["Pearson chi-square"][4] == "0.010"
    assert tests["Fisher's exact test (exact)"][4] == "0.015"
    assert tests["Reported"][1:] == ["Fisher's exact test", None, TABLE.fisher.p, "0.015"]


def test_summary_rows() -> None:
    frame = pd.DataFrame({"sex": ["female", "male", "", "female"], "age": ["30", "40", "50", "NR"]})
    summaries = summarise(
        frame, [FieldSpec("sex", "Sex"), FieldSpec("age", "Age", "numeric", unit="years")]
    )
    rows = summary_rows(summaries)
    assert rows[0] == ["Characteristic", "Value", "Reported (n)", "Not reported (n)"]
    assert rows[1] == ["Sex", "n (% of patients reported)", 3, 1]
    assert rows[2] == ["  female", "2 (66.7%)"]
    assert rows[4] == ["Age (years)", "median 40 (IQR 35–45)", 3, 1]
    assert rows[5] == ["  range", "30–50"]


def test_risk_factor_rows() -> None:
    frame = pd.DataFrame({"site": ["a", "a", "b", "b", "b"], "dead": ["y", "n", "n", "n", "y"]})
    rows = risk_factor_rows(risk_factor_table(frame, "site", ["dead"]))
    assert rows[0] == [
        "Outcome by site",
        "a (n = 2)",
        "b (n = 3)",
        "Total",
        "p",
        "p (raw)",
        "Test",
        "Note",
    ]
    assert rows[1][0] == "dead"
    assert rows[1][4:7] == ["1.0", pytest.approx(1.0), "Fisher's exact test"]
    assert rows[2] == ["  dead: n", "1/2 (50.0%)", "2/3 (66.7%)", "3/5 (60.0%)"]


def test_csv_has_a_bom_and_defuses_formulas() -> None:
    rows = [["level", "n"], ["=HYPERLINK(1)", 3], ["+1", 1], ["-x", None], ["@a", 2.5], ["é", 0]]
    read = read_csv(to_csv_bytes(rows))
    assert read == [
        ["level", "n"],
        ["'=HYPERLINK(1)", "3"],
        ["'+1", "1"],
        ["'-x", ""],
        ["'@a", "2.5"],
        ["é", "0"],
    ]


def test_crosstab_csv_reads_back() -> None:
    read = read_csv(to_csv_bytes(crosstab_rows(TABLE)))
    assert read[1] == ["extremities", "2", "11", "13"]


def test_xlsx_reads_back_with_text_as_text() -> None:
    data = to_xlsx_bytes(
        {"Crosstab": crosstab_rows(TABLE), "Notes": [["=1+1", "x\x07y", 2, None, 0.5]]}
    )
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Crosstab", "Notes"]
    sheet = workbook["Crosstab"]
    assert [cell.value for cell in sheet[2]][:5] == ["extremities", 2, 11, 13, None]
    notes = [cell.value for cell in workbook["Notes"][1]]
    assert notes == ["=1+1", "xy", 2, None, 0.5]
    assert workbook["Notes"]["A1"].data_type == "s"


@pytest.mark.parametrize("name", ["", "a" * 32, "a/b", "[x]"])
def test_impossible_sheet_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot name a worksheet"):
        to_xlsx_bytes({name: [["x"]]})
