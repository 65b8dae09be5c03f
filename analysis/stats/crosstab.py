"""Cross-tabulation of two categorical variables, with every test a paper might report.

`crosstab(rows, cols)` pairs the two variables patient by patient, leaves out (and counts)
every pair with either value missing (see `analysis.stats.values`), and tests independence:

- Pearson's chi-square without continuity correction: sum (O - E)^2 / E on
  (r - 1)(c - 1) degrees of freedom, as R's `chisq.test(correct = FALSE)`;
- the likelihood-ratio chi-square (G-test, which JMP reports first):
  G = 2 sum O ln(O / E), a cell with O = 0 contributing 0, on the same degrees of freedom;
- Fisher's exact test, two-sided, exact for any r×c table within a work budget, else a
  seeded Monte Carlo estimate with its standard error (`analysis.stats.fisher`);
- on request, and for 2×2 tables only, Pearson's chi-square with Yates' continuity
  correction, as R's `chisq.test(correct = TRUE)`: sum (|O - E| - k)^2 / E with
  k = min(0.5, |O - E|), so the correction never overshoots a nearly perfect fit.

Expected counts are E = row total × column total / N; any below 5 gives a warning.

Levels: the order given (`row_levels`, `col_levels`), else natural order of the values
seen. A value outside the given levels is an error (the field's definition and its data
disagree). A given level with no patient makes the expected counts of its row or column 0
and the tests undefined: it is refused with a message, unless `drop_empty_levels=True`,
which leaves it out of the table and says so in the warnings. Fewer than two levels on
either side, or no complete pair at all, is refused too: `StatsInputError`, whose message
is a sentence for the user.

Which p to report (`rule`):

- "auto" (default): Fisher's exact test when any expected count is below 5, else Pearson;
- "pearson", "likelihood_ratio", "fisher": always that test.

With `yates=True` a reported Pearson test on a 2×2 table is the corrected one
(`reported_test = "pearson_yates"`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from analysis.stats.errors import StatsInputError
from analysis.stats.fisher import (
    DEFAULT_BUDGET,
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    FisherTest,
    fisher_exact,
)
from analysis.stats.pvalues import format_p
from analysis.stats.values import clean, natural_order

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Floats = NDArray[np.float64]

__all__ = [
    "RULES",
    "TEST_NAMES",
    "ChiSquareTest",
    "CrossTab",
    "LikelihoodRatioTest",
    "ReportedTest",
    "Rule",
    "YatesTest",
    "crosstab",
    "crosstab_from_counts",
]

Rule = Literal["auto", "pearson", "likelihood_ratio", "fisher"]
ReportedTest = Literal["pearson", "pearson_yates", "likelihood_ratio", "fisher"]
RULES: tuple[Rule, ...] = get_args(Rule)
#: How each test is named in tables and messages.
TEST_NAMES: dict[ReportedTest, str] = {
    "pearson": "Pearson chi-square",
    "pearson_yates": "Pearson chi-square with Yates' correction",
    "likelihood_ratio": "Likelihood-ratio chi-square",
    "fisher": "Fisher's exact test",
}
#: Expected counts below this make the chi-square approximations doubtful.
SMALL_EXPECTED = 5.0


@dataclass(frozen=True)
class ChiSquareTest:
    """Pearson's chi-square test of independence (no continuity correction)."""

    chi2: float
    df: int
    p: float

    def to_dict(self) -> dict[str, object]:
        return {"chi2": self.chi2, "df": self.df, "p": self.p}


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """The likelihood-ratio chi-square (G-test)."""

    g: float
    df: int
    p: float

    def to_dict(self) -> dict[str, object]:
        return {"g": self.g, "df": self.df, "p": self.p}


@dataclass(frozen=True)
class YatesTest:
    """Pearson's chi-square with Yates' continuity correction (2×2 tables, 1 df)."""

    chi2: float
    p: float

    def to_dict(self) -> dict[str, object]:
        return {"chi2": self.chi2, "p": self.p}


