"""Simulated screening of a labelled set with the ranking engine, and its metrics.

Used by `bench/ranking_simulation.py` and the tests: the same `Ranker` the app uses,
the same priors ASReview LAB picks, the same metric definitions for both tools.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reviewer.ranking.engine import Query, Ranker, RankInput


def asreview_priors(labels: Sequence[int], seed: int) -> tuple[int, int]:
    """Row positions of one relevant and one irrelevant prior, exactly as ASReview picks them.

    `asreview simulate --n-prior-included 1 --n-prior-excluded 1 --prior-seed S` draws
    `RandomState(S).choice(included_rows, 1)` and then, from a fresh
    `RandomState(S)`, `choice(excluded_rows, 1)` (asreview/simulation/cli.py, 3.0.8).
    """
    array = np.asarray(labels)
    included = np.where(array == 1)[0]
    excluded = np.where(array == 0)[0]
    if len(included) == 0 or len(excluded) == 0:
        raise ValueError("The set needs at least one relevant and one irrelevant record.")
    relevant = int(np.random.RandomState(seed).choice(included, 1, replace=False)[0])
    irrelevant = int(np.random.RandomState(seed).choice(excluded, 1, replace=False)[0])
    return relevant, irrelevant


@dataclass(frozen=True)
class SimulationResult:
    order: list[int]  # row positions in screening order, the two priors first
    labels_in_order: list[int]  # 0/1 label of each screened record, same order
    retrain_seconds: list[float]  # one entry per retrain
    seconds: float  # the whole simulation, vectorising included


def simulate(
    records: Sequence[RankInput],
    labels: Sequence[int],
    *,
    seed: int,
    retrain_every: int = 1,
    zero_start: bool = False,
    query: Query | None = None,
    screen_at_most: int | None = None,
) -> SimulationResult:
    """Screen `records` always taking the most relevant unscreened one next.

    Starts from the two ASReview priors (or, `zero_start`, from no label at all: then the
    records are taken by similarity to `query` until one relevant and one irrelevant are
    known, or without a query in the random order `RandomState(seed).permutation`),
    retrains after every `retrain_every` decisions (screening the top of the previous
    ranking in between, as the app does), and stops retraining once every relevant record
    is found: the rest are all irrelevant, so their order changes no metric and the 0/1
    sequence is already known. `screen_at_most` stops after that many records (the rest
    follow in input order): for a metric of the first records only, such as RRF@10.
    """
    if retrain_every < 1:
        raise ValueError("retrain_every must be at least 1.")
    started = time.perf_counter()
    ranker = Ranker(records)
    n_records = len(records)
    if zero_start:
        order: list[int] = []
        found = 0
    else:
        prior_relevant, prior_irrelevant = asreview_priors(labels, seed)
        order = [prior_relevant, prior_irrelevant]
        found = 1
    fallback = np.random.RandomState(seed).permutation(n_records)
    fallback_rank = np.empty(n_records, dtype=np.float64)
    fallback_rank[fallback] = -np.arange(n_records, dtype=np.float64)
    screened = np.zeros(n_records, dtype=bool)
    screened[order] = True
    total_relevant = int(sum(labels))
    retrain_seconds: list[float] = []
    limit = n_records if screen_at_most is None else screen_at_most
    while found < total_relevant and len(order) < limit:
        tick = time.perf_counter()
        ranking = ranker.train(
            {records[row].id: bool(labels[row]) for row in order}, seed=seed, query=query
        )
        retrain_seconds.append(time.perf_counter() - tick)
        if ranking.trained:
            scores = np.array([ranking.scores[record.id] for record in records])
        else:
            scores = fallback_rank.copy()
        scores[screened] = -np.inf
        # Stable sort: ties keep input order, as Ranking.order does.
        candidates = np.argsort(-scores, kind="stable")[
            : min(retrain_every, int((~screened).sum()))
        ]
        for row in candidates.tolist():
            order.append(row)
            screened[row] = True
            found += int(labels[row])
            if found == total_relevant or len(order) >= limit:
                break
    order.extend(np.where(~screened)[0].tolist())
    return SimulationResult(
        order=order,
        labels_in_order=[int(labels[row]) for row in order],
        retrain_seconds=retrain_seconds,
        seconds=time.perf_counter() - started,
    )


def wss(labels_in_order: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at `recall`: (TN + FN) / N - (1 - recall).

    Counted over the whole screening order, the priors included as screened records:
    the records not yet screened when ceil(recall * relevant) relevant are found, as a
    share of all records, minus the share random order would leave unscreened. This is
    the definition of Cohen et al. (2006) that the issue's ASReview figures use.
    """
    array = np.asarray(labels_in_order)
    total = int(array.sum())
    needed = math.ceil(recall * total - 1e-9)
    screened = int(np.argmax(np.cumsum(array) >= needed)) + 1
    return (len(array) - screened) / len(array) - (1 - recall)


def wss_insights(labels_in_order: Sequence[int], n_priors: int = 2, recall: float = 0.95) -> float:
    """WSS as the asreview-insights package computes it (priors left out).

    Found-earlier-than-random counts at the first recall level >= `recall`, with the
    random curve `round(linspace(0, relevant, N))` (asreviewcontrib/insights/algorithms.py).
    """
    array = np.asarray(labels_in_order[n_priors:])
    n_docs = len(array)
    n_relevant = int(array.sum())
    targets = np.arange(1, n_relevant + 1)
    when_found = np.searchsorted(np.cumsum(array), targets)
    when_random = np.searchsorted(np.round(np.linspace(0, n_relevant, n_docs)), targets)
    index = int(np.argmax(targets / n_relevant >= recall))
    return float((when_random[index] - when_found[index]) / n_docs)


def rrf(labels_in_order: Sequence[int], share: float = 0.10) -> float:
    """Share of relevant records found after screening `share` of all records (priors counted)."""
    array = np.asarray(labels_in_order)
    screened = math.ceil(share * len(array) - 1e-9)
    return float(array[:screened].sum() / array.sum())


def share_to_find_all(labels_in_order: Sequence[int]) -> float:
    """Share of records screened when the last relevant one is found."""
    array = np.asarray(labels_in_order)
    return float((int(np.nonzero(array)[0][-1]) + 1) / len(array))
