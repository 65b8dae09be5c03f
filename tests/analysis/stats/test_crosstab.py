"""`crosstab`: the reference review's site comparison, missing values, level order, the
reporting rule, and the errors a user sees instead of a crash."""

from __future__ import annotations

import json
import math

import pytest

from analysis.stats import CrossTab, Rule, StatsInputError, crosstab, crosstab_from_counts
from tests.analysis.stats import SITE_COUNTS, SITES, patients, r_table

NON_OPERATIVE = ("yes", "no")


def site_table(rule: Rule = "auto") -> CrossTab:
    rows, cols = patients(SITE_COUNTS, SITES, NON_OPERATIVE)
    return crosstab(
        rows,
        cols,
        row_levels=SITES,
        col_levels=NON_OPERATIVE,
        row_label="site",
        col_label="non-operative management",
        rule=rule,
    )


class TestReferenceReviewSites:
    """2/13 extremities, 5/34 head/neck, 4/125 thorax, 9/233 abdomen/pelvis managed
    non-operatively; the paper reports p = 0.04 by the likelihood-ratio test."""

    def test_counts_and_expected(self) -> None:
        table = site_table()
        assert table.counts == SITE_COUNTS
        assert table.n == 405
        assert table.expected[0] == pytest.approx((13 * 20 / 405, 13 * 385 / 405), rel=1e-12)
        assert table.min_expected == pytest.approx(13 * 20 / 405, rel=1e-12)

    def test_likelihood_ratio_gives_the_papers_p(self) -> None:
        table = site_table()
        assert table.likelihood_ratio.df == 3
        assert table.likelihood_ratio.g == pytest.approx(8.141275891293256, rel=1e-9)
        assert table.likelihood_ratio.p == pytest.approx(0.04318043222232988, rel=1e-9)
        assert round(table.likelihood_ratio.p, 2) == 0.04

    def test_pearson_and_fisher_as_r_computes_them(self) -> None:
        reference = r_table("site_by_non_operative")
        table = site_table()
        assert table.pearson.p == pytest.approx(reference["pearson"]["p"], rel=1e-9)
        assert table.fisher.p == pytest.approx(reference["fisher"], rel=1e-9)
        assert table.pearson.p == pytest.approx(0.010159007997921686, rel=1e-9)
        assert table.fisher.p == pytest.approx(0.014992293774174137, rel=1e-9)

    def test_small_expected_counts_make_fisher_the_reported_test(self) -> None:
        table = site_table()
        assert table.reported_test == "fisher"
        assert table.reported_p == table.fisher.p
        assert table.reported_p_formatted == "0.015"
        assert any("2 of 8 expected counts" in warning for warning in table.warnings)

    def test_the_likelihood_ratio_rule_reports_the_papers_test(self) -> None:
        table = site_table(rule="likelihood_ratio")
        assert table.reported_test == "likelihood_ratio"
        assert table.reported_p_formatted == "0.043"


def test_missing_values_are_left_out_and_counted() -> None:
    table = crosstab(
        ["a", "a", "b", None, "b", "", "a", "b", float("nan")],
        ["x", "y", "x", "x", " not reported ", "y", "NR", "y", "x"],
    )
    assert table.counts == ((1, 1), (1, 1))
    assert table.excluded == 5
    assert table.warnings[0] == "5 patients with row or column not reported were left out."


def test_values_are_stripped_and_levels_sorted_naturally() -> None:
    table = crosstab(
        ["10 cm ", "2 cm", "2 cm", "10 cm", "Abc", "abd"], ["n", "y", "n", "y", "y", "n"]
    )
    assert table.row_levels == ("2 cm", "10 cm", "Abc", "abd")
    assert table.col_levels == ("n", "y")


def test_given_levels_keep_their_order() -> None:
    table = crosstab(["b", "a", "a", "b"], ["y", "n", "y", "n"], col_levels=["y", "n"])
    assert table.col_levels == ("y", "n")
    assert table.counts == ((1, 1), (1, 1))


def test_yates_only_for_2x2_and_only_on_request() -> None:
    assert crosstab_from_counts([[3, 1], [1, 3]]).yates is None
    corrected = crosstab_from_counts([[12, 5], [7, 14]], yates=True)
    assert corrected.yates is not None
    assert corrected.yates.chi2 == pytest.approx(r_table("moderate_2x2")["yates"]["chi2"])
    assert corrected.reported_test == "pearson_yates"
    assert corrected.reported_p == corrected.yates.p
    wide = crosstab_from_counts([[12, 5, 9], [7, 14, 10]], yates=True)
    assert wide.yates is None
    assert any("2×2 tables only" in warning for warning in wide.warnings)