@dataclass(frozen=True)
class CrossTab:
    """A cross-tabulation and its tests. `counts[i][j]` is the number of patients with row
    level `row_levels[i]` and column level `col_levels[j]`; `excluded` is the number of
    pairs left out for a missing value."""

    row_label: str
    col_label: str
    row_levels: tuple[str, ...]
    col_levels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    expected: tuple[tuple[float, ...], ...]
    excluded: int
    pearson: ChiSquareTest
    likelihood_ratio: LikelihoodRatioTest
    fisher: FisherTest
    yates: YatesTest | None
    min_expected: float
    warnings: tuple[str, ...]
    rule: Rule
    reported_test: ReportedTest
    reported_p: float

    @property
    def n(self) -> int:
        """Patients in the table (both values reported)."""
        return sum(self.row_totals)

    @property
    def row_totals(self) -> tuple[int, ...]:
        return tuple(sum(row) for row in self.counts)

    @property
    def col_totals(self) -> tuple[int, ...]:
        return tuple(sum(col) for col in zip(*self.counts, strict=True))

    @property
    def row_percentages(self) -> tuple[tuple[float, ...], ...]:
        """Each cell as a percentage of its row (the row level's patients)."""
        return tuple(
            tuple(100.0 * cell / total for cell in row)
            for row, total in zip(self.counts, self.row_totals, strict=True)
        )

    @property
    def reported_p_formatted(self) -> str:
        return format_p(self.reported_p)

    @property
    def reported_test_name(self) -> str:
        return TEST_NAMES[self.reported_test]

    def to_dict(self) -> dict[str, object]:
        """The table and its tests as JSON-ready data (what `manage.py crosstab --json`
        prints)."""
        return {
            "counts": [list(row) for row in self.counts],
            "expected": [list(row) for row in self.expected],
            "row_levels": list(self.row_levels),
            "col_levels": list(self.col_levels),
            "excluded": self.excluded,
            "pearson": self.pearson.to_dict(),
            "likelihood_ratio": self.likelihood_ratio.to_dict(),
            "fisher": self.fisher.to_dict(),
            "yates": self.yates.to_dict() if self.yates else None,
            "min_expected": self.min_expected,
            "warnings": list(self.warnings),
            "reported_test": self.reported_test,
            "reported_p": self.reported_p,
            "reported_p_formatted": self.reported_p_formatted,
        }


def crosstab(
    rows: Sequence[object],
    cols: Sequence[object],
    *,
    row_levels: Sequence[str] | None = None,
    col_levels: Sequence[str] | None = None,
    row_label: str = "row",
    col_label: str = "column",
    yates: bool = False,
    rule: Rule = "auto",
    drop_empty_levels: bool = False,
    fisher_budget: int = DEFAULT_BUDGET,
    fisher_samples: int = DEFAULT_SAMPLES,
    fisher_seed: int = DEFAULT_SEED,
) -> CrossTab:
    """Cross-tabulate two variables given patient by patient (`rows[k]` and `cols[k]` are
    one patient's values) and test their independence (see the module docstring)."""
    if len(rows) != len(cols):
        raise StatsInputError(
            f"{row_label} and {col_label} have different numbers of patients "
            f"({len(rows)} and {len(cols)})."
        )
    pairs = [(clean(r), clean(c)) for r, c in zip(rows, cols, strict=True)]
    complete = [(r, c) for r, c in pairs if r is not None and c is not None]
    excluded = len(pairs) - len(complete)
    if not complete:
        raise StatsInputError(
            f"No patient has both {row_label} and {col_label} reported"
            + (f" ({excluded} left out for a missing value)." if excluded else ".")
        )
    row_order = _levels(row_label, row_levels, [r for r, _ in complete])
    col_order = _levels(col_label, col_levels, [c for _, c in complete])
    row_index = {level: i for i, level in enumerate(row_order)}
    col_index = {level: j for j, level in enumerate(col_order)}
    counts = [[0] * len(col_order) for _ in row_order]
    for r, c in complete:
        counts[row_index[r]][col_index[c]] += 1
    # per level, the patients left out because their other value is not reported: a level
    # that keeps no patient in the table is then explained, not called empty
    unreported = (
        Counter(r for r, c in pairs if r is not None and c is None),
        Counter(c for r, c in pairs if c is not None and r is None),
    )
    return crosstab_from_counts(
        counts,
        row_levels=row_order,
        col_levels=col_order,
        row_label=row_label,
        col_label=col_label,
        excluded=excluded,
        yates=yates,
        rule=rule,
        drop_empty_levels=drop_empty_levels,
        fisher_budget=fisher_budget,
        fisher_samples=fisher_samples,
        fisher_seed=fisher_seed,
        unreported=unreported,
    )


