"""Compare ways of ordering records by the review's question before the first labels.

    nice .venv/bin/python bench/ranking_question_candidates.py [--seed 1 ...] [--ties engine|other]

RRF@10 from zero labels (`reviewer.ranking.simulation.simulate` with `zero_start`, the
question derived from the Cohen set's topic name by `bench/ranking_simulation.py`), for two
concept scores: "weight" (a record's largest TF-IDF weight among the words matching each
question concept: the engine before December 2026) and "presence" (the inverse document
frequency of each concept the record has: the engine now). Ties are broken by the
engine's own seeded random order (`--ties engine`: `RandomState(seed)`) or by another draw
(`--ties other`: `RandomState(1000 + seed)`); both are reported in bench/ranking_results.md
because the tie order moves single sets by up to 50 points.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ranking_simulation import load, topic_question

from reviewer.ranking.engine import Query, Ranker
from reviewer.ranking.simulation import rrf, simulate

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "screening"
TIES: dict[str, Any] = {"mode": "engine", "seed": 0}


def _columns(ranker: Ranker) -> sparse.csc_matrix:
    if ranker._csc is None:
        ranker._csc = sparse.csc_matrix(ranker.matrix)
    return ranker._csc


def weight(ranker: Ranker, concepts: list[list[int]]) -> np.ndarray:
    total = np.zeros(ranker.matrix.shape[0])
    for columns in concepts:
        total += np.asarray(_columns(ranker)[:, columns].max(axis=1).toarray()).ravel()
    return np.asarray(total + _ties(len(total)))


def presence(ranker: Ranker, concepts: list[list[int]]) -> np.ndarray:
    total = np.zeros(ranker.matrix.shape[0])
    for columns in concepts:
        has = np.asarray(_columns(ranker)[:, columns].max(axis=1).toarray()).ravel() > 0
        total += math.log(len(has) / max(1, int(has.sum()))) * has
    return np.asarray(total + _ties(len(total)))


def _ties(n: int) -> np.ndarray:
    if TIES["mode"] == "engine":  # the engine adds its own
        return np.zeros(n)
    return np.asarray(1e-6 * np.random.RandomState(1000 + int(TIES["seed"])).random_sample(n))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, action="append", dest="seeds")
    parser.add_argument("--ties", choices=["engine", "other"], default="engine")
    args = parser.parse_args()
    TIES["mode"] = args.ties
    seeds = args.seeds or [1, 2, 3, 4, 5]
    means: dict[str, list[float]] = {"weight": [], "presence": []}
    for path in sorted(DATA.glob("Cohen_2006_*.csv")):
        records, labels = load(path, "label_included")
        topic = path.stem.removeprefix("Cohen_2006_")
        query = Query(seek=topic_question(topic))
        tenth = math.ceil(0.1 * len(records) - 1e-9)
        line = f"{topic:<24}"
        for name, concept_sum in (("weight", weight), ("presence", presence)):
            Ranker._concept_sum = concept_sum  # type: ignore[method-assign,assignment]
            values = []
            for seed in seeds:
                TIES["seed"] = seed
                result = simulate(
                    records, labels, query=query, seed=seed, zero_start=True, screen_at_most=tenth
                )
                values.append(100 * rrf(result.labels_in_order))
            means[name].append(statistics.mean(values))
            line += f"  {name} " + " / ".join(f"{v:.1f}" for v in values)
            line += f" (mean {means[name][-1]:.1f})"
        print(line, flush=True)
    print(
        "mean of the sets: " + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in means.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