def test_yates_correction_never_exceeds_the_gap() -> None:
    # |O - E| = 1/12 here, so R corrects by 1/12, not 0.5: the statistic is 0, p = 1
    table = crosstab_from_counts([[3, 2], [4, 3]], yates=True)
    assert table.yates is not None
    assert table.yates.chi2 == pytest.approx(0.0, abs=1e-12)
    assert table.yates.p == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("auto", "pearson"),
        ("pearson", "pearson"),
        ("likelihood_ratio", "likelihood_ratio"),
        ("fisher", "fisher"),
    ],
)
def test_rules_choose_the_reported_test(rule: str, expected: str) -> None:
    table = crosstab_from_counts([[30, 20], [15, 35]], rule=rule)  # type: ignore[arg-type]
    assert table.min_expected >= 5
    assert table.reported_test == expected
    assert table.warnings == ()


def test_json_has_exactly_the_documented_keys() -> None:
    data = site_table().to_dict()
    assert list(data) == [
        "counts",
        "expected",
        "row_levels",
        "col_levels",
        "excluded",
        "pearson",
        "likelihood_ratio",
        "fisher",
        "yates",
        "min_expected",
        "warnings",
        "reported_test",
        "reported_p",
        "reported_p_formatted",
    ]
    assert data["pearson"].keys() == {"chi2", "df", "p"}  # type: ignore[attr-defined]
    assert data["likelihood_ratio"].keys() == {"g", "df", "p"}  # type: ignore[attr-defined]
    assert data["fisher"] == {"p": pytest.approx(0.014992293774174137), "method": "exact"}
    assert json.loads(json.dumps(data)) == data


class TestErrors:
    def test_no_data(self) -> None:
        with pytest.raises(StatsInputError, match="No patient has both site and outcome"):
            crosstab([], [], row_label="site", col_label="outcome")

    def test_nothing_reported(self) -> None:
        with pytest.raises(StatsInputError, match=r"\(3 left out for a missing value\)"):
            crosstab(["a", None, ""], [None, "x", "NR"])

    def test_a_single_level(self) -> None:
        with pytest.raises(StatsInputError, match=r"site has a single level \(“thorax”\)"):
            crosstab(["thorax", "thorax"], ["yes", "no"], row_label="site")

    def test_a_level_without_patients(self) -> None:
        with pytest.raises(StatsInputError, match="No patient in the table has site “arm”"):
            crosstab(
                ["leg", "head", "leg"],
                ["y", "n", "n"],
                row_levels=["leg", "arm", "head"],
                row_label="site",
            )

    def test_a_level_without_patients_can_be_dropped_with_a_note(self) -> None:
        table = crosstab(
            ["leg", "head", "leg"],
            ["y", "n", "n"],
            row_levels=["leg", "arm", "head"],
            row_label="site",
            drop_empty_levels=True,
        )
        assert table.row_levels == ("leg", "head")
        assert "site “arm”: no patients, left out of the table and the tests." in table.warnings

    def test_a_level_whose_patients_lack_the_other_value_says_so(self) -> None:
        table = crosstab(
            ["Primary", "Metastasis", "Primary", "Metastasis", "Reference"],
            ["yes", "no", "no", "yes", None],
            row_levels=["Primary", "Metastasis", "Reference"],
            row_label="Site type",
            col_label="Improved",
            drop_empty_levels=True,
        )
        assert table.row_levels == ("Primary", "Metastasis")
        assert (
            "1 patient with Site type “Reference” has Improved not reported, so “Reference” "
            "is left out of the table and the tests." in table.warnings
        )
        assert not [w for w in table.warnings if "no patients" in w]

    def test_dropping_empty_levels_can_leave_a_single_one(self) -> None:
        with pytest.raises(StatsInputError, match="single level"):
            crosstab(["a", "a"], ["y", "n"], row_levels=["a", "b"], drop_empty_levels=True)

    def test_a_value_outside_the_levels(self) -> None:
        with pytest.raises(StatsInputError, match="site has the value “knee”, which is not"):
            crosstab(["leg", "knee"], ["y", "n"], row_levels=["leg", "arm"], row_label="site")

    def test_different_lengths(self) -> None:
        with pytest.raises(StatsInputError, match=r"different numbers of patients \(2 and 1\)"):
            crosstab(["a", "b"], ["y"])

    def test_an_unknown_rule(self) -> None:
        with pytest.raises(StatsInputError, match="Unknown rule “bayes”"):
            crosstab_from_counts([[1, 2], [3, 4]], rule="bayes")  # type: ignore[arg-type]

    def test_a_zero_row_in_counts(self) -> None:
        with pytest.raises(StatsInputError, match="No patient in the table has row “2”"):
            crosstab_from_counts([[1, 2], [0, 0], [3, 4]])


def test_a_perfect_fit_has_g_zero_and_p_one() -> None:
    table = crosstab_from_counts([[10, 10], [10, 10]])
    assert table.likelihood_ratio.g == 0.0
    assert table.pearson.p == 1.0
    assert table.fisher.p == pytest.approx(1.0)
    assert not math.isnan(table.likelihood_ratio.p)