def crosstab_from_counts(
    counts: Sequence[Sequence[int]],
    *,
    row_levels: Sequence[str] | None = None,
    col_levels: Sequence[str] | None = None,
    row_label: str = "row",
    col_label: str = "column",
    excluded: int = 0,
    yates: bool = False,
    rule: Rule = "auto",
    drop_empty_levels: bool = False,
    fisher_budget: int = DEFAULT_BUDGET,
    fisher_samples: int = DEFAULT_SAMPLES,
    fisher_seed: int = DEFAULT_SEED,
    unreported: tuple[Mapping[str, int], Mapping[str, int]] | None = None,
) -> CrossTab:
    """The same tests for a table already counted (levels default to "1", "2", …).

    `unreported` counts, per row level and per column level, the patients left out for a
    missing value of the other variable; the note on a dropped level uses them."""
    import numpy as np

    if rule not in RULES:
        raise StatsInputError(f"Unknown rule “{rule}”: choose one of {', '.join(RULES)}.")
    table = [[int(cell) for cell in row] for row in counts]
    if not table or not table[0] or len({len(row) for row in table}) != 1:
        raise StatsInputError("A cross-tabulation needs a rectangular table of counts.")
    if any(cell < 0 for row in table for cell in row):
        raise StatsInputError("A table of counts cannot hold negative numbers.")
    rows = tuple(row_levels) if row_levels is not None else _numbered(len(table))
    cols = tuple(col_levels) if col_levels is not None else _numbered(len(table[0]))
    if (len(rows), len(cols)) != (len(table), len(table[0])):
        raise StatsInputError("The levels given do not match the table's rows and columns.")
    warnings: list[str] = []
    if excluded:
        warnings.append(
            f"{_patients(excluded)} with {row_label} or {col_label} not reported "
            f"{'was' if excluded == 1 else 'were'} left out."
        )
    table, rows, cols = _without_empty_levels(
        table, rows, cols, row_label, col_label, drop_empty_levels, warnings, unreported
    )
    observed = np.array(table, dtype=float)
    total = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    df = (len(rows) - 1) * (len(cols) - 1)
    pearson = _pearson(observed, expected, df)
    likelihood_ratio = _likelihood_ratio(observed, expected, df)
    fisher = fisher_exact(table, budget=fisher_budget, samples=fisher_samples, seed=fisher_seed)
    is_2x2 = len(rows) == 2 and len(cols) == 2
    corrected = _yates(observed, expected) if yates and is_2x2 else None
    if yates and not is_2x2:
        warnings.append("Yates' continuity correction applies to 2×2 tables only: not computed.")
    min_expected = float(expected.min())
    small = int((expected < SMALL_EXPECTED).sum())
    if small:
        warnings.append(
            f"{small} of {expected.size} expected counts "
            f"({round(100 * small / expected.size)}%) are below 5 (smallest "
            f"{min_expected:.2f}): the chi-square tests are unreliable here, and "
            "Fisher's exact test is the one to report."
        )
    if fisher.method == "monte-carlo":
        warnings.append(
            "The table is too large for Fisher's exact test to be enumerated within the work "
            f"budget: its p is a Monte Carlo estimate from {fisher.samples:,} random tables "
            f"(seed {fisher.seed}), standard error {fisher.se:.2g}."
        )
    reported_test = _reported_test(rule, small > 0, corrected is not None)
    reported_p = {
        "pearson": pearson.p,
        "pearson_yates": corrected.p if corrected else pearson.p,
        "likelihood_ratio": likelihood_ratio.p,
        "fisher": fisher.p,
    }[reported_test]
    return CrossTab(
        row_label=row_label,
        col_label=col_label,
        row_levels=rows,
        col_levels=cols,
        counts=tuple(tuple(row) for row in table),
        expected=tuple(tuple(float(e) for e in row) for row in expected),
        excluded=excluded,
        pearson=pearson,
        likelihood_ratio=likelihood_ratio,
        fisher=fisher,
        yates=corrected,
        min_expected=min_expected,
        warnings=tuple(warnings),
        rule=rule,
        reported_test=reported_test,
        reported_p=reported_p,
    )


