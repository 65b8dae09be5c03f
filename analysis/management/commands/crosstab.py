"""Cross-tabulate two columns of a patient CSV and test them, from the command line."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from analysis.stats import RULES, TEST_NAMES, CrossTab, StatsInputError, crosstab, p_statement


class Command(BaseCommand):
    help = (
        "Cross-tabulate two columns of a patient CSV (one row per patient, one column per "
        "field, as extraction exports it) and print the counts, expected counts and the "
        "Pearson, likelihood-ratio and Fisher tests. Empty cells, 'not reported' and 'NR' "
        "are missing: those patients are left out and counted."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", type=Path)
        parser.add_argument("--row", required=True, metavar="COLUMN", help="Rows of the table.")
        parser.add_argument("--col", required=True, metavar="COLUMN", help="Its columns.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--yates", action="store_true", help="Add Yates' correction (2×2 tables)."
        )
        parser.add_argument(
            "--rule",
            choices=RULES,
            default="auto",
            help="The test to report; auto: Fisher when an expected count is below 5, "
            "else Pearson (default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        frame = _read(options["file"])
        for option in ("row", "col"):
            if options[option] not in frame.columns:
                raise CommandError(
                    f"{options['file']} has no column “{options[option]}”; its columns are: "
                    f"{', '.join(frame.columns)}."
                )
        try:
            table = crosstab(
                frame[options["row"]].tolist(),
                frame[options["col"]].tolist(),
                row_label=options["row"],
                col_label=options["col"],
                yates=options["yates"],
                rule=options["rule"],
            )
        except StatsInputError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(table.to_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write("\n".join(report(table)))


def _read(path: Path) -> Any:
    """The CSV as text cells, nothing turned into NaN by pandas (missing is decided later)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise CommandError(f"No file at {path}.") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"{path} is not UTF-8 text: save it as CSV UTF-8.") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise CommandError(f"{path} cannot be read as a CSV table: {error}") from error


def report(table: CrossTab) -> list[str]:
    """The table and its tests as readable lines."""
    excluded = f"; {table.excluded} left out, a value not reported" if table.excluded else ""
    lines = [f"{table.row_label} × {table.col_label}: {table.n} patients{excluded}", ""]
    lines.append(f"Counts (% of each {table.row_label})")
    counted = [
        [f"{n} ({100 * n / sum(row):.1f}%)" for n in row] + [str(sum(row))] for row in table.counts
    ]
    counted.append([str(n) for n in table.col_totals] + [str(table.n)])
    lines += _grid([*table.col_levels, "Total"], [*table.row_levels, "Total"], counted)
    lines += ["", "Expected counts"]
    expected = [[f"{e:.2f}" for e in row] for row in table.expected]
    lines += _grid(list(table.col_levels), list(table.row_levels), expected)
    lines += ["", "Tests"]
    lr, pearson, fisher = table.likelihood_ratio, table.pearson, table.fisher
    tests = [
        (
            TEST_NAMES["likelihood_ratio"],
            f"G = {lr.g:.3f}, df = {lr.df}, {p_statement(lr.p)} (p = {lr.p:.6g})",
        ),
        (
            TEST_NAMES["pearson"],
            f"chi2 = {pearson.chi2:.3f}, df = {pearson.df}, {p_statement(pearson.p)} "
            f"(p = {pearson.p:.6g})",
        ),
    ]
    if table.yates:
        tests.append(
            (
                TEST_NAMES["pearson_yates"],
                f"chi2 = {table.yates.chi2:.3f}, df = 1, {p_statement(table.yates.p)} "
                f"(p = {table.yates.p:.6g})",
            )
        )
    method = (
        "exact"
        if fisher.method == "exact"
        else f"Monte Carlo, {fisher.samples:,} tables, seed {fisher.seed}, SE {fisher.se:.2g}"
    )
    tests.append(
        (f"{TEST_NAMES['fisher']} ({method})", f"{p_statement(fisher.p)} (p = {fisher.p:.6g})")
    )
    width = max(len(name) for name, _ in tests)
    lines += [f"  {name:<{width}}  {result}" for name, result in tests]
    lines += [
        "",
        f"Reported (rule {table.rule}): {table.reported_test_name}, "
        f"{p_statement(table.reported_p)}",
    ]
    if table.warnings:
        lines += ["", "Warnings"] + [f"- {warning}" for warning in table.warnings]
    return lines


def _grid(columns: list[str], rows: list[str], cells: list[list[str]]) -> list[str]:
    """A text table: row labels left-aligned, cells right-aligned."""
    label_width = max(len(label) for label in rows)
    widths = [max(len(column), *(len(row[j]) for row in cells)) for j, column in enumerate(columns)]
    header = " " * label_width + "".join(
        f"  {c:>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    body = [
        f"{label:<{label_width}}" + "".join(f"  {c:>{w}}" for c, w in zip(row, widths, strict=True))
        for label, row in zip(rows, cells, strict=True)
    ]
    return ["  " + line for line in [header, *body]]
