"""The Callaghan & Mueller-Hansen (2020) stopping estimate."""

from __future__ import annotations

import pytest

from reviewer.ranking.stopping import recall_test


def test_p_value_matches_a_hand_computed_hypergeometric_example() -> None:
    """1,000 records; 600 screened in ranked order with 95 relevant; then a random sample of
    200 of the 400 left finds none.

    Recall < 95% needs K relevant in the 400 with 95 / (95 + K) < 0.95, i.e. K > 5, so
    K_tar = floor(95 / 0.95 - 95) + 1 = 6. With 6 relevant among 400, a sample of 200 misses
    them all with probability C(394, 200) / C(400, 200) = (200·199·198·197·196·195) /
    (400·399·398·397·396·395) = 17927 / 1191794 = 0.0150420...
    R: phyper(0, 6, 400 - 6, 200) = 0.0150420290755
    """
    result = recall_test(
        n_total=1000, n_seen_before=600, relevant_before=95, n_sampled=200, relevant_in_sample=0
    )

    assert result.k_target == 6
    assert result.n_remaining == 400
    assert result.p_value == pytest.approx(17927 / 1191794, rel=1e-12)
    assert result.stop
    assert result.statement == (
        "If recall were below 95%, a random sample of 200 of the 400 unscreened records "
        "with no relevant one would happen with probability 0.015 (< 0.05)."
    )
    assert "random" in result.method and "without replacement" in result.method
    assert "independent of it" in result.method


def test_one_relevant_in_the_sample_raises_the_bar() -> None:
    """r_seen = 96: K_tar = floor(96 / 0.95 - 95) + 1 = floor(6.05) + 1 = 7.
    R: phyper(1, 7, 400 - 7, 200) = 0.0608553155998 (> 0.05), so the hypothesis stands.
    """
    result = recall_test(
        n_total=1000, n_seen_before=600, relevant_before=95, n_sampled=200, relevant_in_sample=1
    )

    assert result.k_target == 7
    assert result.p_value == pytest.approx(0.0608553155998, rel=1e-9)
    assert not result.stop
    assert "with 1 or fewer relevant" in result.statement
    assert "(>= 0.05)" in result.statement


def test_no_sample_yet_gives_no_evidence() -> None:
    result = recall_test(
        n_total=1000, n_seen_before=600, relevant_before=95, n_sampled=0, relevant_in_sample=0
    )

    assert result.p_value == 1.0
    assert not result.stop
    assert "No random sample" in result.statement


def test_everything_screened_makes_low_recall_impossible() -> None:
    result = recall_test(
        n_total=500, n_seen_before=300, relevant_before=40, n_sampled=200, relevant_in_sample=2
    )

    assert result.p_value == 0.0
    assert result.stop


def test_too_few_records_left_for_recall_below_target() -> None:
    """40 relevant found, 1 record left: even if it is relevant, recall is 40/41 > 95%."""
    result = recall_test(
        n_total=301, n_seen_before=300, relevant_before=40, n_sampled=0, relevant_in_sample=0
    )

    assert result.k_target == 3
    assert result.p_value == 1.0  # no sample: still no claim
    sampled = recall_test(
        n_total=302, n_seen_before=300, relevant_before=40, n_sampled=1, relevant_in_sample=0
    )
    assert sampled.p_value == 0.0
    assert "impossible" in sampled.statement


def test_zero_relevant_so_far() -> None:
    """Nothing relevant seen: H0 means at least one relevant record in the pool (K_tar = 1).
    R: phyper(0, 1, 399, 100) = 0.75
    """
    result = recall_test(
        n_total=1000, n_seen_before=600, relevant_before=0, n_sampled=100, relevant_in_sample=0
    )

    assert result.k_target == 1
    assert result.p_value == pytest.approx(0.75)
    assert not result.stop
    assert "No relevant record has been found at all" in result.statement


def test_the_statement_never_says_stop_now() -> None:
    result = recall_test(
        n_total=1000, n_seen_before=600, relevant_before=95, n_sampled=200, relevant_in_sample=0
    )

    assert "stop" not in result.statement.lower()


@pytest.mark.parametrize(
    "counts",
    [
        {
            "n_total": 10,
            "n_seen_before": 11,
            "relevant_before": 0,
            "n_sampled": 0,
            "relevant_in_sample": 0,
        },
        {
            "n_total": 10,
            "n_seen_before": 5,
            "relevant_before": 6,
            "n_sampled": 0,
            "relevant_in_sample": 0,
        },
        {
            "n_total": 10,
            "n_seen_before": 5,
            "relevant_before": 1,
            "n_sampled": 6,
            "relevant_in_sample": 0,
        },
        {
            "n_total": 10,
            "n_seen_before": 5,
            "relevant_before": 1,
            "n_sampled": 2,
            "relevant_in_sample": 3,
        },
    ],
)
def test_impossible_counts_are_refused(counts: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        recall_test(**counts)
