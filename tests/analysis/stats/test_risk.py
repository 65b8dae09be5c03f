"""`risk_factor_table`: outcomes by exposure group, a row per outcome level with n/N (%)
per group, and the p of exposure × outcome with the test the rule chose."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.stats import FieldSpec, StatsInputError, crosstab, risk_factor_table
from tests.analysis.stats import SITE_COUNTS, SITES, patients

SITE = FieldSpec("site", "Injury site", levels=SITES)
NON_OPERATIVE = FieldSpec("non_operative", "Non-operative management", levels=("yes", "no"))


def reference_frame() -> pd.DataFrame:
    sites, managed = patients(SITE_COUNTS, SITES, ("yes", "no"))
    recurrence = ["yes" if i % 5 == 0 else "no" for i in range(len(sites))]
    recurrence[:3] = ["not reported"] * 3
    return pd.DataFrame(
        {"site": sites, "non_operative": managed, "recurrence": recurrence, "one": "x"}
    )


def test_rows_per_outcome_level_with_counts_per_group() -> None:
    table = risk_factor_table(reference_frame(), SITE, [NON_OPERATIVE])
    assert table.groups == SITES
    assert table.group_sizes == (13, 34, 125, 233)
    (outcome,) = table.outcomes
    yes, no = outcome.levels
    assert (yes.level, no.level) == ("yes", "no")
    assert [(g.n, g.denominator) for g in yes.groups] == [(2, 13), (5, 34), (4, 125), (9, 233)]
    assert yes.groups[0].percent == pytest.approx(100 * 2 / 13)
    assert (yes.total.n, yes.total.denominator) == (20, 405)
    assert [g.n for g in no.groups] == [11, 29, 121, 224]


def test_the_p_is_the_crosstabs_with_its_test() -> None:
    frame = reference_frame()
    table = risk_factor_table(frame, SITE, [NON_OPERATIVE], rule="likelihood_ratio")
    (outcome,) = table.outcomes
    direct = crosstab(
        frame["site"].tolist(), frame["non_operative"].tolist(), rule="likelihood_ratio"
    )
    assert outcome.p == pytest.approx(direct.likelihood_ratio.p, rel=1e-12)
    assert outcome.test == "likelihood_ratio"
    assert outcome.test_name == "Likelihood-ratio chi-square"
    assert outcome.p_formatted == "0.043"


def test_not_reported_outcomes_are_left_out_and_counted() -> None:
    table = risk_factor_table(reference_frame(), SITE, ["recurrence"])
    (outcome,) = table.outcomes
    assert outcome.label == "recurrence"
    assert outcome.excluded == 3
    assert [level.level for level in outcome.levels] == ["no", "yes"]
    assert sum(level.total.n for level in outcome.levels) == 402
    assert "3 patients" in outcome.note


def test_an_outcome_that_cannot_be_tested_keeps_its_counts_and_says_why() -> None:
    table = risk_factor_table(reference_frame(), SITE, ["one", NON_OPERATIVE])
    single, tested = table.outcomes
    assert single.p is None
    assert single.p_formatted == ""
    assert "single level" in single.note
    assert [g.n for g in single.levels[0].groups] == [13, 34, 125, 233]
    assert tested.p is not None


def test_a_group_without_patients_keeps_its_column() -> None:
    exposure = FieldSpec("site", "Injury site", levels=(*SITES, "spine"))
    table = risk_factor_table(reference_frame(), exposure, [NON_OPERATIVE])
    (outcome,) = table.outcomes
    assert table.group_sizes[-1] == 0
    assert outcome.levels[0].groups[-1].percent is None
    assert outcome.p is not None
    assert "“spine”: no patients" in outcome.note


def test_to_dict_is_json_ready() -> None:
    data = risk_factor_table(reference_frame(), SITE, [NON_OPERATIVE]).to_dict()
    assert data["groups"] == list(SITES)
    outcome = data["outcomes"][0]  # type: ignore[index]
    assert outcome["levels"][0]["groups"][0] == {
        "n": 2,
        "denominator": 13,
        "percent": pytest.approx(15.3846, rel=1e-4),
    }


def test_numeric_outcomes_are_refused() -> None:
    with pytest.raises(StatsInputError, match="compares categorical outcomes only"):
        risk_factor_table(reference_frame(), SITE, [FieldSpec("age", "Age", "numeric")])


def test_a_numeric_exposure_is_refused() -> None:
    with pytest.raises(StatsInputError, match="the exposure of a risk-factor table is categorical"):
        risk_factor_table(reference_frame(), FieldSpec("age", "Age", "numeric"), [NON_OPERATIVE])
