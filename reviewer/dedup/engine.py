"""``deduplicate``: records in, scored pairs and clusters out.

Steps: normalise every record once (``prepare``), generate candidate pairs by blocking
(``blocking``), score each candidate (``compare``, with the trap rules of ``rules``), then
form conflict-free clusters from the CERTAIN pairs (``clusters``). A record certainly alike
two records that a rule keeps apart as separate items (a recurring column without issue or
pages) is linked to neither: it could be either, and one question is asked about it.
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

    on_demand: dict[tuple[int, int], Evaluation] = {}

    def evaluation_of(key: tuple[int, int]) -> Evaluation:
        known = evaluations.get(key) or on_demand.get(key)
        if known is None:
            known = evaluate(prepared[key[0]], prepared[key[1]], certain_title=certain_title)
            on_demand[key] = known
        return known

    def conflicts(first: int, second: int) -> bool:
        key = _ordered(first, second)
        return key in forbidden or evaluation_of(key).conflict

    ambiguous = _ambiguous_records(evaluations, evaluation_of)
    certain_edges = [
        (evaluation.score, first, second)
        for (first, second), evaluation in evaluations.items()
        if evaluation.band is Band.CERTAIN and first not in ambiguous and second not in ambiguous
    ]
    clusters, rejected = greedy_clusters(len(prepared), certain_edges, conflicts)
    downgraded = {
        (first, second): (
            f"not clustered: {prepared[a].id} and {prepared[b].id} conflict, a person decides"
        )
        for first, second, a, b in rejected
    }
    downgraded.update(_ambiguous_questions(evaluations, ambiguous, prepared))

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
        if (
            evaluation.band is Band.CERTAIN
            and (first in ambiguous or second in ambiguous)
            and (first, second) not in downgraded
        ):
            continue  # one question per ambiguous record is enough
        blocked = downgraded.get((first, second))
        if blocked is not None:
            band = Band.POSSIBLE
            reasons = (blocked, *reasons)
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


def _ambiguous_records(
    evaluations: dict[tuple[int, int], Evaluation],
    evaluation_of: Callable[[tuple[int, int]], Evaluation],
) -> set[int]:
    """Records certainly alike two records that a rule keeps apart as separate items.

    A record without issue or pages matches every item of a recurring title ("Gateways to
    clinical trials" in each issue) equally well: linking it to the highest-scoring one
    would be a guess, so none of its certain pairs is used (a person is asked once).
    """
    partners: dict[int, list[int]] = {}
    for (first, second), evaluation in evaluations.items():
        if evaluation.band is Band.CERTAIN:
            partners.setdefault(first, []).append(second)
            partners.setdefault(second, []).append(first)
    ambiguous: set[int] = set()
    for record, others in partners.items():
        if len(others) < 2:
            continue
        others.sort()
        if any(
            evaluation_of((x, y)).separate_items
            for position, x in enumerate(others)
            for y in others[position + 1 :]
        ):
            ambiguous.add(record)
    return ambiguous


def _ambiguous_questions(
    evaluations: dict[tuple[int, int], Evaluation],
    ambiguous: set[int],
    prepared: list[Prepared],
) -> dict[tuple[int, int], str]:
    """The one question asked about each ambiguous record: its best certain pair."""
    best: dict[int, tuple[float, tuple[int, int]]] = {}
    for key, evaluation in evaluations.items():
        if evaluation.band is not Band.CERTAIN:
            continue
        for record in key:
            if record in ambiguous and (record not in best or evaluation.score > best[record][0]):
                best[record] = (evaluation.score, key)
    return {
        key: (
            f"{prepared[record].id} matches several items kept apart from each other "
            "(a recurring title); a person decides"
        )
        for record, (_score, key) in best.items()
    }


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