def _levels(label: str, given: Sequence[str] | None, seen: list[str]) -> tuple[str, ...]:
    if given is None:
        return natural_order(seen)
    levels = tuple(given)
    if len(set(levels)) != len(levels):
        raise StatsInputError(f"The levels given for {label} repeat a level.")
    unknown = natural_order(set(seen) - set(levels))
    if unknown:
        raise StatsInputError(
            f"{label} has the value “{unknown[0]}”, which is not one of its levels "
            f"({', '.join(levels)})."
        )
    return levels


def _without_empty_levels(
    table: list[list[int]],
    rows: tuple[str, ...],
    cols: tuple[str, ...],
    row_label: str,
    col_label: str,
    drop: bool,
    warnings: list[str],
    unreported: tuple[Mapping[str, int], Mapping[str, int]] | None,
) -> tuple[list[list[int]], tuple[str, ...], tuple[str, ...]]:
    """Refuse (or drop, with a warning) levels with no patient; refuse fewer than two."""
    if sum(map(sum, table)) == 0:
        raise StatsInputError(f"No patient has both {row_label} and {col_label} reported.")
    empty_rows = [i for i, row in enumerate(table) if sum(row) == 0]
    empty_cols = [j for j in range(len(cols)) if sum(row[j] for row in table) == 0]
    by_row, by_col = unreported or ({}, {})
    sides = (
        (row_label, col_label, rows, empty_rows, by_row),
        (col_label, row_label, cols, empty_cols, by_col),
    )
    for label, other, levels, empty, missing in sides:
        if not empty:
            continue
        names = ", ".join(f"“{levels[i]}”" for i in empty)
        if not drop:
            raise StatsInputError(
                f"No patient in the table has {label} {names}: a level without patients "
                "leaves the tests undefined. Leave it out of the levels, or drop empty levels."
            )
        never = ", ".join(f"“{levels[i]}”" for i in empty if not missing.get(levels[i]))
        if never:
            warnings.append(f"{label} {never}: no patients, left out of the table and the tests.")
        for i in empty:
            if missing.get(levels[i]):
                n = missing[levels[i]]
                warnings.append(
                    f"{_patients(n)} with {label} “{levels[i]}” {'has' if n == 1 else 'have'} "
                    f"{other} not reported, so “{levels[i]}” is left out of the table and "
                    "the tests."
                )
    table = [
        [cell for j, cell in enumerate(row) if j not in empty_cols]
        for i, row in enumerate(table)
        if i not in empty_rows
    ]
    rows = tuple(level for i, level in enumerate(rows) if i not in empty_rows)
    cols = tuple(level for j, level in enumerate(cols) if j not in empty_cols)
    for label, levels in ((row_label, rows), (col_label, cols)):
        if len(levels) < 2:
            raise StatsInputError(
                f"{label} has a single level (“{levels[0]}”) among the patients with both "
                "values reported: a cross-tabulation needs at least two."
            )
    return table, rows, cols


def _pearson(
    observed: Floats,
    expected: Floats,
    df: int,
) -> ChiSquareTest:
    from scipy import stats

    chi2 = float(((observed - expected) ** 2 / expected).sum())
    return ChiSquareTest(chi2=chi2, df=df, p=float(stats.chi2.sf(chi2, df)))


def _likelihood_ratio(
    observed: Floats,
    expected: Floats,
    df: int,
) -> LikelihoodRatioTest:
    import numpy as np
    from scipy import stats

    seen = observed > 0
    g = float(2.0 * (observed[seen] * np.log(observed[seen] / expected[seen])).sum())
    g = max(g, 0.0)  # a perfect fit sums to -1e-15, not 0
    return LikelihoodRatioTest(g=g, df=df, p=float(stats.chi2.sf(g, df)))


def _yates(
    observed: Floats,
    expected: Floats,
) -> YatesTest:
    import numpy as np
    from scipy import stats

    gap = np.abs(observed - expected)
    correction = min(0.5, float(gap.min()))
    chi2 = float(((gap - correction) ** 2 / expected).sum())
    return YatesTest(chi2=chi2, p=float(stats.chi2.sf(chi2, 1)))


def _reported_test(rule: Rule, small_expected: bool, corrected: bool) -> ReportedTest:
    if rule == "auto":
        rule = "fisher" if small_expected else "pearson"
    if rule == "pearson" and corrected:
        return "pearson_yates"
    return rule


def _numbered(count: int) -> tuple[str, ...]:
    return tuple(str(i + 1) for i in range(count))


def _patients(count: int) -> str:
    return f"{count:,} patient{'s' if count != 1 else ''}"
