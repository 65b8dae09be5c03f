"""Screen candidate ranking models cheaply on the Cohen sets (scratch tuning, not the product).

    nice .venv/bin/python bench/ranking_candidates.py NAME '{"C": 0.11}' \
        [--retrain-every 3] [--seed 1 --seed 2] [--set OralHypoglycemics ...] [--out FILE]

The loop of `reviewer.ranking.simulation.simulate` (the same ASReview priors, highest score
screened next, retraining every `--retrain-every` decisions) with two shortcuts that keep
the WSS@95 exact: it stops at ceil(0.95 x relevant) found (WSS@95 depends on nothing
later), and each set is vectorised once per feature setting and process. With
`--retrain-every 1` and the candidate `{}` it reproduced the previous engine's (C 0.2)
figures in bench/ranking_results.md to the decimal on all 41 runs compared; with 3 it is
a cheaper screen (about a third of the fits), used to compare candidates with each other,
never with ASReview. The engine now shipped is `{"C": 0.11}`.

The candidate is JSON, every key optional (defaults: the previous engine, C 0.2, which
every candidate in bench/ranking_results.md was compared with):
  "title": title repeats (2); "C": SVM C (0.2); "ratio": relevant weight ratio (9.8);
  "ratio_mode": "fixed" or "cap" (the ratio never above the labelled irrelevant/relevant
  odds, so a set with many relevant labels is not weighted further towards them);
  "models": ["svm"] or an ensemble whose z-scored decision values are averaged: "svm",
  "svm_t1" (ASReview LAB's ELAS u4: the title once, C 0.11), "nb" (multinomial naive
  Bayes, ASReview 1.x's alpha 3.822); "features": "word" or "separate" (title and
  title + abstract vectorised apart, side by side). One JSON line per run goes to `--out`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.ranking.simulation import asreview_priors

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "screening"
SETS = [
    "ADHD",
    "Antihistamines",
    "AtypicalAntipsychotics",
    "CalciumChannelBlockers",
    "Estrogens",
    "NSAIDS",
    "Opiods",
    "OralHypoglycemics",
    "SkeletalMuscleRelaxants",
    "Triptans",
    "UrinaryIncontinence",
]
_features: dict[tuple[Any, ...], sparse.csr_matrix] = {}
_labels: dict[str, np.ndarray] = {}


def _tfidf(texts: list[str], **options: Any) -> sparse.csr_matrix:
    settings: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True, "max_df": 0.95}
    settings.update(options)
    vectorizer = TfidfVectorizer(**settings)
    return sparse.csr_matrix(vectorizer.fit_transform(texts))


def features(
    topic: str, kind: str, title: int, cand: dict[str, Any] | None = None
) -> sparse.csr_matrix:
    """The set's TF-IDF matrix for one feature setting (cached per process)."""
    cand = cand or {}
    word_options: dict[str, Any] = {}
    if cand.get("stop_words"):
        word_options["stop_words"] = cand["stop_words"]
    if cand.get("ngram_max"):
        word_options["ngram_range"] = (1, int(cand["ngram_max"]))
    if cand.get("min_df"):
        word_options["min_df"] = int(cand["min_df"])
    char = tuple(cand["char"]) if cand.get("char") else None
    key = (topic, kind, title, tuple(sorted(word_options.items())), char)
    if key not in _features:
        with (DATA / f"Cohen_2006_{topic}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        titles = [row.get("title") or "" for row in rows]
        abstracts = [row.get("abstract") or "" for row in rows]
        _labels[topic] = np.array([int(float(row["label_included"])) for row in rows])
        if kind == "separate":
            both = [f"{t} {a}" for t, a in zip(titles, abstracts, strict=True)]
            stacked = sparse.hstack([_tfidf(titles), _tfidf(both)])
            _features[key] = sparse.csr_matrix(normalize(stacked.tocsr()))
        else:
            texts = [" ".join([t] * title + [a]) for t, a in zip(titles, abstracts, strict=True)]
            matrix = _tfidf(texts, **word_options)
            if char:
                chars = _tfidf(
                    texts, analyzer="char_wb", ngram_range=char, sublinear_tf=True, max_df=0.95
                )
                matrix = sparse.csr_matrix(normalize(sparse.hstack([matrix, chars]).tocsr()))
            _features[key] = matrix
    return _features[key]


def _z(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


def scores(topic: str, rows: np.ndarray, y: np.ndarray, cand: dict[str, Any], seed: int) -> Any:
    """Every record's score from a model fitted on `rows` labelled `y`."""
    n_relevant = int(y.sum())
    n_irrelevant = len(y) - n_relevant
    phase = cand.get("phase2")
    if phase and n_relevant >= int(phase["after_relevant"]):
        cand = {**cand, **phase["set"]}
    ratio = float(cand.get("ratio", 9.8))
    if cand.get("ratio_mode") == "cap":
        ratio = min(ratio, max(1.0, n_irrelevant / n_relevant))
    if cand.get("ratio_mode") == "double":
        # ASReview 1.x "double" balance: the relevant share of the training weight
        # a (n1 / n0) ** -alpha against the irrelevant b n_read ** beta.
        one = 2.155 * (n_relevant / n_irrelevant) ** -0.94
        zero = 0.789 * (n_relevant + n_irrelevant) ** 1.0
        ratio = one / zero
    weights = np.where(y == 1, 1.0, n_relevant / (ratio * n_irrelevant))
    weights *= len(y) / weights.sum()
    models = cand.get("models", ["svm"])
    total = np.zeros(features(topic, "word", 1).shape[0])
    for model in models:
        if model == "svm_t1":
            x = features(topic, "word", 1)
            fitted: Any = LinearSVC(C=0.11, random_state=seed)
        else:
            x = features(topic, cand.get("features", "word"), int(cand.get("title", 2)), cand)
            if model == "nb":
                fitted = MultinomialNB(alpha=3.822)
            elif model == "lr":
                fitted = LogisticRegression(
                    C=float(cand.get("lr_C", 1.0)), solver="liblinear", random_state=seed
                )
            else:
                fitted = LinearSVC(
                    C=float(cand.get("C", 0.2)),
                    loss=cand.get("loss", "squared_hinge"),
                    random_state=seed,
                )
        fitted.fit(x[rows], y, sample_weight=weights)
        under = cand.get("undersample")
        if under and model == "svm" and n_relevant >= int(under["after_relevant"]):
            # Aggressive undersampling (Wallace et al. 2010; FASTREAD's "A" from 30
            # relevant on): keep as many irrelevant labels as relevant ones, dropping those
            # nearest the boundary ("far": keep the farthest) or the farthest ("near").
            labelled = np.asarray(fitted.decision_function(x[rows]))
            irrelevant = np.where(y == 0)[0]
            by_score = irrelevant[np.argsort(labelled[irrelevant])]
            kept = by_score[:n_relevant] if under["keep"] == "far" else by_score[-n_relevant:]
            keep = np.concatenate([np.where(y == 1)[0], kept])
            ratio_u = float(under.get("ratio", ratio))
            w = np.where(y[keep] == 1, 1.0, 1.0 / ratio_u)
            w *= len(keep) / w.sum()
            fitted.fit(x[rows[keep]], y[keep], sample_weight=w)
        if model == "nb":
            log_proba = fitted.predict_log_proba(x)
            decision = log_proba[:, 1] - log_proba[:, 0]
        else:
            decision = fitted.decision_function(x)
        decision = np.asarray(decision, dtype=np.float64)
        total += _z(decision) if len(models) > 1 else decision
    return total


def run(topic: str, seed: int, cand: dict[str, Any], retrain_every: int) -> float:
    """WSS@95 of one simulated screening (priors counted as screened)."""
    features(topic, "word", 1)
    labels = _labels[topic]
    n_records = len(labels)
    needed = math.ceil(0.95 * int(labels.sum()) - 1e-9)
    order = list(asreview_priors(labels.tolist(), seed))
    screened = np.zeros(n_records, dtype=bool)
    screened[order] = True
    found = 1
    while found < needed:
        rows = np.array(order)
        score = scores(topic, rows, labels[rows], cand, seed)
        score[screened] = -np.inf
        for row in np.argsort(-score, kind="stable")[:retrain_every].tolist():
            order.append(row)
            screened[row] = True
            found += int(labels[row])
            if found >= needed:
                break
    return (n_records - len(order)) / n_records - 0.05


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name")
    parser.add_argument("candidate", type=json.loads)
    parser.add_argument("--retrain-every", type=int, default=3)
    parser.add_argument("--seed", type=int, action="append", dest="seeds")
    parser.add_argument("--set", action="append", dest="sets")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    for topic in args.sets or SETS:
        for seed in args.seeds or [1, 2]:
            started = time.perf_counter()
            value = run(topic, seed, args.candidate, args.retrain_every)
            line = json.dumps(
                {
                    "name": args.name,
                    "candidate": args.candidate,
                    "retrain_every": args.retrain_every,
                    "set": topic,
                    "seed": seed,
                    "wss": round(100 * value, 2),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(line, flush=True)
            if args.out:
                with args.out.open("a") as handle:
                    handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
