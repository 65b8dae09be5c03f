"""Relevance ranking: learn from the screening decisions so far, score every record.

Pure code (no Django): records with their text go in once, labels go in on every
retrain, scores come out. The text is vectorised once per `Ranker` (TF-IDF of title
weighted up, abstract and keywords); every retrain reuses that matrix and fits only a
small linear model on the labelled rows, so a retrain on 20,000 records takes well under
a second.

The model was chosen and tuned only on the simulation in `bench/ranking_simulation.py`
(the Cohen et al. 2006 sets, compared with ASReview LAB's default); see
`bench/ranking_results.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

RecordId: TypeAlias = int | str

# TF-IDF settings: word unigrams and bigrams, sublinear term frequency.
NGRAM_RANGE = (1, 2)
MAX_DF = 0.95
# The title counts TITLE_REPEATS times in the text (it is repeated before the abstract):
# a title is the densest statement of what a study is about.
TITLE_REPEATS = 2
# The linear SVM: small C (strong regularisation, as few labels are known early on)
# and relevant records weighted up so that they carry RELEVANT_WEIGHT_RATIO times the
# total weight of the irrelevant ones (ASReview LAB's "balanced" sample weighting).
SVM_C = 0.2
# Why these values: ASReview LAB's default is this model with the title counted once and
# C 0.11. Title x2 and C 0.2 raised the mean WSS@95 over the six Cohen sets (seeds 1-3)
# from 42.0% to 44.5%, no set's mean below ASReview's; on held-out seeds 4-5 the mean
# rose from 39.9% to 41.9% (Triptans 0.6 points lower). Chosen on those same six sets,
# so expect less gain elsewhere; bench/ranking_results.md lists every variant tried.
RELEVANT_WEIGHT_RATIO = 9.8


@dataclass(frozen=True, slots=True)
class RankInput:
    """One record as the ranker sees it."""

    id: RecordId
    title: str = ""
    abstract: str = ""
    keywords: tuple[str, ...] = ()

    def text(self) -> str:
        return " ".join([*[self.title] * TITLE_REPEATS, self.abstract, *self.keywords])


@dataclass(frozen=True)
class Ranking:
    """The outcome of one retrain.

    `scores` holds a relevance score in 0..1 for every record (labelled ones too) when
    `trained`; otherwise it is empty and `reason` says why in words a reviewer reads.
    """

    trained: bool
    reason: str = ""
    scores: dict[RecordId, float] = field(default_factory=dict)

    def order(self, ids: Iterable[RecordId]) -> list[RecordId]:
        """`ids` with the most relevant first; ties (and an untrained ranking) keep input order."""
        ids = list(ids)
        if not self.trained:
            return ids
        positions = {record_id: index for index, record_id in enumerate(ids)}
        return sorted(ids, key=lambda rid: (-self.scores.get(rid, 0.0), positions[rid]))


class Ranker:
    """Vectorises a screening set once; `train` fits a model on the labels known so far."""

    def __init__(self, records: Sequence[RankInput]) -> None:
        self.ids: list[RecordId] = [record.id for record in records]
        self._row = {record_id: row for row, record_id in enumerate(self.ids)}
        if len(self._row) != len(self.ids):
            raise ValueError("Record ids passed to the ranker must be unique.")
        texts = [record.text() for record in records]
        self.matrix: sparse.csr_matrix
        if any(text.strip() for text in texts):
            vectorizer = TfidfVectorizer(
                ngram_range=NGRAM_RANGE,
                sublinear_tf=True,
                max_df=MAX_DF if len(texts) > 20 else 1.0,
                dtype=np.float64,
            )
            try:
                self.matrix = sparse.csr_matrix(vectorizer.fit_transform(texts))
            except ValueError:  # only stop words / no token of two characters or more
                self.matrix = sparse.csr_matrix((len(texts), 0))
        else:
            self.matrix = sparse.csr_matrix((len(texts), 0))

    def train(self, labels: Mapping[RecordId, bool], *, seed: int = 0) -> Ranking:
        """Fit on `labels` (record id -> relevant?) and score every record.

        Needs at least one relevant and one irrelevant label; ids the ranker does not
        know raise `KeyError` (a caller bug, never silently dropped).
        """
        rows = [self._row[record_id] for record_id in labels]
        y = np.fromiter((bool(value) for value in labels.values()), dtype=np.int8, count=len(rows))
        n_relevant = int(y.sum())
        n_irrelevant = len(rows) - n_relevant
        if n_relevant == 0 or n_irrelevant == 0:
            return Ranking(
                trained=False,
                reason=(
                    "Ranking needs at least one relevant and one irrelevant decision "
                    f"({n_relevant} relevant, {n_irrelevant} irrelevant so far)."
                ),
            )
        if self.matrix.shape[1] == 0:
            return Ranking(
                trained=False,
                reason="Ranking needs records with a title or abstract to learn from.",
            )
        x = self.matrix[rows]
        weights = np.where(y == 1, 1.0, n_relevant / (RELEVANT_WEIGHT_RATIO * n_irrelevant))
        weights *= len(y) / weights.sum()
        model = LinearSVC(C=SVM_C, random_state=seed)
        model.fit(x, y, sample_weight=weights)
        decision = np.asarray(model.decision_function(self.matrix), dtype=np.float64)
        # A logistic squash keeps the order and gives a 0..1 score to show.
        scores = 1.0 / (1.0 + np.exp(-decision))
        return Ranking(
            trained=True,
            scores=dict(zip(self.ids, scores.tolist(), strict=True)),
        )
