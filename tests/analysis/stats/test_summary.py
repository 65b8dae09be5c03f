"""`summarise`: categorical fields with not-reported patients, multiple choice, and numbers
with the interquartile range R's `quantile(type = 7)` gives."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.stats import (
    CategoricalSummary,
    FieldSpec,
    NumericSummary,
    StatsInputError,
    summarise,
)
from tests.analysis.stats import r_reference

FRAME = pd.DataFrame(
    {
        "study_key": ["s1"] * 6,
        "sex": ["female", "male", "Not reported", "female", "", "female"],
        "site": ["chest; abdomen", "abdomen", "NR", "", "chest;chest", "limb"],
        "age": ["34", "51", " 40 ", "not reported", "22", "60"],
    }
)


def test_categorical_counts_percent_of_reported_and_not_reported() -> None:
    (sex,) = summarise(FRAME, [FieldSpec("sex", "Sex", "categorical", ("male", "female"))])
    assert isinstance(sex, CategoricalSummary)
    assert [(level.level, level.n) for level in sex.levels] == [("male", 1), ("female", 3)]
    assert [level.percent for level in sex.levels] == [25.0, 75.0]
    assert (sex.denominator, sex.not_reported, sex.total) == (4, 2, 6)


def test_levels_without_an_order_come_in_natural_order() -> None:
    (sex,) = summarise(FRAME, [FieldSpec("sex", "Sex")])
    assert isinstance(sex, CategoricalSummary)
    assert [level.level for level in sex.levels] == ["female", "male"]


def test_a_given_level_nobody_has_is_shown_as_zero() -> None:
    (sex,) = summarise(FRAME, [FieldSpec("sex", "Sex", levels=("female", "male", "other"))])
    assert isinstance(sex, CategoricalSummary)
    assert (sex.levels[2].n, sex.levels[2].percent) == (0, 0.0)


def test_multiple_choice_counts_each_level_once_per_patient() -> None:
    field = FieldSpec("site", "Injury site", "multi", ("chest", "abdomen", "limb"))
    (site,) = summarise(FRAME, [field])
    assert isinstance(site, CategoricalSummary)
    assert site.kind == "multi"
    assert [(level.level, level.n) for level in site.levels] == [
        ("chest", 2),
        ("abdomen", 2),
        ("limb", 1),
    ]
    assert (site.denominator, site.not_reported) == (4, 2)
    assert [level.percent for level in site.levels] == [50.0, 50.0, 25.0]  # sums over 100


def test_multiple_choice_as_lists() -> None:
    frame = pd.DataFrame({"site": [["chest", "limb"], [], ["limb", "NR"], None]})
    (site,) = summarise(frame, [FieldSpec("site", "Site", "multi")])
    assert isinstance(site, CategoricalSummary)
    assert [(level.level, level.n) for level in site.levels] == [("chest", 1), ("limb", 2)]
    assert (site.denominator, site.not_reported) == (2, 2)


def test_numeric_median_iqr_range_and_not_reported() -> None:
    (age,) = summarise(FRAME, [FieldSpec("age", "Age", "numeric", unit="years")])
    assert isinstance(age, NumericSummary)
    assert (age.n, age.not_reported, age.total) == (5, 1, 6)
    assert (age.median, age.q1, age.q3) == (40.0, 34.0, 51.0)
    assert (age.minimum, age.maximum) == (22.0, 60.0)
    assert age.mean == pytest.approx(41.4)
    assert age.unit == "years"


@pytest.mark.parametrize(
    "sample", r_reference()["quantiles"], ids=[q["name"] for q in r_reference()["quantiles"]]
)
def test_quartiles_are_rs_type_7(sample: dict[str, object]) -> None:
    values = sample["values"]
    assert isinstance(values, list)
    frame = pd.DataFrame({"x": [str(v) for v in values]})
    (summary,) = summarise(frame, [FieldSpec("x", "x", "numeric")])
    assert isinstance(summary, NumericSummary)
    assert summary.q1 == pytest.approx(sample["q1"], rel=1e-12)
    assert summary.median == pytest.approx(sample["median"], rel=1e-12)
    assert summary.q3 == pytest.approx(sample["q3"], rel=1e-12)


def test_a_number_nobody_reported() -> None:
    frame = pd.DataFrame({"age": ["", "NR"]})
    (age,) = summarise(frame, [FieldSpec("age", "Age", "numeric")])
    assert isinstance(age, NumericSummary)
    assert (age.n, age.not_reported, age.median, age.sd) == (0, 2, None, None)
    assert age.to_dict()["median"] is None


class TestErrors:
    def test_text_in_a_numeric_field_names_the_field_value_and_row(self) -> None:
        frame = pd.DataFrame({"age": ["34", "forty"]})
        with pytest.raises(StatsInputError, match=r"Age: “forty” \(row 2\) is not a number"):
            summarise(frame, [FieldSpec("age", "Age", "numeric")])

    def test_a_value_outside_the_levels(self) -> None:
        with pytest.raises(StatsInputError, match=r"Sex: “female” \(row 1\) is not one of"):
            summarise(FRAME, [FieldSpec("sex", "Sex", levels=("male", "other"))])

    def test_a_missing_column(self) -> None:
        with pytest.raises(StatsInputError, match="no column “bmi” for BMI; its columns are"):
            summarise(FRAME, [FieldSpec("bmi", "BMI", "numeric")])
