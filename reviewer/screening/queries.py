"""Reads for screening: each record's rows and state, the queues, the counts.

States come from `rules` applied to the rows, loaded in a handful of queries whatever the
number of records, so a page or a count never costs a query per record.

This is screening's selectors module; it keeps the name `queries` rather than
`selectors` because it is one half of a pair: `rules.py` states the screening rules in
Python and this module states the same rules again in SQL (`eligible`, `_waiting_for`,
`removable`, each naming its Python twin), and `tests/reviewer/screening/test_sql_equivalence.py`
and the README's screening section tie the two by those names. It also sits beside
`reviewer/selectors.py` in the callers that read both (`reviewer/views/reviews.py`,
`reviewer/prisma/counts.py`), where two modules named `selectors` would need aliases.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from reviewer.models import (
    Adjudication,
    Approval,
    Choice,
    Decision,
    FullText,
    Record,
    RelevanceScore,
    Removal,
    Review,
    Stage,
    User,
)
from reviewer.models.sources import OTHER_METHOD_KINDS
from reviewer.prepared import Prepared
from reviewer.screening.rules import (
    FT,
    REVIEWERS_PER_RECORD,
    TA,
    Outcome,
    RecordRows,
    State,
    record_state,
)


def rows_by_record(review: Review, record_ids: Iterable[int] | None) -> dict[int, RecordRows]:
    """What each record's state is derived from (`rules.record_state`) and whether a senior
    closed a stage of it (`rules.closed_by_senior`), for `record_ids` of `review` (None:
    all of them): screening's one read of many records' rows, a fixed number of queries."""
    records = review.records.all()
    ids: list[int] | None = None
    if record_ids is not None:
        ids = list(record_ids)
        records = records.filter(pk__in=ids)

    def only(qs: QuerySet) -> QuerySet:  # type: ignore[type-arg]
        return qs.filter(review=review) if ids is None else qs.filter(record_id__in=ids)

    ta: dict[int, list[str]] = defaultdict(list)
    ft: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
    for record_id, stage, choice, reason_id in only(Decision.objects.all()).values_list(
        "record_id", "stage", "choice", "reason_id"
    ):
        if stage == TA:
            ta[record_id].append(choice)
        else:
            ft[record_id].append((choice, reason_id))
    ta_adjudicated: dict[int, str] = {}
    ft_adjudicated: dict[int, tuple[str, int | None]] = {}
    for record_id, stage, choice, reason_id in only(Adjudication.objects.all()).values_list(
        "record_id", "stage", "choice", "reason_id"
    ):
        if stage == TA:
            ta_adjudicated[record_id] = choice
        else:
            ft_adjudicated[record_id] = (choice, reason_id)
    not_retrieved = set(
        only(FullText.objects.all()).filter(not_retrieved=True).values_list("record_id", flat=True)
    )
    approved = set(only(Approval.objects.all()).values_list("record_id", flat=True))
    removed = set(only(Removal.objects.all()).values_list("record_id", flat=True))
    return {
        pk: RecordRows(
            is_duplicate=duplicate_of is not None,
            removed=pk in removed,
            other_method=kind in OTHER_METHOD_KINDS,
            blinded=review.blinded,
            released=released_at is not None,
            ta_choices=tuple(ta.get(pk, ())),
            ta_adjudicated=ta_adjudicated.get(pk),
            ft_decisions=tuple(ft.get(pk, ())),
            ft_adjudicated=ft_adjudicated.get(pk),
            not_retrieved=pk in not_retrieved,
            approved=pk in approved,
        )
        for pk, duplicate_of, kind, released_at in records.values_list(
            "pk", "duplicate_of_id", "source__kind", "released_at"
        )
    }


def states(review: Review, record_ids: Iterable[int] | None = None) -> dict[int, Outcome]:
    """Every record's state (or only these records')."""
    return {pk: record_state(rows) for pk, rows in rows_by_record(review, record_ids).items()}


def state_of(record: Record) -> Outcome:
    return states(record.review, [record.pk])[record.pk]


@dataclass(frozen=True)
class DecisionRow:
    """A decision of one record, as `record_rows` reads it (not the model: no note)."""

    pk: int
    reviewer_id: int
    stage: str
    choice: str
    reason_id: int | None


def _tagged(queryset: QuerySet[Any], kind: str, **columns: Any) -> QuerySet[Any]:
    """`queryset` as rows (kind, id, reviewer, stage, choice, reason) for one UNION ALL."""
    none = Value(None, output_field=models.IntegerField())
    blank = Value("", output_field=models.CharField())
    names = ("u_id", "u_reviewer", "u_stage", "u_choice", "u_reason")
    defaults = dict(zip(names, (none, none, blank, blank, none), strict=True))
    tagged: QuerySet[Any] = (
        queryset.order_by()
        .annotate(u_kind=Value(kind, output_field=models.CharField()), **{**defaults, **columns})
        .values_list("u_kind", *names)
    )
    return tagged


def _record_rows_query(pk: int) -> QuerySet[Any]:
    return _tagged(
        Decision.objects.filter(record_id=pk),
        "d",
        u_id=F("id"),
        u_reviewer=F("reviewer_id"),
        u_stage=F("stage"),
        u_choice=F("choice"),
        u_reason=F("reason_id"),
    ).union(
        _tagged(
            Adjudication.objects.filter(record_id=pk),
            "a",
            u_stage=F("stage"),
            u_choice=F("choice"),
            u_reason=F("reason_id"),
        ),
        _tagged(FullText.objects.filter(record_id=pk, not_retrieved=True), "f"),
        _tagged(Approval.objects.filter(record_id=pk), "p"),
        _tagged(Removal.objects.filter(record_id=pk), "r"),
        all=True,
    )


#: compiled once per process (`reviewer.prepared`): the query runs on every screening page
_RECORD_ROWS = Prepared(_record_rows_query)


def record_rows(
    record: Record, *, fields: tuple[int | None, str, object] | None = None
) -> tuple[RecordRows, list[DecisionRow]]:
    """What one record's state is derived from (`rules.record_state`) and its decisions,
    in one round trip where `rows_by_record` takes six: its decisions, adjudications, full-text
    report, approval and removal in one UNION ALL query. The record's own fields come from
    `record` (its source loaded) or `fields` (duplicate_of_id, source kind, released_at:
    read under the row's lock). `tests/reviewer/screening` keeps this equal to `rows_by_record`."""
    rows = _RECORD_ROWS.rows(pk=record.pk)
    decisions: list[DecisionRow] = []
    ta_adjudicated: str | None = None
    ft_adjudicated: tuple[str, int | None] | None = None
    kinds: set[str] = set()
    for kind, row_id, reviewer_id, stage, choice, reason_id in rows:
        kinds.add(kind)
        if kind == "d":
            decisions.append(DecisionRow(row_id, reviewer_id, stage, choice, reason_id))
        elif kind == "a" and stage == TA:
            ta_adjudicated = choice
        elif kind == "a":
            ft_adjudicated = (choice, reason_id)
    decisions.sort(key=lambda d: d.pk)  # as `rows_by_record` reads them
    if fields is None:
        fields = (record.duplicate_of_id, record.source.kind, record.released_at)
    duplicate_of, source_kind, released_at = fields
    return RecordRows(
        is_duplicate=duplicate_of is not None,
        removed="r" in kinds,
        other_method=source_kind in OTHER_METHOD_KINDS,
        blinded=record.review.blinded,
        released=released_at is not None,
        ta_choices=tuple(d.choice for d in decisions if d.stage == TA),
        ta_adjudicated=ta_adjudicated,
        ft_decisions=tuple((d.choice, d.reason_id) for d in decisions if d.stage != TA),
        ft_adjudicated=ft_adjudicated,
        not_retrieved="f" in kinds,
        approved="p" in kinds,
    ), decisions


def _record_query(lock: bool, *, review: int, pk: int) -> QuerySet[Record]:
    records = Record.objects.filter(review_id=review, pk=pk).select_related("source")
    return records.select_for_update(of=("self",)) if lock else records


_RECORD = Prepared(_record_query)


def record_of(review: Review, pk: int, *, lock: bool = False) -> Record | None:
    """Record `pk` of `review`, its source loaded (`lock`: its row locked until the
    transaction ends), or None; compiled once per process (`reviewer.prepared`)."""
    found = _RECORD.objects((lock,), review=review.pk, pk=pk)
    if not found:
        return None
    record: Record = found[0]
    record.review = review
    return record


def rows_of(record: Record) -> RecordRows:
    """What one record's state is derived from (`rules.record_state`), and whether a senior
    has closed a stage of it (`rules.closed_by_senior`): `record_rows`, one query."""
    return record_rows(record)[0]


def waiting_for_senior(review: Review, stage: str = "") -> list[tuple[int, State]]:
    """The records waiting for a senior (conflicts, and full-text exclusions whose reasons
    differ), as (record id, state): title/abstract first, each stage in import order."""
    found = [
        (pk, outcome.state)
        for pk, outcome in states(review).items()
        if outcome.state.needs_senior and (not stage or outcome.state.stage == stage)
    ]
    return sorted(found, key=lambda item: (item[1].stage != TA, item[0]))


def waiting_for_release(review: Review) -> list[int]:
    """The records two reviewers agreed to include at title/abstract that wait for a
    senior to release them to full text (`rules.reaches_full_text`), in import order."""
    return sorted(pk for pk, o in states(review).items() if o.state is State.TA_PASSED)


def state_counts(review: Review) -> Counter[State]:
    return Counter(outcome.state for outcome in states(review).values())


# --- queues ---
#
# Each part of a queue is an `IN (subquery)` over the decision, adjudication, removal and
# full-text tables (filtered by review and stage, so PostgreSQL hashes them once), never a
# per-record subquery: the screening page stays fast at 20,000 records and more.
#
# These are the SQL forms of rules written in Python in `rules` (each says which):
# `eligible` is `rules.at_stage` (with `rules.reaches_full_text`), `_waiting_for` is
# `rules.waits_for`, `_decided_twice` is `rules.REVIEWERS_PER_RECORD`.
# tests/reviewer/screening/test_sql_equivalence.py checks that each pair agrees.


def _decided_twice(review: Review, stage: str) -> QuerySet[Decision, dict[str, Any]]:
    return (
        Decision.objects.filter(review=review, stage=stage)
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .filter(n__gte=REVIEWERS_PER_RECORD)
        .values("record")
    )


def _records_of(rows: QuerySet[Any]) -> QuerySet[Any]:
    return rows.order_by().values("record")


def eligible(review: Review, stage: str) -> QuerySet[Record]:
    """The records that are screened at `stage` (SQL form of `rules.at_stage`): no
    duplicates, none removed, and at full
    text only those that passed title/abstract (the rule of `rules.title_abstract`: an
    adjudicated include, or two decisions and no exclude, released while the review is
    blinded: `rules.reaches_full_text`) and were not unobtainable."""
    records = review.records.filter(duplicate_of=None).exclude(
        pk__in=_records_of(Removal.objects.filter(review=review))
    )
    if stage == TA:
        records = records.exclude(source__kind__in=OTHER_METHOD_KINDS)
    if stage == FT:
        adjudicated = Adjudication.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
        excluded = Decision.objects.filter(
            review=review, stage=Stage.TITLE_ABSTRACT, choice=Choice.EXCLUDE
        )
        agreed = (
            Q(pk__in=_decided_twice(review, TA))
            & ~Q(pk__in=_records_of(excluded))
            & ~Q(pk__in=_records_of(adjudicated))
        )
        if review.blinded:
            agreed &= Q(released_at__isnull=False)
        passed = (
            Q(source__kind__in=OTHER_METHOD_KINDS)
            | Q(pk__in=_records_of(adjudicated.filter(choice=Choice.INCLUDE)))
            | agreed
        )
        records = records.filter(passed).exclude(
            pk__in=_records_of(FullText.objects.filter(review=review, not_retrieved=True))
        )
    return records


def _waiting_for(review: Review, user: User, stage: str) -> Q:
    """Records still waiting for `user` at `stage` (SQL form of `rules.waits_for`): no
    decision of theirs, fewer than `REVIEWERS_PER_RECORD` decisions, not adjudicated."""
    return (
        ~Q(pk__in=_records_of(Decision.objects.filter(review=review, stage=stage, reviewer=user)))
        & ~Q(pk__in=_decided_twice(review, stage))
        & ~Q(pk__in=_records_of(Adjudication.objects.filter(review=review, stage=stage)))
    )


class Order:
    """The orders of a screening queue (`QUEUE_ORDERS` lists them with their labels)."""

    RELEVANCE = "relevance"
    OTHERS = "others"
    RANDOM = "random"
    IMPORT = "import"


QUEUE_ORDERS = {
    Order.RELEVANCE: "Most relevant first",
    Order.OTHERS: "Least screened by others",
    Order.RANDOM: "Random",
    Order.IMPORT: "Import order",
}

#: The random order's keys: a quadratic hash of the record id modulo a prime, seeded per
#: reviewer. Computed by the database, so the queue stays one query however long it is.
_PRIME = 1_000_003
#: Sorts after every real position of a stopping sample.
_NOT_SAMPLED = 2**31 - 1


def random_seed(review: Review, user: User) -> tuple[int, int, int]:
    """The reviewer's own random order: stable across visits, different per reviewer."""
    digest = hashlib.sha256(f"{review.pk}:{user.pk}".encode()).digest()
    a, b, c = (int.from_bytes(digest[i : i + 4], "big") % _PRIME for i in (0, 4, 8))
    return a or 1, b, c


def _sort_key(review: Review, user: User, stage: str, order: str, ranking_id: int | None) -> Any:
    if order == Order.RELEVANCE and ranking_id is not None:
        # the ranking's own rank (unique: ties were broken in import order when it was
        # stored); a record imported after the ranking has none yet: last
        return Coalesce(F("scored__rank"), Value(_NOT_SAMPLED), output_field=IntegerField())
    if order == Order.OTHERS:
        others = Decision.objects.filter(review=review, stage=stage).exclude(reviewer=user)
        return Case(
            When(pk__in=_records_of(others), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    if order == Order.RANDOM:
        a, b, c = random_seed(review, user)
        x = F("pk") % _PRIME
        return ExpressionWrapper(
            ((x * x) % _PRIME * a + x * b + c) % _PRIME, output_field=IntegerField()
        )
    return Value(0, output_field=IntegerField())


def members(
    review: Review,
    user: User,
    stage: str,
    *,
    source_id: int | None = None,
    mine: str = "",
    query: str = "",
) -> QuerySet[Record]:
    """The records of a reviewer's queue (`queue`), without its annotations and order:
    for asking which records are in it, by primary key (cheaper to build and compile)."""
    records = eligible(review, stage)
    if source_id:
        records = records.filter(source_id=source_id)
    if mine:
        my_decisions = Decision.objects.filter(review=review, stage=stage, reviewer=user)
        if mine == "none":
            records = records.exclude(pk__in=_records_of(my_decisions))
        else:
            records = records.filter(pk__in=_records_of(my_decisions.filter(choice=mine)))
    for term in query.split():
        records = records.filter(Q(title__icontains=term) | Q(abstract__icontains=term))
    return records


def queue(
    review: Review,
    user: User,
    stage: str,
    *,
    source_id: int | None = None,
    mine: str = "",
    query: str = "",
    order: str = Order.IMPORT,
    ranking_id: int | None = None,
    sample_id: int | None = None,
    records: QuerySet[Record] | None = None,
) -> QuerySet[Record]:
    """The records a reviewer goes through at `stage`, with `waiting` (still waiting for
    this reviewer) annotated. `mine` filters by the reviewer's own decision ("none" for
    undecided), `source_id` by search, `query` by words (`members`; `records`: those
    members, read already).

    Order: the records of the reviewer's stopping sample (`sample_id`) first, in the
    sample's random order; then by `order`: relevance in the ranking `ranking_id` (the
    caller passes the reviewer's own), records no colleague has decided first, the
    reviewer's own random order, or import order; ties in import order. The caller
    decides which orders a reviewer may use (blinding: see `views.screening`)."""
    if records is None:
        records = members(review, user, stage, source_id=source_id, mine=mine, query=query)
    records = records.annotate(
        waiting=ExpressionWrapper(_waiting_for(review, user, stage), BooleanField())
    )
    if order == Order.RELEVANCE and ranking_id is not None:
        records = records.annotate(
            scored=FilteredRelation(
                "relevance_scores", condition=Q(relevance_scores__job_id=ranking_id)
            )
        )
    if sample_id is not None:
        records = records.annotate(
            sampled=FilteredRelation("samplings", condition=Q(samplings__sample_id=sample_id)),
            sample_key=Coalesce(F("sampled__position"), Value(_NOT_SAMPLED)),
        )
    else:
        records = records.annotate(sample_key=Value(0, output_field=IntegerField()))
    records = records.annotate(
        sort_key=_sort_key(review, user, stage, order, ranking_id)
    ).select_related("source")
    # order only by the keys in use, so import order stays a walk along the primary key
    keys = [
        *(["sample_key"] if sample_id is not None else []),
        *(["sort_key"] if order != Order.IMPORT else []),
        "pk",
    ]
    return records.order_by(*keys)


def removable(review: Review) -> QuerySet[Record]:
    """The records a removal before screening may remove (SQL form of
    `rules.removal_skip`): no duplicate, not removed already, no decision on it."""
    return (
        review.records.filter(duplicate_of=None)
        .exclude(pk__in=_records_of(Removal.objects.filter(review=review)))
        .exclude(pk__in=_records_of(Decision.objects.filter(review=review)))
    )


def waiting_probe(user: User, stage: str) -> tuple[Any, ...]:
    """The test of `_waiting_for` again, as lookups correlated with each record (along the
    (record, stage) index) instead of sets over the whole review: for filtering a few
    records, or a queue walked from a known position with a LIMIT, whose cost must not
    grow with the review. Pass to `filter(*...)`; `tests` keep the two forms agreeing.

    "Fewer than two decisions" is "no second decision": an EXISTS that stops at the
    second row it finds (OFFSET 1), never a count of them."""
    decisions = Decision.objects.filter(record=OuterRef("pk"), stage=stage)
    assert REVIEWERS_PER_RECORD == 2, "the OFFSET below is REVIEWERS_PER_RECORD - 1"
    return (
        ~Exists(decisions.filter(reviewer=user)),
        ~Exists(Adjudication.objects.filter(record=OuterRef("pk"), stage=stage)),
        ~Exists(decisions.order_by()[1:]),
    )


def waiting_from(
    records: QuerySet[Record], user: User, stage: str, *, start: int, count: int
) -> list[int]:
    """The first `count` records of `records` (a queue in import order) from id `start`
    on that are still waiting for `user`, probed record by record (`waiting_probe`)."""
    found = (
        records.filter(pk__gte=start)
        .filter(*waiting_probe(user, stage))
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    return list(found)


def _waiting_after_query(
    stage: str, blinded: bool, count: int, *, review: int, user: int, start: int, but: int
) -> QuerySet[Any]:
    records = members(Review(pk=review, blinded=blinded), User(pk=user), stage)
    waiting: QuerySet[Any] = (
        records.exclude(pk=but)
        .filter(pk__gte=start)
        .filter(*waiting_probe(User(pk=user), stage))
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    return waiting


_WAITING_AFTER = Prepared(_waiting_after_query)


def waiting_after(
    review: Review, user: User, stage: str, *, start: int, count: int, but: int | None = None
) -> list[int]:
    """`waiting_from` over the whole queue (no filters), leaving out record `but`: the
    look after each decision, its SQL compiled once per process (`reviewer.prepared`)."""
    rows = _WAITING_AFTER.rows(
        (stage, review.blinded, count),
        review=review.pk,
        user=user.pk,
        start=start,
        but=but if but is not None else 0,
    )
    return [pk for (pk,) in rows]


def _ranked_batch(
    records: QuerySet[Record], user: User, stage: str, ranking_id: int, after: int, size: int
) -> QuerySet[Any]:
    """(rank, id, score, waiting) of the ranking's `size` records from rank `after` on
    (exclusive), along its (job, rank) index, each with whether it is in `records` and
    still waiting for `user` (`waiting_probe`, by primary key)."""
    waiting = records.filter(pk=OuterRef("record_id")).filter(*waiting_probe(user, stage))
    batch: QuerySet[Any] = (
        RelevanceScore.objects.filter(job_id=ranking_id, rank__gt=after)
        .order_by("rank")
        .annotate(waiting=Exists(waiting))
        .values_list("rank", "record_id", "score", "waiting")[:size]
    )
    return batch


def _ranked_batch_query(
    stage: str,
    blinded: bool,
    size: int,
    *,
    review: int,
    user: int,
    ranking: int,
    after: int,
    but: int,
) -> QuerySet[Any]:
    records = members(Review(pk=review, blinded=blinded), User(pk=user), stage)
    return _ranked_batch(records.exclude(pk=but), User(pk=user), stage, ranking, after, size)


_RANKED_BATCH = Prepared(_ranked_batch_query)


def _walk_ranking(
    batch_of: Callable[[int, int], Iterable[tuple[int, int, float, bool]]],
    *,
    after: int,
    count: int,
) -> list[tuple[int, int, float]]:
    """(rank, id, score) of the first `count` waiting records from rank `after` on, read
    in batches: `batch_of(after, size)`, the first twice as long as needed on a queue where
    half the records are decided, each next one twice as long again."""
    found: list[tuple[int, int, float]] = []
    last, size = after, max(count * 4, 48)
    while len(found) < count:
        batch = list(batch_of(last, size))
        if not batch:
            break
        found += [(rank, pk, score) for rank, pk, score, still in batch if still]
        last, size = batch[-1][0], min(size * 2, RANK_BATCH)
    return found[:count]


def ranked_waiting(
    records: QuerySet[Record], user: User, stage: str, ranking_id: int, *, after: int, count: int
) -> list[tuple[int, int, float]]:
    """(rank, id, score) of the first `count` records of `records` still waiting for
    `user`, in the ranking's order from rank `after` on (exclusive): what `ranked_first`
    does, at a cost that does not grow with the review. Each batch of the ranking is read
    with, for each of its records, whether it is in the queue and still waiting: one
    query, nearly always one batch."""
    return _walk_ranking(
        lambda last, size: _ranked_batch(records, user, stage, ranking_id, last, size),
        after=after,
        count=count,
    )


def ranked_waiting_whole(
    review: Review,
    user: User,
    stage: str,
    ranking_id: int,
    *,
    after: int,
    count: int,
    but: int | None = None,
) -> list[tuple[int, int, float]]:
    """`ranked_waiting` over the whole queue (no filters), leaving out record `but`: the
    look after each decision in relevance order, its SQL compiled once per process
    (`reviewer.prepared`)."""
    return _walk_ranking(
        lambda last, size: _RANKED_BATCH.rows(
            (stage, review.blinded, size),
            review=review.pk,
            user=user.pk,
            ranking=ranking_id,
            after=last,
            but=but if but is not None else 0,
        ),
        after=after,
        count=count,
    )


def waiting(review: Review, user: User, stage: str, records: QuerySet[Record]) -> QuerySet[Record]:
    """Of `records` (a queue), those still waiting for `user`, in the queue's order."""
    return records.filter(_waiting_for(review, user, stage))


def neighbours(records: QuerySet[Record], pk: int) -> tuple[int | None, int | None]:
    """The records before and after `pk` in a queue, in the queue's order (a record not in
    the queue: its neighbours in import order)."""
    keys = [key for key in records.query.order_by if key in ("sample_key", "sort_key")]
    values = records.filter(pk=pk).values_list(*keys).first() if keys else None
    if values is None:
        lower = records.filter(pk__lt=pk).order_by("-pk").values_list("pk", flat=True)[:1]
        upper = records.filter(pk__gt=pk).order_by("pk").values_list("pk", flat=True)[:1]
        if not connection.features.supports_slicing_ordering_in_compound:  # SQLite
            return lower.first(), upper.first()
        found = list(lower.union(upper, all=True))  # one round trip
        return (
            next((other for other in found if other < pk), None),
            next((other for other in found if other > pk), None),
        )
    # lexicographic (key..., pk) comparison: equal on the keys before, then less/greater
    before, after = Q(), Q()
    for n, key in enumerate([*keys, "pk"]):
        value = pk if key == "pk" else values[n]
        same = Q(**{k: v for k, v in zip(keys[:n], values[:n], strict=True)})
        before |= same & Q(**{f"{key}__lt": value})
        after |= same & Q(**{f"{key}__gt": value})
    previous = (
        records.filter(before)
        .order_by(*[f"-{key}" for key in keys], "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    following = records.filter(after).values_list("pk", flat=True).first()
    return previous, following


def _around_query(stage: str, blinded: bool, side: str, *, review: int, pk: int) -> QuerySet[Any]:
    records = members(Review(pk=review, blinded=blinded), User(), stage).values_list(
        "pk", flat=True
    )
    lower = records.filter(pk__lt=pk).order_by("-pk")[:1]
    upper = records.filter(pk__gt=pk).order_by("pk")[:1]
    if side == "lower":
        return lower
    if side == "upper":
        return upper
    return lower.union(upper, all=True)


_AROUND = Prepared(_around_query)


def neighbours_in_import_order(
    review: Review, stage: str, pk: int
) -> tuple[int | None, int | None]:
    """`neighbours` in a queue without filters in import order, its SQL compiled once per
    process (`reviewer.prepared`)."""
    shape = (stage, review.blinded)
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite
        lower = _AROUND.rows((*shape, "lower"), review=review.pk, pk=pk)
        upper = _AROUND.rows((*shape, "upper"), review=review.pk, pk=pk)
        return (lower[0][0] if lower else None), (upper[0][0] if upper else None)
    found = [other for (other,) in _AROUND.rows((*shape, "both"), review=review.pk, pk=pk)]
    return (
        next((other for other in found if other < pk), None),
        next((other for other in found if other > pk), None),
    )


def progress(
    review: Review, user: User, stage: str, *, review_wide: bool = True
) -> dict[str, int | None]:
    """How far the screening at `stage` is: records, mine done, and fully done (two decisions;
    an adjudicated record always has two). "done" is a review-wide figure: None unless
    `review_wide` (`rules.may_see_review_wide_figures`)."""
    records = eligible(review, stage)
    mine = Decision.objects.filter(review=review, stage=stage, reviewer=user)
    total = records.count()
    # NOT IN over the grouped decisions: PostgreSQL hashes it once whatever its statistics
    # say (an IN would be planned as a join that may re-run the grouping per record).
    done = None
    if review_wide:
        done = total - records.exclude(pk__in=_decided_twice(review, stage)).count()
    return {
        "total": total,
        "mine": total - records.exclude(pk__in=_records_of(mine)).count(),
        "done": done,
    }


# --- walking a ranking ---
#
# In relevance order the database would have to join and sort the whole queue to find
# its first records (PostgreSQL does not drive the query from the ranking's index), which
# costs tens of milliseconds per query at 20,000 records. Instead, walk the ranking along
# its (job, rank) index in batches and ask which records of each batch are in the queue
# (or still waiting) by primary key: the first batch nearly always answers.

RANK_BATCH = 400
#: The first batch read on either side of a record for its neighbours (`ranked_neighbours`):
#: in a queue that is not filtered nearly every scored record is in it, so the first few
#: answer; each row costs a probe of the queue (100 rows: 2-3 ms), and a filtered queue
#: whose first batch holds none of its records walks on in `RANK_BATCH`es.
NEIGHBOUR_BATCH = 16


def _ranked_batches(
    ranking_id: int, *, after: int = 0, before: int | None = None
) -> Iterable[list[int]]:
    """The ranking's record ids in batches: ascending from rank `after`, or descending
    from rank `before` when it is given."""
    last = before if before is not None else after
    while True:
        scores = RelevanceScore.objects.filter(job_id=ranking_id)
        if before is not None:
            scores = scores.filter(rank__lt=last).order_by("-rank")
        else:
            scores = scores.filter(rank__gt=last).order_by("rank")
        batch = list(scores.values_list("rank", "record_id")[:RANK_BATCH])
        if not batch:
            return
        yield [record_id for _, record_id in batch]
        last = batch[-1][0]


def ranks_of(ranking_id: int, record_ids: Iterable[int]) -> list[int]:
    """The ranks of these records in the ranking (those it has scored)."""
    return list(
        RelevanceScore.objects.filter(job_id=ranking_id, record_id__in=list(record_ids))
        .order_by()
        .values_list("rank", flat=True)
    )


def ranked_first(records: QuerySet[Record], ranking_id: int, count: int) -> list[int]:
    """The first `count` ids of `records` (a queue, maybe narrowed to waiting records) in
    the ranking's order. Records the ranking has not scored are not walked: the caller
    falls back to the queue's own order when this finds none."""
    found: list[int] = []
    for batch in _ranked_batches(ranking_id):
        present = set(records.filter(pk__in=batch).values_list("pk", flat=True))
        found += [pk for pk in batch if pk in present]
        if len(found) >= count:
            break
    return found[:count]


def _ranked_around(
    records: QuerySet[Record], ranking_id: int, rank: int, side: str, batch: int
) -> QuerySet[Any]:
    """(rank, id, in the queue) of the `batch` ranks above `rank` ("upper"), below it
    ("lower") or both ("both", one UNION ALL query)."""
    in_queue = Exists(records.filter(pk=OuterRef("record_id")))
    scores = (
        RelevanceScore.objects.filter(job_id=ranking_id)
        .annotate(present=in_queue)
        .values_list("rank", "record_id", "present")
    )
    above = scores.filter(rank__gt=rank).order_by("rank")[:batch]
    below = scores.filter(rank__lt=rank).order_by("-rank")[:batch]
    if side == "upper":
        return above
    if side == "lower":
        return below
    return above.union(below, all=True)


def _ranked_around_query(
    stage: str, blinded: bool, side: str, batch: int, *, review: int, ranking: int, rank: int
) -> QuerySet[Any]:
    records = members(Review(pk=review, blinded=blinded), User(), stage)
    return _ranked_around(records, ranking, rank, side, batch)


_RANKED_AROUND = Prepared(_ranked_around_query)


def ranked_around_whole(
    review: Review, stage: str, ranking_id: int, rank: int
) -> list[tuple[int, int, bool]]:
    """The first batch on either side of `rank` for `ranked_neighbours` in a queue without
    filters, its SQL compiled once per process (`reviewer.prepared`)."""
    shape = (stage, review.blinded)
    values = {"review": review.pk, "ranking": ranking_id, "rank": rank}
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite
        return [
            *_RANKED_AROUND.rows((*shape, "upper", NEIGHBOUR_BATCH), **values),
            *_RANKED_AROUND.rows((*shape, "lower", NEIGHBOUR_BATCH), **values),
        ]
    return _RANKED_AROUND.rows((*shape, "both", NEIGHBOUR_BATCH), **values)


def ranked_neighbours(
    records: QuerySet[Record] | Callable[[], QuerySet[Record]],
    ranking_id: int,
    pk: int,
    *,
    rank: int | bool | None = False,
    around: Callable[[int], list[tuple[int, int, bool]]] | None = None,
) -> tuple[int | None, int | None] | None:
    """The records before and after `pk` in a relevance-ordered queue; None when the
    ranking has no score for `pk` or nothing scored follows it (then `neighbours`, which
    also orders the unscored records, answers). `rank`: `pk`'s rank when the caller has
    read it (None: not scored). `around`: reads the first batch on either side of a rank
    (`ranked_around_whole` for a queue without filters); `records` may then be a function
    that builds the queue's records only if the walk goes on past that batch."""
    if rank is False:
        # unordered, by the (job, record) index: see `selectors.record_relevance`
        ranks = RelevanceScore.objects.filter(job_id=ranking_id, record_id=pk)
        rank = next(iter(ranks.values_list("rank", flat=True)[:1]), None)
    if rank is None or isinstance(rank, bool):
        return None

    def queue() -> QuerySet[Record]:
        return records() if callable(records) else records

    def first_of(batches: Iterable[list[int]]) -> int | None:
        for batch in batches:
            present = set(queue().filter(pk__in=batch).values_list("pk", flat=True))
            hit = next((record_id for record_id in batch if record_id in present), None)
            if hit is not None:
                return hit
        return None

    # the first batch on either side, each record with whether it is in the queue, in one
    # query: nearly always enough; a side whose first batch has none walks on
    if around is not None:
        rows = around(rank)
    elif connection.features.supports_slicing_ordering_in_compound:
        rows = list(_ranked_around(queue(), ranking_id, rank, "both", NEIGHBOUR_BATCH))
    else:  # SQLite: two queries
        rows = [
            *_ranked_around(queue(), ranking_id, rank, "upper", NEIGHBOUR_BATCH),
            *_ranked_around(queue(), ranking_id, rank, "lower", NEIGHBOUR_BATCH),
        ]
    present = {pk for _, pk, inside in rows if inside}
    after = sorted((r, pk) for r, pk, _ in rows if r > rank)
    before = sorted(((r, pk) for r, pk, _ in rows if r < rank), reverse=True)
    following = next((pk for _, pk in after if pk in present), None)
    if following is None and len(after) == NEIGHBOUR_BATCH:
        following = first_of(_ranked_batches(ranking_id, after=after[-1][0]))
    if following is None:
        return None
    previous = next((pk for _, pk in before if pk in present), None)
    if previous is None and len(before) == NEIGHBOUR_BATCH:
        previous = first_of(_ranked_batches(ranking_id, before=before[-1][0]))
    return previous, following
