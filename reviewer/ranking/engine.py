"""Relevance ranking: learn from the screening decisions so far, score every record.

Pure code (no Django): records with their text go in once, labels go in on every
retrain, scores come out. Before there is one relevant and one irrelevant label to learn
from, records are ranked by their similarity to the review's own words (its question,
criteria and highlight terms: a `Query`), so the first records screened are already the
likely ones. The text is vectorised once per `Ranker` (TF-IDF of title
weighted up, abstract and keywords); every retrain reuses that matrix and fits only a
small linear model on the labelled rows, so a retrain on 20,000 records takes well under
a second.

The model was chosen and tuned only on the simulation in `bench/ranking_simulation.py`
(the Cohen et al. 2006 sets, compared with ASReview LAB's default); see
`bench/ranking_results.md`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

# Heavy libraries are imported inside the functions that use them: loading Django (every
# web process, worker and manage.py command) must not pay for them (tests/test_startup.py).
if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse


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
SVM_C = 0.11
# Why these values: ASReview LAB's default (ELAS u4) is this model with the title counted
# once. An earlier C 0.2 had been chosen on six of the eleven Cohen sets and lost on the
# five others (OralHypoglycemics, 27% relevant, by 2.5 points WSS@95). Chosen again by
# leave-one-set-out over all eleven (bench/ranking_candidates.py, seeds 1-2): of the
# candidates screened on every set, title x2 with C 0.11 had the best mean on the other
# ten for each held-out set. C 0.11 is ASReview's own value, not one tuned on these sets.
# Result, seeds 1-5: mean WSS@95 0.7 points above ASReview's, NSAIDS 0.4 below, every
# other set level or above; bench/ranking_results.md has every set, seed and variant tried.
RELEVANT_WEIGHT_RATIO = 9.8

# Before the first relevant and irrelevant label: similarity to the query. A query word
# also matches the record words that begin with it less a plural "s" (estrogen, estrogens,
# estrogenic) and, from six letters on, the words that end with it (triptan: sumatriptan;
# drug names share such stems by design, the WHO's INN stems). Words the team marked as
# signs of irrelevance (and the exclusion criteria) count against a record at this weight.
QUERY_AVOID_WEIGHT = 0.5
QUERY_SUFFIX_MIN = 6
# Records with the same similarity are taken in a seeded random order: a share this small
# of the 0..1 score never reorders records whose concepts differ.
TIE_BREAK = 1e-9
# How a finished ranking ordered the records (`Ranking.method`).
LEARNT = "learnt"
QUESTION = "question"


@dataclass(frozen=True, slots=True)
class RankInput:
    """One record as the ranker sees it."""

    id: RecordId
    title: str = ""
    abstract: str = ""
    keywords: tuple[str, ...] = ()

    def text(self) -> str:
        return " ".join([*[self.title] * TITLE_REPEATS, self.abstract, *self.keywords])


@dataclass(frozen=True, slots=True)
class Query:
    """The review's own words: what it looks for, and what marks a record as out."""

    seek: str = ""
    avoid: str = ""

    def __bool__(self) -> bool:
        return bool(self.seek.strip())


