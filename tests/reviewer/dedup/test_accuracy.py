"""Regression floors on the labelled sets in ../shared/data/dedup (no database needed).

Floors sit at what the engine achieves, rounded down (see bench/dedup_accuracy.py and
bench/dedup_results.md). The haematology gold clusters put errata, letter replies, the same
abstract in two journals and seven trial registrations that differ in population or arm
("adult" / "adolescent", "sensitive" / "resistant") together with the items they concern.
The rules keep those out of the certain band on purpose (rules 1-3, 12 and 13 of
reviewer/dedup/rules.py; the registrations are not even asked about). The pairs are listed
with reasons in bench/dedup_contested_gold.csv and recall is also checked without them.

Haematology's certain floor was 0.865 before issue 14 (commit c0cd42b; the engine then
found 142 of 163 gold pairs) and was lowered to 0.80 when the contradiction rule (rule 7)
kept one team's one-page notices and meeting abstracts in other issues apart. Rules 13-14
and the split-surname fix find every pair that engine found again except two: it linked
two different trial registrations ("adult" / "adolescent" patients with plasma
therapy-sensitive aHUS, and the same for -resistant), which rule 12 keeps apart because
they are different trials. So the floor is the honest 140/163 (0.859), not 0.865. The
floor with possible pairs was 0.995 when those registrations were questions; they are not
asked about now, so it is 157/163 (0.963). The question budget: possible pairs stay under
2% of the records on the real sets (the 12 hand-made hard cases are exempt: one question
is 8%).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.dedup import Band, deduplicate
from reviewer.dedup.benchmark import (
    clusters_with_possible,
    load_contested_pairs,
    load_labelled_set,
    pairwise_scores,
    recall_without,
)

# set name -> (certain recall floor, floor without the contested gold pairs, recall floor
# with possible pairs, max possible share).
FLOORS = {
    "cytology_screening": (0.998, 1.0, 1.0, 0.02),
    "haematology": (140 / 163, 0.99, 157 / 163, 0.02),
    "special_cases": (1.0, 1.0, 1.0, 1.0),
}
CONTESTED = Path(__file__).resolve().parents[3] / "bench" / "dedup_contested_gold.csv"


@pytest.mark.parametrize("name", list(FLOORS))
@pytest.mark.slow
def test_labelled_set_floors(shared_data: Path, name: str) -> None:
    folder = shared_data / "dedup" / name
    if not folder.is_dir():
        pytest.skip(f"labelled set not found at {folder}")
    labelled = load_labelled_set(folder)
    result = deduplicate(labelled.records)
    certain = pairwise_scores(labelled.gold_clusters, result.clusters)
    assert certain.false_merges == []
    recall_floor, uncontested_floor, possible_floor, share = FLOORS[name]
    assert certain.recall >= recall_floor
    assert recall_without(certain, load_contested_pairs(CONTESTED, name)) >= uncontested_floor
    with_possible = pairwise_scores(labelled.gold_clusters, clusters_with_possible(result))
    assert with_possible.recall >= possible_floor
    possible = [pair for pair in result.pairs if pair.band is Band.POSSIBLE]
    assert len(possible) <= share * len(labelled.records)


def test_special_cases_maybe_pairs_are_possible(shared_data: Path) -> None:
    folder = shared_data / "dedup" / "special_cases"
    if not folder.is_dir():
        pytest.skip(f"labelled set not found at {folder}")
    labelled = load_labelled_set(folder)
    result = deduplicate(labelled.records)
    bands = {tuple(sorted((str(p.left), str(p.right)))): p.band for p in result.pairs}
    assert labelled.maybe_pairs
    for pair in labelled.maybe_pairs:
        assert bands.get(pair) is Band.POSSIBLE
    # the 2003 conference paper and the 2004 journal article stay apart
    assert bands.get(("id_0000011", "id_0000012"), Band.DISTINCT) is Band.DISTINCT
