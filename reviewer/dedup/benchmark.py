"""Labelled de-duplication sets and pairwise metrics, shared by the tests and ``bench/``.

A labelled set is a directory with ``records_pre_merged.csv`` (BibTeX-like columns: ID,
title, year, author as "A and B", journal or booktitle, volume, number/issue, pages,
ENTRYTYPE, optionally doi, note, abstract) and ``merged_record_ids.csv`` (column
``merged_ids``: the ids of one gold cluster joined by ";"). Records in no cluster are unique.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewer.dedup.normalise import normalise_doi
from reviewer.dedup.types import Band, DedupInput, DedupResult, RecordId

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LabelledSet:
    """Records of one labelled set with its gold clusters (and "maybe" pairs, if any)."""

    name: str
    records: list[DedupInput]
    gold_clusters: list[tuple[str, ...]]
    maybe_pairs: list[Pair]


def _year(value: str) -> int | None:
    digits = value.strip()[:4]
    return int(digits) if digits.isdigit() else None


def record_from_row(row: dict[str, str]) -> DedupInput:
    """One CSV row (BibTeX-like column names) as engine input."""

    def get(*names: str) -> str:
        for name in names:
            value = (row.get(name) or "").strip()
            if value:
                return value
        return ""

    authors = tuple(part.strip() for part in get("author").split(" and ") if part.strip())
    doi = get("doi")
    if not doi and normalise_doi(get("note")):
        doi = normalise_doi(get("note"))
    return DedupInput(
        id=get("ID"),
        title=get("title"),
        authors=authors,
        year=_year(get("year")),
        journal=get("journal", "booktitle", "container_title"),
        volume=get("volume"),
        issue=get("number", "issue"),
        pages=get("pages"),
        doi=doi,
        pmid=get("pmid"),
        abstract=get("abstract"),
        publication_type=get("ENTRYTYPE"),
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_labelled_set(directory: Path | str) -> LabelledSet:
    """Read ``records_pre_merged.csv``, ``merged_record_ids.csv`` and ``maybe_pairs.csv``."""
    folder = Path(directory)
    records = [record_from_row(row) for row in _read_csv(folder / "records_pre_merged.csv")]
    gold = [
        tuple(part for part in row["merged_ids"].split(";") if part)
        for row in _read_csv(folder / "merged_record_ids.csv")
    ]
    maybe: list[Pair] = []
    maybe_path = folder / "maybe_pairs.csv"
    if maybe_path.exists():
        seen: set[Pair] = set()
        for row in _read_csv(maybe_path):
            ids = sorted(part for part in row["case"].split(";") if part)
            for pair in itertools.combinations(ids, 2):
                if pair not in seen:
                    seen.add(pair)
                    maybe.append(pair)
    return LabelledSet(folder.name, records, [c for c in gold if len(c) >= 2], maybe)


def labelled_set_dirs(shared_data: Path) -> list[Path]:
    """Every labelled set under ``shared_data/dedup`` (folders with merged_record_ids.csv)."""
    folder = shared_data / "dedup"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if (path / "merged_record_ids.csv").is_file())


def cluster_pairs(clusters: Iterable[Sequence[RecordId]]) -> set[Pair]:
    """All unordered pairs inside each cluster, as sorted string tuples."""
    pairs: set[Pair] = set()
    for cluster in clusters:
        ids = sorted(str(member) for member in cluster)
        pairs.update(itertools.combinations(ids, 2))
    return pairs


def clusters_with_possible(result: DedupResult) -> list[tuple[RecordId, ...]]:
    """Connected components of CERTAIN and POSSIBLE pairs (the --include-possible view)."""
    parent: dict[RecordId, RecordId] = {}

    def find(item: RecordId) -> RecordId:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for cluster in result.clusters:
        for member in cluster[1:]:
            parent[find(member)] = find(cluster[0])
    for pair in result.pairs:
        if pair.band in (Band.CERTAIN, Band.POSSIBLE):
            parent[find(pair.right)] = find(pair.left)
    groups: dict[RecordId, list[RecordId]] = {}
    for item in list(parent):
        groups.setdefault(find(item), []).append(item)
    return [tuple(group) for group in groups.values() if len(group) >= 2]


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    """Pairwise precision/recall of predicted clusters against gold clusters."""

    gold_pairs: int
    predicted_pairs: int
    true_positives: int
    false_merges: list[Pair]
    missed: list[Pair]

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold_pairs if self.gold_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pairwise_scores(
    gold_clusters: Iterable[Sequence[RecordId]], predicted_clusters: Iterable[Sequence[RecordId]]
) -> PairwiseScores:
    """Compare two clusterings pair by pair (false merges = predicted pairs not in gold)."""
    gold = cluster_pairs(gold_clusters)
    predicted = cluster_pairs(predicted_clusters)
    return PairwiseScores(
        gold_pairs=len(gold),
        predicted_pairs=len(predicted),
        true_positives=len(gold & predicted),
        false_merges=sorted(predicted - gold),
        missed=sorted(gold - predicted),
    )


def load_contested_pairs(path: Path, name: str) -> set[Pair]:
    """Gold pairs of set `name` that join an erratum or a reply to the article it concerns.

    The trap rules keep such pairs out of the certain band on purpose (a false merge loses
    a study; a missed one costs a person one decision), so recall is also reported without
    them. `path` is bench/dedup_contested_gold.csv (set,left,right,why)."""
    if not path.is_file():
        return set()
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            (row["left"], row["right"])
            if row["left"] <= row["right"]
            else (row["right"], row["left"])
            for row in csv.DictReader(handle)
            if row["set"] == name
        }


def recall_without(scores: PairwiseScores, contested: set[Pair]) -> float:
    """Recall over the gold pairs that are not contested."""
    found = scores.true_positives - len(contested - set(scores.missed))
    total = scores.gold_pairs - len(contested)
    return found / total if total > 0 else 1.0
