"""Cohen's kappa and percent agreement (reviewer.screening.agreement), checked against R.

The expected values were computed in R 4.2 from the same tables, by formula (the `irr`
package is not needed; the formula is the definition):

    kappa <- function(m) {
      n <- sum(m); po <- sum(diag(m)) / n; pe <- sum(rowSums(m) * colSums(m)) / n^2
      c(n = n, po = po, pe = pe, kappa = (po - pe) / (1 - pe))
    }
    sprintf("%.15f", kappa(matrix(c(...), nrow = k, byrow = TRUE)))

Rows are the first reviewer, columns the second, in the order include, exclude, maybe.
"""

from __future__ import annotations

import pytest

from reviewer.screening.agreement import (
    NO_ITEMS,
    ONE_CATEGORY,
    DecisionRow,
    agreement,
    agreement_by_stage,
    agreement_from_table,
)

INC, EXC, MAY = "include", "exclude", "maybe"
TA_CATEGORIES = (INC, EXC, MAY)
FT_CATEGORIES = (INC, EXC)


def pairs_from(table: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    return [pair for pair, count in table.items() for _ in range(count)]


# R: kappa(matrix(c(20,5,3, 2,50,4, 1,6,9), nrow=3, byrow=TRUE))
#    n=100 po=0.790000000000000 pe=0.431600000000000 kappa=0.630541871921182
TA_TABLE = {
    (INC, INC): 20, (INC, EXC): 5, (INC, MAY): 3,
    (EXC, INC): 2, (EXC, EXC): 50, (EXC, MAY): 4,
    (MAY, INC): 1, (MAY, EXC): 6, (MAY, MAY): 9,
}  # fmt: skip


def test_title_abstract_three_by_three_matches_r():
    result = agreement(pairs_from(TA_TABLE), TA_CATEGORIES)

    assert result.n == 100
    assert result.agreed == 79
    assert result.observed == pytest.approx(0.79)
    assert result.expected == pytest.approx(0.4316)
    assert result.kappa == pytest.approx(0.630541871921182, abs=1e-12)
    assert result.percent == pytest.approx(79.0)
    assert result.table[INC] == {INC: 20, EXC: 5, MAY: 3}
    assert result.table[MAY][EXC] == 6
    assert result.reason == ""


def test_title_abstract_binary_view_counts_maybe_as_include_and_matches_r():
    # R: kappa(matrix(c(33,11, 6,50), nrow=2, byrow=TRUE))
    #    n=100 po=0.830000000000000 pe=0.513200000000000 kappa=0.650780608052588
    rows = [
        DecisionRow(record=n, reviewer=reviewer, stage="ta", choice=choice)
        for n, (first, second) in enumerate(pairs_from(TA_TABLE))
        for reviewer, choice in ((1, first), (2, second))
    ]

    stage = agreement_by_stage(rows)["ta"]

    assert stage.overall.detailed.kappa == pytest.approx(0.630541871921182, abs=1e-12)
    binary = stage.overall.binary
    assert binary is not None
    assert binary.table == {INC: {INC: 33, EXC: 11}, EXC: {INC: 6, EXC: 50}}
    assert binary.observed == pytest.approx(0.83)
    assert binary.expected == pytest.approx(0.5132)
    assert binary.kappa == pytest.approx(0.650780608052588, abs=1e-12)


@pytest.mark.parametrize(
    ("table", "n", "observed", "expected", "kappa"),
    [
        # R: kappa(matrix(c(7,0, 0,13), nrow=2, byrow=TRUE))  perfect agreement
        ({(INC, INC): 7, (EXC, EXC): 13}, 20, 1.0, 0.545, 1.0),
        # R: kappa(matrix(c(10,10, 10,10), nrow=2, byrow=TRUE))  chance level
        ({(INC, INC): 10, (INC, EXC): 10, (EXC, INC): 10, (EXC, EXC): 10}, 40, 0.5, 0.5, 0.0),
        # R: kappa(matrix(c(45,15, 25,15), nrow=2, byrow=TRUE))  high agreement, low kappa
        (
            {(INC, INC): 45, (INC, EXC): 15, (EXC, INC): 25, (EXC, EXC): 15},
            100,
            0.6,
            0.54,
            0.130434782608696,
        ),
        # R: kappa(matrix(c(0,5, 5,0), nrow=2, byrow=TRUE))  systematic disagreement
        ({(INC, EXC): 5, (EXC, INC): 5}, 10, 0.0, 0.5, -1.0),
    ],
    ids=["perfect", "chance", "prevalence-paradox", "always-disagree"],
)
def test_full_text_tables_match_r(table, n, observed, expected, kappa):
    result = agreement(pairs_from(table), FT_CATEGORIES)

    assert result.n == n
    assert result.observed == pytest.approx(observed)
    assert result.expected == pytest.approx(expected)
    assert result.kappa == pytest.approx(kappa, abs=1e-12)


def test_everything_in_one_category_gives_no_kappa_with_the_reason():
    # R: kappa(matrix(c(12,0, 0,0), nrow=2, byrow=TRUE))  po=1 pe=1 kappa=NaN
    result = agreement([(EXC, EXC)] * 12, FT_CATEGORIES)

    assert result.kappa is None
    assert result.reason == ONE_CATEGORY
    assert result.observed == 1.0
    assert result.expected == 1.0
    assert result.percent == 100.0
    assert result.n == 12


def test_no_items_gives_no_kappa_and_no_percentage():
    result = agreement([], TA_CATEGORIES)

    assert result.n == 0
    assert result.kappa is None and result.percent is None and result.expected is None
    assert result.reason == NO_ITEMS
    assert result.table == {a: {b: 0 for b in TA_CATEGORIES} for a in TA_CATEGORIES}


def test_a_category_outside_the_stage_is_refused():
    with pytest.raises(ValueError, match="maybe"):
        agreement([(INC, MAY)], FT_CATEGORIES)


def test_from_a_table_fills_missing_cells_with_zero():
    result = agreement_from_table({INC: {INC: 3}, EXC: {EXC: 1, INC: 1}})

    assert result.table == {INC: {INC: 3, EXC: 0}, EXC: {INC: 1, EXC: 1}}
    assert result.n == 5


# --- per stage and per pair ---


def ta(record, reviewer, choice):
    return DecisionRow(record, reviewer, "ta", choice)


def test_agreement_per_pair_counts_only_records_both_decided():
    alice, bob, carol = 1, 2, 3
    rows = [
        # alice and bob, table (rows alice): include/include 2, include/exclude 1,
        # exclude/exclude 2, maybe/include 1.
        # R: kappa(matrix(c(2,1,0, 0,2,0, 1,0,0), nrow=3, byrow=TRUE))
        #    n=6 po=0.666666666666667 pe=0.416666666666667 kappa=0.428571428571429
        ta(10, alice, INC), ta(10, bob, INC),
        ta(11, bob, INC), ta(11, alice, INC),  # the order rows come in does not matter
        ta(12, alice, INC), ta(12, bob, EXC),
        ta(13, alice, EXC), ta(13, bob, EXC),
        ta(14, alice, EXC), ta(14, bob, EXC),
        ta(15, alice, MAY), ta(15, bob, INC),
        # alice and carol agree twice
        ta(20, carol, EXC), ta(20, alice, EXC),
        ta(21, alice, INC), ta(21, carol, INC),
        # one decision only: counts nowhere
        ta(30, bob, INC),
        ta(31, carol, EXC),
        # full text: bob and carol
        DecisionRow(40, bob, "ft", INC), DecisionRow(40, carol, "ft", EXC),
        DecisionRow(41, bob, "ft", EXC), DecisionRow(41, carol, "ft", EXC),
    ]  # fmt: skip

    result = agreement_by_stage(rows)

    pairs = {(p.first, p.second): p for p in result["ta"].pairs}
    assert set(pairs) == {(alice, bob), (alice, carol)}
    ab = pairs[alice, bob].detailed
    assert ab.n == 6
    assert ab.table[INC] == {INC: 2, EXC: 1, MAY: 0} and ab.table[MAY] == {INC: 1, EXC: 0, MAY: 0}
    assert ab.observed == pytest.approx(0.666666666666667)
    assert ab.expected == pytest.approx(0.416666666666667)
    assert ab.kappa == pytest.approx(0.428571428571429, abs=1e-12)
    assert pairs[alice, carol].detailed.n == 2
    assert pairs[alice, carol].detailed.percent == 100.0
    assert result["ta"].overall.detailed.n == 8
    assert result["ta"].overall.detailed.agreed == 6
    (ft,) = result["ft"].pairs
    assert (ft.first, ft.second) == (bob, carol)
    assert ft.binary is None
    assert ft.detailed.n == 2
    assert ft.detailed.table == {INC: {INC: 0, EXC: 1}, EXC: {INC: 0, EXC: 1}}
    assert ft.detailed.percent == 50.0
    # R: kappa(matrix(c(0,1, 0,1), nrow=2, byrow=TRUE)) -> po=0.5 pe=0.5 kappa=0
    assert ft.detailed.kappa == pytest.approx(0.0)


def test_every_stage_is_reported_even_with_no_decisions():
    result = agreement_by_stage([ta(1, "alice", INC)])

    assert set(result) == {"ta", "ft"}
    assert result["ft"].pairs == []
    assert result["ft"].overall.detailed.n == 0
    assert result["ta"].overall.detailed.kappa is None


def test_reviewers_sort_numerically_so_rows_are_always_the_same_person():
    rows = [ta(1, 10, INC), ta(1, 9, EXC)]

    (pair,) = agreement_by_stage(rows)["ta"].pairs

    assert (pair.first, pair.second) == (9, 10)
    assert pair.detailed.table[EXC][INC] == 1


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="xx"):
        agreement_by_stage([DecisionRow(1, 1, "xx", INC)])
