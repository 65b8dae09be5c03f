"""The progress chart's geometry (reviewer.ranking.curve) and the sample size to stop."""

from __future__ import annotations

from reviewer.ranking.curve import MAX_POINTS, chart, cumulative, nice_ticks, thin
from reviewer.ranking.stopping import recall_test, sample_size_to_stop


def test_cumulative_counts_relevant_found_after_each_record() -> None:
    assert cumulative([1, 0, 1, 1, 0]) == [(0, 0), (1, 1), (2, 1), (3, 2), (4, 3), (5, 3)]


def test_a_long_line_is_thinned_but_keeps_its_end() -> None:
    points = cumulative([n % 7 == 0 for n in range(20_000)])

    kept = thin(points)

    assert len(kept) == MAX_POINTS
    assert kept[0] == (0, 0)
    assert kept[-1] == points[-1] == (20_000, 2858)


def test_ticks_are_round_numbers_covering_the_maximum() -> None:
    assert nice_ticks(204) == [0, 50, 100, 150, 200, 250]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0) == [0, 1]


def test_the_chart_puts_the_end_of_each_line_where_its_counts_are() -> None:
    drawn = chart([("You", "line--mine", [1, 0, 1, 0]), ("Resolved", "line--resolved", [])])

    mine, resolved = drawn.lines
    assert (mine.screened, mine.relevant) == (4, 2)
    assert (resolved.screened, resolved.relevant) == (0, 0)
    assert mine.points.split()[0] == f"{drawn.left:.1f},{drawn.bottom:.1f}"
    assert mine.end_x == drawn.left + (drawn.right - drawn.left) * 4 / drawn.x_max
    assert not drawn.empty


def test_the_suggested_sample_is_the_smallest_that_rejects_with_none_relevant() -> None:
    """25 screened, 19 relevant, 10 left: K_tar = 2, and P(X = 0) = C(10 - n, 2) / C(10, 2)
    is 3/45 = 0.067 for n = 7 and 1/45 = 0.022 for n = 8."""
    size = sample_size_to_stop(n_total=35, n_seen_before=25, relevant_before=19)

    assert size == 8
    p = recall_test(
        n_total=35, n_seen_before=25, relevant_before=19, n_sampled=7, relevant_in_sample=0
    ).p_value
    assert abs(p - 3 / 45) < 1e-12


def test_when_no_sample_can_reject_every_record_left_is_suggested() -> None:
    assert sample_size_to_stop(n_total=30, n_seen_before=10, relevant_before=0) == 20
    assert sample_size_to_stop(n_total=10, n_seen_before=10, relevant_before=3) == 0
