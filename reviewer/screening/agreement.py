"""Agreement between two reviewers: Cohen's kappa and percent agreement, with the counts
behind them. Pure functions: plain data in, plain data out, no Django.

Cohen's kappa compares the observed agreement p_o (share of items both raters put in the
same category) with the agreement expected by chance from each rater's own marginal
shares, p_e = sum_k p_first(k) * p_second(k):

    kappa = (p_o - p_e) / (1 - p_e)

When p_e is 1 (both raters put every item in one and the same category) kappa is 0/0:
it is returned as `None` with the reason, never as a crash or a made-up number; percent
agreement is still given. Expected agreement is computed in integers
(sum of row total * column total, over n squared) so that case is detected exactly.

At title/abstract the categories are include / exclude / maybe (a 3x3 table); the
binary view counts maybe as include, which is what moves a record on to full text and
what PRISMA reports (records screened vs excluded). At full text: include / exclude.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
TA, FT = "ta", "ft"

#: The categories of each stage, in the order tables are shown.
STAGE_CATEGORIES: dict[str, tuple[str, ...]] = {
    TA: (INCLUDE, EXCLUDE, MAYBE),
    FT: (INCLUDE, EXCLUDE),
}
#: Title/abstract seen as PRISMA does: include or maybe moves on ("include"), or exclude.
BINARY: Mapping[str, str] = {INCLUDE: INCLUDE, MAYBE: INCLUDE, EXCLUDE: EXCLUDE}
BINARY_CATEGORIES = (INCLUDE, EXCLUDE)

NO_ITEMS = "No records were decided by both reviewers yet."
ONE_CATEGORY = (
    "Kappa is undefined: both reviewers put every record in the same category, so "
    "agreement by chance is already 100%."
)


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of two raters over the same items.

    `table[a][b]` counts the items the first rater put in `a` and the second in `b` (every
    category present, zeros included). `kappa` is None when undefined, with `reason`.
    """

    categories: tuple[str, ...]
    table: dict[str, dict[str, int]]
    n: int
    agreed: int
    observed: float | None  # p_o, 0..1
    expected: float | None  # p_e, 0..1
    kappa: float | None
    reason: str = ""

    @property
    def percent(self) -> float | None:
        """Percent agreement (0..100), None with no items."""
        return None if self.observed is None else 100 * self.observed


def agreement(pairs: Iterable[tuple[str, str]], categories: Sequence[str]) -> Agreement:
    """Cohen's kappa and percent agreement over (first rater's, second rater's) categories.

    A category outside `categories` is a caller's mistake and raises ValueError."""
    categories = tuple(categories)
    table = {a: dict.fromkeys(categories, 0) for a in categories}
    for first, second in pairs:
        if first not in table or second not in table:
            raise ValueError(f"{(first, second)!r}: a category outside {categories!r}")
        table[first][second] += 1
    return agreement_from_table(table)


def agreement_from_table(table: Mapping[str, Mapping[str, int]]) -> Agreement:
    """Agreement from a square confusion table (first rater's category -> second's -> n)."""
    categories = tuple(table)
    square = {a: {b: int(table[a].get(b, 0)) for b in categories} for a in categories}
    n = sum(sum(row.values()) for row in square.values())
    agreed = sum(square[c][c] for c in categories)
    if n == 0:
        return Agreement(categories, square, 0, 0, None, None, None, NO_ITEMS)
    rows = {a: sum(square[a].values()) for a in categories}
    columns = {b: sum(square[a][b] for a in categories) for b in categories}
    chance = sum(rows[c] * columns[c] for c in categories)  # p_e * n^2, exactly
    observed = agreed / n
    expected = chance / (n * n)
    if chance == n * n:
        return Agreement(categories, square, n, agreed, observed, expected, None, ONE_CATEGORY)
    kappa = (agreed * n - chance) / (n * n - chance)  # (p_o - p_e) / (1 - p_e), times n^2
    return Agreement(categories, square, n, agreed, observed, expected, kappa)


# --- from decision rows ---


class DecisionRow(NamedTuple):
    """One reviewer's decision on one record at one stage, as stored."""

    record: Hashable
    reviewer: Hashable
    stage: str
    choice: str


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Agreement at one stage, of one pair of reviewers or (first, second None) pooled.

    `detailed` uses the stage's own categories (3x3 at title/abstract, 2x2 at full text);
    `binary` is title/abstract's include-or-maybe vs exclude view (None at full text)."""

    stage: str
    first: Hashable | None
    second: Hashable | None
    detailed: Agreement
    binary: Agreement | None


@dataclass(frozen=True, slots=True)
class StageAgreement:
    """A stage's agreement: all pairs pooled, then each pair of reviewers."""

    stage: str
    overall: PairAgreement
    pairs: list[PairAgreement]


def _sort_key(value: Hashable) -> tuple[int, int, str]:
    """Ids in numeric order, anything else (usernames) by its text, after them."""
    if isinstance(value, int):
        return (0, value, "")
    return (1, 0, str(value))


def _pair_agreement(
    stage: str, first: Hashable | None, second: Hashable | None, pairs: list[tuple[str, str]]
) -> PairAgreement:
    detailed = agreement(pairs, STAGE_CATEGORIES[stage])
    binary = None
    if stage == TA:
        binary = agreement(((BINARY[a], BINARY[b]) for a, b in pairs), BINARY_CATEGORIES)
    return PairAgreement(stage, first, second, detailed, binary)


def agreement_by_stage(
    rows: Iterable[DecisionRow | tuple[Hashable, Hashable, str, str]],
) -> dict[str, StageAgreement]:
    """Agreement per stage and per pair of reviewers, over the records both decided.

    In each pair the first reviewer is the one that sorts first (ids numerically), so the
    table's rows are always the same person's. The pooled figure sums the pairs' tables:
    with two reviewers it is their pair; with more it is Cohen's kappa over every record
    decided twice, rows being the earlier-sorting reviewer of each record's pair. A record
    decided by one reviewer only counts nowhere. Every stage is in the result, even with no
    decisions (kappa None, n 0).
    """
    choices: dict[str, dict[Hashable, dict[Hashable, str]]] = {
        stage: defaultdict(dict) for stage in STAGE_CATEGORIES
    }
    for record, reviewer, stage, choice in rows:
        if stage not in choices:
            raise ValueError(f"{stage!r} is not a screening stage")
        choices[stage][record][reviewer] = choice
    result = {}
    for stage, by_record in choices.items():
        by_pair: dict[tuple[Hashable, Hashable], list[tuple[str, str]]] = defaultdict(list)
        for decided in by_record.values():
            for first, second in combinations(sorted(decided, key=_sort_key), 2):
                by_pair[first, second].append((decided[first], decided[second]))
        pooled = [pair for pairs in by_pair.values() for pair in pairs]
        result[stage] = StageAgreement(
            stage=stage,
            overall=_pair_agreement(stage, None, None, pooled),
            pairs=[
                _pair_agreement(stage, first, second, by_pair[first, second])
                for first, second in sorted(
                    by_pair, key=lambda p: (_sort_key(p[0]), _sort_key(p[1]))
                )
            ],
        )
    return result
