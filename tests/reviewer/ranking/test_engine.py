"""The ranking engine: learns from decisions, finds relevant records early, says why not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reviewer.ranking.engine import LEARNT, QUESTION, Query, Ranker, Ranking, RankInput
from reviewer.ranking.simulation import asreview_priors, simulate, wss

SMALL_SET = "screening/Cohen_2006_UrinaryIncontinence.csv"


def _small_set(shared_data: Path, size: int = 400) -> tuple[list[RankInput], list[int]]:
    with (shared_data / SMALL_SET).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:size]
    records = [
        RankInput(id=int(row["record_id"]), title=row["title"], abstract=row["abstract"])
        for row in rows
    ]
    return records, [int(row["label_included"]) for row in rows]


RECORDS = [
    RankInput(
        id=1, title="Tolterodine for overactive bladder", abstract="urinary incontinence trial"
    ),
    RankInput(id=2, title="Beta blockers after myocardial infarction", abstract="mortality"),
    RankInput(
        id=3, title="Oxybutynin versus tolterodine", abstract="overactive bladder, incontinence"
    ),
    RankInput(
        id=4, title="Statins and stroke", abstract="cholesterol lowering", keywords=("bladder",)
    ),
    RankInput(id=5, title="Hip fracture surgery", abstract="mortality after surgery"),
]


@pytest.mark.slow
def test_ranked_screening_finds_relevant_records_far_earlier_than_import_order(
    shared_data: Path,
) -> None:
    records, labels = _small_set(shared_data)
    ranked = simulate(records, labels, seed=1).labels_in_order
    relevant, irrelevant = asreview_priors(labels, seed=1)
    rest = [row for row in range(len(labels)) if row not in (relevant, irrelevant)]
    import_order = [labels[row] for row in [relevant, irrelevant, *rest]]

    assert sum(labels) >= 20
    assert sorted(ranked) == sorted(labels)
    assert wss(import_order) < 0.10
    assert wss(ranked) > wss(import_order) + 0.30


def test_too_few_labels_explains_why_and_keeps_plain_order() -> None:
    ranker = Ranker(RECORDS)

    ranking = ranker.train({1: True})

    assert not ranking.trained
    assert ranking.scores == {}
    assert ranking.reason == (
        "Ranking needs at least one relevant and one irrelevant decision "
        "(1 relevant, 0 irrelevant so far)."
    )
    assert ranking.order([5, 3, 1]) == [5, 3, 1]
    assert "(0 relevant, 0 irrelevant" in ranker.train({}).reason


def test_scores_every_record_between_0_and_1_and_ranks_similar_text_first() -> None:
    ranking = Ranker(RECORDS).train({1: True, 2: False})

    assert ranking.trained
    assert ranking.reason == ""
    assert set(ranking.scores) == {1, 2, 3, 4, 5}
    assert all(0.0 <= score <= 1.0 for score in ranking.scores.values())
    assert ranking.order([5, 4, 3])[0] == 3
    assert ranking.scores[3] > ranking.scores[5]


def test_keywords_are_part_of_the_text() -> None:
    ranking = Ranker(RECORDS).train({1: True, 2: False})

    assert ranking.scores[4] > ranking.scores[5]  # only its keyword "bladder" links it


@pytest.mark.slow
def test_retraining_is_deterministic(shared_data: Path) -> None:
    records, labels = _small_set(shared_data, size=120)
    ranker = Ranker(records)
    known = {
        record.id: bool(label) for record, label in zip(records[:40], labels[:40], strict=True)
    }

    first = ranker.train(known, seed=3)
    again = Ranker(records).train(known, seed=3)

    assert first.scores == again.scores
    assert simulate(records, labels, seed=2).order == simulate(records, labels, seed=2).order


def test_order_puts_most_relevant_first_and_keeps_input_order_for_ties() -> None:
    ranking = Ranking(trained=True, scores={"a": 0.2, "b": 0.9, "c": 0.2, "d": 0.5})

    assert ranking.order(["a", "b", "c", "d"]) == ["b", "d", "a", "c"]
    assert ranking.order(["c", "a"]) == ["c", "a"]


def test_unknown_record_in_labels_is_an_error_not_ignored() -> None:
    with pytest.raises(KeyError):
        Ranker(RECORDS).train({1: True, 99: False})


def test_records_without_text_cannot_be_ranked() -> None:
    ranking = Ranker([RankInput(id=1), RankInput(id=2)]).train({1: True, 2: False})

    assert not ranking.trained
    assert "title or abstract" in ranking.reason


def test_a_match_in_the_title_counts_more_than_the_same_match_in_the_abstract() -> None:
    records = [
        *RECORDS,
        RankInput(id=6, title="Tolterodine in older adults", abstract="hip fracture outcomes"),
        RankInput(id=7, title="Hip fracture outcomes", abstract="Tolterodine in older adults"),
    ]

    ranking = Ranker(records).train({1: True, 2: False})

    assert ranking.scores[6] > ranking.scores[7]


# --- before the first relevant and irrelevant label: similarity to the review's question ---


def test_before_any_label_records_are_ranked_by_similarity_to_the_question() -> None:
    ranking = Ranker(RECORDS).train(
        {}, query=Query(seek="Urinary incontinence, overactive bladder")
    )

    assert ranking.trained and ranking.method == QUESTION
    assert ranking.reason.startswith("Ranking needs at least one relevant and one irrelevant")
    assert set(ranking.order([5, 4, 3, 2, 1])[:2]) == {1, 3}
    assert all(0.0 <= score <= 1.0 for score in ranking.scores.values())
    assert ranking.scores[4] > ranking.scores[5]  # its keyword "bladder"


def test_the_question_ranks_until_there_is_one_relevant_and_one_irrelevant_label() -> None:
    ranker = Ranker(RECORDS)
    query = Query(seek="statins and stroke")

    only_relevant = ranker.train({1: True}, query=query)
    learnt = ranker.train({1: True, 2: False}, query=query)

    assert only_relevant.method == QUESTION
    assert only_relevant.order([1, 2, 3, 4, 5])[0] == 4
    assert learnt.method == LEARNT and learnt.reason == ""
    assert learnt.order([5, 4, 3])[0] == 3  # now the labels decide, not the question


def test_a_question_word_matches_its_plural_and_the_drug_names_built_on_it() -> None:
    records = [
        RankInput(id=1, title="Sumatriptan nasal spray for migraine"),
        RankInput(id=2, title="Estrogen therapy after menopause"),
        RankInput(id=3, title="Physiotherapy for back pain"),
    ]
    ranker = Ranker(records)

    assert ranker.train({}, query=Query(seek="Triptans")).order([3, 2, 1])[0] == 1
    assert ranker.train({}, query=Query(seek="Estrogens")).order([3, 1, 2])[0] == 2


def test_a_record_that_repeats_the_question_word_does_not_outrank_one_that_has_it_once() -> None:
    records = [
        RankInput(id=1, title="NSAIDs: a review", abstract="NSAIDs, NSAID toxicity and NSAIDs."),
        RankInput(id=2, title="Celecoxib in osteoarthritis", abstract="A trial of two NSAIDs."),
        RankInput(id=3, title="Hip fracture surgery", abstract="mortality after surgery"),
    ]
    ranking = Ranker(records).train({}, query=Query(seek="NSAIDs"))

    assert ranking.scores[1] == pytest.approx(ranking.scores[2], abs=1e-6)
    assert min(ranking.scores[1], ranking.scores[2]) > ranking.scores[3]


def test_a_rare_question_word_counts_more_than_a_common_one() -> None:
    records = [
        RankInput(id=1, title="A trial of physiotherapy"),
        RankInput(id=2, title="A trial of aspirin"),
        RankInput(id=3, title="Celecoxib and the stomach"),
        RankInput(id=4, title="A trial of surgery"),
    ]
    ranking = Ranker(records).train({}, query=Query(seek="trial of celecoxib"))

    assert ranking.order([1, 2, 4, 3])[0] == 3


def test_a_question_word_every_record_has_orders_nothing() -> None:
    records = [RankInput(id=i, title=f"Surgery outcome {i}") for i in range(5)]

    ranking = Ranker(records).train({}, query=Query(seek="surgery"))

    assert not ranking.trained
    assert ranking.order([4, 3, 2, 1, 0]) == [4, 3, 2, 1, 0]


def test_records_with_the_same_question_words_come_in_a_seeded_random_order() -> None:
    records = [RankInput(id=i, title=f"Statins study number {i}") for i in range(40)]
    records += [RankInput(id=40 + i, title=f"Surgery study number {i}") for i in range(10)]
    ids = [record.id for record in records]
    ranker = Ranker(records)

    first = ranker.train({}, seed=1, query=Query(seek="statins")).order(ids)
    again = ranker.train({}, seed=1, query=Query(seek="statins")).order(ids)
    other = ranker.train({}, seed=2, query=Query(seek="statins")).order(ids)

    assert first == again
    assert set(first[:40]) == set(range(40))  # every statin study before the others
    assert first[:40] != ids[:40]  # not import order
    assert other[:40] != first[:40]


def test_terms_marked_as_signs_of_irrelevance_push_records_down() -> None:
    query = Query(seek="overactive bladder", avoid="statins")
    ranking = Ranker(RECORDS).train({}, query=query)

    assert ranking.scores[4] < ranking.scores[5]  # "bladder" once, but a statin study


def test_a_question_that_shares_no_word_with_the_records_ranks_nothing() -> None:
    ranking = Ranker(RECORDS).train({}, query=Query(seek="xylophones"))

    assert not ranking.trained
    assert not Ranker(RECORDS).train({}, query=Query(seek="  ")).trained


@pytest.mark.slow
def test_simulation_from_no_label_starts_with_the_question(shared_data: Path) -> None:
    records, labels = _small_set(shared_data)
    query = Query(seek="Urinary incontinence")
    asked = simulate(records, labels, seed=1, zero_start=True, query=query)
    blind = simulate(records, labels, seed=1, zero_start=True)
    by_question = Ranker(records).train({}, seed=1, query=query).order([r.id for r in records])
    rows = {record.id: row for row, record in enumerate(records)}

    assert sorted(asked.labels_in_order) == sorted(labels)
    assert len(set(asked.order)) == len(records)
    first_relevant = asked.labels_in_order.index(1)
    # until the first relevant record, the order is the question's
    assert asked.order[: first_relevant + 1] == [rows[i] for i in by_question[: first_relevant + 1]]
    assert asked.order != blind.order  # a random start is another order
