"""``deduplicate``: records in, scored pairs and clusters out.

Steps: normalise every record once (``prepare``), generate candidate pairs by blocking
(``blocking``), score each candidate (``compare``, with the trap rules of ``rules``), then
form conflict-free clusters from the CERTAIN pairs (``clusters``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from reviewer.dedup.blocking import candidate_pairs
from reviewer.dedup.clusters import greedy_clusters
from reviewer.dedup.compare import (
    CERTAIN_TITLE,
    Evaluation,
    evaluate,
    same_team,
    titles_compared,
)
from reviewer.dedup.prepare import Prepared, prepare
from reviewer.dedup.types import Band, DedupInput, DedupResult, PairResult, RecordId

_PROGRESS_EVERY = 5000
_PREFILTER = 0.7


def deduplicate(
    records: Sequence[DedupInput],
    *,
    only_against: Collection[RecordId] | None = None,
    cannot_link: Collection[tuple[RecordId, RecordId]] = (),
    progress: Callable[[int, int], None] | None = None,
    certain_title: float = CERTAIN_TITLE,
) -> DedupResult:
    """Find duplicate records.

    ``only_against``: incremental run; only pairs with at least one member in this set are
    scored (clusters are then formed from those pairs only). ``cannot_link``: pairs a person
    declared "not duplicate"; they are never scored, never reported and never end up in the
    same cluster. ``progress`` is called now and then with ``(done, total)`` while scoring.
    ``certain_title``: band rule 3's title threshold (the app always uses the default; the
    accuracy bench re-fits it in leave-one-set-out runs).
    """
    prepared = [prepare(index, record) for index, record in enumerate(records)]
    position: dict[RecordId, int] = {}
    for item in prepared:
        position.setdefault(item.id, item.index)
    forbidden: set[tuple[int, int]] = set()
    for first_id, second_id in cannot_link:
        first, second = position.get(first_id), position.get(second_id)
        if first is not None and second is not None and first != second:
            forbidden.add((min(first, second), max(first, second)))
    focus: set[int] | None = None
    if only_against is not None:
        focus = {position[item] for item in only_against if item in position}

    def accept(first: int, second: int) -> bool:
        if (first, second) in forbidden:
            return False
        return focus is None or first in focus or second in focus

    candidates = sorted(candidate_pairs(prepared, accept))
    total = len(candidates)
    evaluations: dict[tuple[int, int], Evaluation] = {}
    for done, (first, second) in enumerate(candidates, start=1):
        evaluation = _score(prepared[first], prepared[second], certain_title)
        if evaluation is not None:
            evaluations[(first, second)] = evaluation
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)

    conflict_cache: dict[tuple[int, int], bool] = {}

    def conflicts(first: int, second: int) -> bool:
        key = (first, second) if first < second else (second, first)
        if key in forbidden:
            return True
        known = evaluations.get(key)
        if known is not None:
            return known.conflict
        cached = conflict_cache.get(key)
        if cached is None:
            cached = evaluate(
                prepared[key[0]], prepared[key[1]], certain_title=certain_title
            ).conflict
            conflict_cache[key] = cached
        return cached

    certain_edges = [
        (evaluation.score, first, second)
        for (first, second), evaluation in evaluations.items()
        if evaluation.band is Band.CERTAIN
    ]
    clusters, rejected = greedy_clusters(len(prepared), certain_edges, conflicts)
    downgraded = {
        (first, second): (prepared[a].id, prepared[b].id) for first, second, a, b in rejected
    }

    # One question per pair of groups: of the possible pairs between two clusters (or a
    # cluster and a lone record), only the most alike is asked, and none at all once a
    # person has said two of their records are not duplicates.
    group = list(range(len(prepared)))
    for cluster in clusters:
        for member in cluster:
            group[member] = cluster[0]
    apart = {_ordered(group[first], group[second]) for first, second in forbidden}
    best: dict[tuple[int, int], tuple[int, int]] = {}
    results: dict[tuple[int, int], PairResult] = {}
    for (first, second), evaluation in sorted(evaluations.items()):
        if evaluation.band is Band.DISTINCT and not evaluation.trapped:
            continue
        band, reasons = evaluation.band, evaluation.reasons
        blocked = downgraded.get((first, second))
        if blocked is not None:
            band = Band.POSSIBLE
            reasons = (
                f"not clustered: {blocked[0]} and {blocked[1]} conflict, a person decides",
                *reasons,
            )
        if band is Band.POSSIBLE:
            groups = _ordered(group[first], group[second])
            if groups[0] == groups[1] or groups in apart:
                continue
            kept = best.get(groups)
            if kept is not None and evaluations[kept].score >= evaluation.score:
                continue
            if kept is not None:
                del results[kept]
            best[groups] = (first, second)
        results[(first, second)] = PairResult(
            left=prepared[first].id,
            right=prepared[second].id,
            band=band,
            score=evaluation.score,
            evidence=evaluation.evidence,
            reasons=reasons,
        )
    pairs = [results[key] for key in sorted(results)]
    return DedupResult(
        records=len(prepared),
        compared=total,
        pairs=pairs,
        clusters=[tuple(prepared[index].id for index in cluster) for cluster in clusters],
    )


def _score(left: Prepared, right: Prepared, certain_title: float) -> Evaluation | None:
    """Evaluate a candidate pair, or None when a cheap check shows it cannot match."""
    if left.title and right.title:
        title_score = titles_compared(left, right)
        shared_id = (left.doi and left.doi == right.doi) or (left.pmid and left.pmid == right.pmid)
        if (
            title_score < _PREFILTER
            and not shared_id
            and not same_team(left, right)
            and not _same_place(left, right)
        ):
            return None
        return evaluate(left, right, title_score, certain_title=certain_title)
    return evaluate(left, right, certain_title=certain_title)


def _same_place(left: Prepared, right: Prepared) -> bool:
    """Same volume and first page: the titles may be in two languages, or one retitled
    (rules 9 and 10 of ``rules.py`` decide)."""
    return (
        bool(left.volume_number)
        and left.volume_number == right.volume_number
        and bool(left.pages.first)
        and left.pages.first == right.pages.first
    )


def _ordered(first: int, second: int) -> tuple[int, int]:
    return (first, second) if first <= second else (second, first)
