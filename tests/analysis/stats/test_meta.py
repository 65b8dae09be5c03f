"""`analysis.stats.meta` beyond metafor's numbers: bad input named, what cannot be pooled
said, the stored result read back, leave-one-out rows that cannot be pooled."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats import StatsInputError
from analysis.stats.meta import (
    Pooled,
    _logit_escalc,
    _reml_scoring,
    leave_one_out,
    pool_proportions,
    pool_two_groups,
    subgroups,
    transf_ipft_hm,
)


def test_more_events_than_the_total_names_the_study() -> None:
    with pytest.raises(StatsInputError, match="Jones: 12 events of 10 is not a proportion"):
        pool_proportions([1, 12], [10, 10], labels=["Smith", "Jones"], method="dl")


def test_a_study_without_participants_is_refused() -> None:
    with pytest.raises(StatsInputError, match="Study 2: the total must be at least 1"):
        pool_proportions([1, 0], [10, 0], method="dl")


def test_the_glmm_says_why_it_cannot_pool_studies_without_any_event() -> None:
    with pytest.raises(StatsInputError, match="Every study has no event"):
        pool_proportions([0, 0, 0], [10, 12, 8], method="glmm")


def test_the_logit_states_its_continuity_correction() -> None:
    result = pool_proportions([0, 3, 10], [10, 12, 10], method="reml")

    assert result.correction == (
        "0.5 added to the events and non-events of 2 studies with 0 or all events"
    )
    assert pool_proportions([1, 3], [10, 12], method="dl").correction == "none needed"


def test_a_stored_result_reads_back_as_the_same_result() -> None:
    result = pool_proportions([2, 3, 0, 5], [10, 12, 8, 20], method="glmm")

    assert Pooled.from_dict(result.to_dict()) == result


def test_the_double_arcsine_goes_back_to_zero_and_one_at_its_ends() -> None:
    assert transf_ipft_hm(0.0, [10, 20]) == 0.0
    assert transf_ipft_hm(math.pi / 2, [10, 20]) == 1.0


def test_leave_one_out_keeps_a_row_that_cannot_be_pooled_with_the_reason() -> None:
    events_1, totals_1 = [2, 0, 0], [7, 5, 4]
    events_2, totals_2 = [1, 0, 1], [13, 15, 16]

    def pool(indices: list[int]) -> Pooled:
        return pool_two_groups(
            [events_1[i] for i in indices],
            [totals_1[i] for i in indices],
            [events_2[i] for i in indices],
            [totals_2[i] for i in indices],
            method="mh",
        )

    table = leave_one_out(pool, ["A", "B", "C"])

    assert table.rows[0].estimate is None
    assert "Mantel–Haenszel odds ratio is 0 or infinite" in table.rows[0].note
    assert table.rows[1].estimate is not None and table.rows[1].k == 2


def test_a_subgroup_that_cannot_be_pooled_is_named() -> None:
    def pool(indices: list[int]) -> Pooled:
        return pool_proportions(
            [[0, 0, 3, 4][i] for i in indices], [[5, 6, 10, 9][i] for i in indices]
        )

    with pytest.raises(StatsInputError, match="subgroup “none”: Every study has no event"):
        subgroups(pool, ["none", "none", "some", "some"])


def test_the_95_percent_normal_quantile_is_scipys() -> None:
    """`meta.Z` is written out so that loading the module does not import scipy."""
    from scipy import stats

    from analysis.stats import meta

    assert float(stats.norm.ppf(0.975)) == meta.Z


def test_reml_that_overshoots_at_full_steps_takes_shorter_ones_as_metafor_s_remedy() -> None:
    """On these sparse proportions Fisher scoring at full steps overshoots back and forth
    (metafor: "did not converge"); pooling still gives REML's estimate, the one metafor
    reaches with `control = list(stepadj = 0.5)` (metafor_reference.json: "oscillating")."""
    events, totals = [4, 0, 0, 0, 1], [18, 5, 9, 7, 19]
    y, v = _logit_escalc(np.array(events, float), np.array(totals, float))
    assert _reml_scoring(y, v, 1.0) is None  # the case needs the shorter steps

    pooled = pool_proportions(events, totals, method="reml", transform="logit")

    assert pooled.tau2 == pytest.approx(0.244919188693752, rel=1e-4)
    assert pooled.estimate == pytest.approx(0.1130132475591, rel=1e-4)