@dataclass(frozen=True)
class Ranking:
    """The outcome of one retrain.

    `scores` holds a relevance score in 0..1 for every record (labelled ones too) when
    `trained`; otherwise it is empty and `reason` says why in words a reviewer reads.
    `method` says how it ranked: `LEARNT` from the labels, or by similarity to the
    `QUESTION` (then `reason` says why it did not learn yet).
    """

    trained: bool
    reason: str = ""
    scores: dict[RecordId, float] = field(default_factory=dict)
    method: str = ""

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
        import numpy as np
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids: list[RecordId] = [record.id for record in records]
        self._row = {record_id: row for row, record_id in enumerate(self.ids)}
        if len(self._row) != len(self.ids):
            raise ValueError("Record ids passed to the ranker must be unique.")
        texts = [record.text() for record in records]
        self.matrix: sparse.csr_matrix
        self._vectorizer = TfidfVectorizer(
            ngram_range=NGRAM_RANGE,
            sublinear_tf=True,
            max_df=MAX_DF if len(texts) > 20 else 1.0,
            dtype=np.float64,
        )
        self.matrix = sparse.csr_matrix((len(texts), 0))
        if any(text.strip() for text in texts):
            # only stop words / no token of two characters or more: no columns
            with suppress(ValueError):
                self.matrix = sparse.csr_matrix(self._vectorizer.fit_transform(texts))
        self._csc: sparse.csc_matrix | None = None
        self._unigrams: list[str] | None = None

    def train(
        self, labels: Mapping[RecordId, bool], *, seed: int = 0, query: Query | None = None
    ) -> Ranking:
        """Fit on `labels` (record id -> relevant?) and score every record.

        Learning needs at least one relevant and one irrelevant label; until then the
        records are ranked by similarity to `query` when it has words the records share.
        Ids the ranker does not know raise `KeyError` (a caller bug, never silently dropped).
        """
        import numpy as np

        rows = [self._row[record_id] for record_id in labels]
        y = np.fromiter((bool(value) for value in labels.values()), dtype=np.int8, count=len(rows))
        n_relevant = int(y.sum())
        n_irrelevant = len(rows) - n_relevant
        if self.matrix.shape[1] == 0:
            return Ranking(
                trained=False,
                reason="Ranking needs records with a title or abstract to learn from.",
            )
        if n_relevant == 0 or n_irrelevant == 0:
            reason = (
                "Ranking needs at least one relevant and one irrelevant decision "
                f"({n_relevant} relevant, {n_irrelevant} irrelevant so far)."
            )
            similar = self.similarity(query, seed=seed) if query else None
            if similar is not None:
                return Ranking(
                    trained=True,
                    reason=reason,
                    scores=dict(zip(self.ids, similar.tolist(), strict=True)),
                    method=QUESTION,
                )
            return Ranking(trained=False, reason=reason)
        scores = self._fit_scores(self.matrix[rows], y, seed)
        return Ranking(
            trained=True,
            scores=dict(zip(self.ids, scores.tolist(), strict=True)),
            method=LEARNT,
        )

    def _fit_scores(self, x: sparse.csr_matrix, y: np.ndarray, seed: int) -> np.ndarray:
        """Fit the class-weighted linear SVM on rows `x` labelled `y`; every record's score."""
        import numpy as np
        from sklearn.svm import LinearSVC

        n_relevant = int(y.sum())
        n_irrelevant = len(y) - n_relevant
        weights = np.where(y == 1, 1.0, n_relevant / (RELEVANT_WEIGHT_RATIO * n_irrelevant))
        weights *= len(y) / weights.sum()
        model = LinearSVC(C=SVM_C, random_state=seed)
        model.fit(x, y, sample_weight=weights)
        decision = np.asarray(model.decision_function(self.matrix), dtype=np.float64)
        # A logistic squash keeps the order and gives a 0..1 score to show.
        return np.asarray(1.0 / (1.0 + np.exp(-decision)), dtype=np.float64)

    def similarity(self, query: Query, *, seed: int = 0) -> np.ndarray | None:
        """Each record's similarity to `query`, in 0..1.

        None when it cannot order anything: no query word is in any record, or every record
        has every word it seeks.

        Every word and two-word phrase of the query (English stop words left out) is one
        concept; a record has a concept when it has any of the record words that match it
        (`QUERY_SUFFIX_MIN`), and its similarity is the sum of the inverse document
        frequency, log(records / records having it), of the concepts it seeks that it has,
        less `QUERY_AVOID_WEIGHT` times that sum over those it avoids.

        Which concepts a record has counts, not how often it uses them (BM25 with its term
        frequency saturated at the first use): the records were retrieved by a search on
        these same words, and the ones that repeat them most are mostly reviews and
        commentaries about the topic in general, not eligible studies (on the Cohen sets,
        ranking by TF-IDF weight put 27 irrelevant NSAIDS records before the first relevant
        one; bench/ranking_results.md). A concept every record has weighs nothing. Records
        with the same concepts tie, and ties are broken in a random order drawn from `seed`
        (the random start within each tie), never by import order.
        """
        import numpy as np

        seek = self._concepts(query.seek)
        if not seek:
            return None
        raw = self._concept_sum(seek)
        avoid = self._concepts(query.avoid)
        if avoid:
            raw = raw - QUERY_AVOID_WEIGHT * self._concept_sum(avoid)
        low, high = float(raw.min()), float(raw.max())
        if high <= 0:
            return None
        scaled = (raw - low) / (high - low)
        tie_break = np.random.RandomState(seed).random_sample(len(scaled))
        return np.asarray(scaled * (1 - TIE_BREAK) + TIE_BREAK * tie_break, dtype=np.float64)

    def _concepts(self, text: str) -> list[list[int]]:
        """Column numbers matching each concept of `text`, concepts without a match left out."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        if not text.strip() or self.matrix.shape[1] == 0:
            return []
        vocabulary: dict[str, int] = self._vectorizer.vocabulary_
        analyse = self._vectorizer.build_analyzer()
        if self._unigrams is None:
            self._unigrams = [term for term in vocabulary if " " not in term]
        unigrams = self._unigrams
        concepts: list[list[int]] = []
        seen: set[str] = set()
        for term in analyse(text):
            words = term.split(" ")
            if term in seen or all(word in ENGLISH_STOP_WORDS for word in words):
                continue
            seen.add(term)
            if len(words) > 1:
                columns = [vocabulary[term]] if term in vocabulary else []
            else:
                stem = term[:-1] if len(term) > 4 and term.endswith("s") else term
                columns = [
                    vocabulary[word]
                    for word in unigrams
                    if word.startswith(stem)
                    or (len(stem) >= QUERY_SUFFIX_MIN and word.endswith((stem, stem + "s")))
                ]
            if columns:
                concepts.append(columns)
        return concepts

    def _concept_sum(self, concepts: list[list[int]]) -> np.ndarray:
        import numpy as np
        from scipy import sparse

        if self._csc is None:
            self._csc = sparse.csc_matrix(self.matrix)
        n_records = self.matrix.shape[0]
        total = np.zeros(n_records, dtype=np.float64)
        for columns in concepts:
            has = np.asarray(self._csc[:, columns].max(axis=1).toarray()).ravel() > 0
            total += math.log(n_records / max(1, int(has.sum()))) * has
        return total
