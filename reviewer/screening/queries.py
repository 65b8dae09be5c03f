"""Reads for screening: each record's rows and state, the queues, the counts.

States come from `rules` applied to the rows, loaded in a handful of queries whatever the
number of records, so a page or a count never costs a query per record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reviewer.models import (
    Adjudication,
    Approval,
    Choice,
    Decision,
    FullText,
    Record,
    Removal,
    Review,
    Stage,
    User,
)
from reviewer.screening.rules import FT, TA, Outcome, RecordRows, State, record_state


def _rows(review: Review, record_ids: Iterable[int] | None) -> dict[int, RecordRows]:
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
            ta_choices=tuple(ta.get(pk, ())),
            ta_adjudicated=ta_adjudicated.get(pk),
            ft_decisions=tuple(ft.get(pk, ())),
            ft_adjudicated=ft_adjudicated.get(pk),
            not_retrieved=pk in not_retrieved,
            approved=pk in approved,
        )
        for pk, duplicate_of in records.values_list("pk", "duplicate_of_id")
    }


def states(review: Review, record_ids: Iterable[int] | None = None) -> dict[int, Outcome]:
    """Every record's state (or only these records')."""
    return {pk: record_state(rows) for pk, rows in _rows(review, record_ids).items()}


def state_of(record: Record) -> Outcome:
    return states(record.review, [record.pk])[record.pk]


def state_counts(review: Review) -> Counter[State]:
    return Counter(outcome.state for outcome in states(review).values())


# --- queues ---


def decision_count(stage: str) -> Coalesce:
    """How many decisions a record has at `stage`, as a subquery (no GROUP BY on records)."""
    counted = (
        Decision.objects.filter(record=OuterRef("pk"), stage=stage)
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _passed_title_abstract() -> Q:
    """Records that passed title/abstract, as a filter on Record (the rule of
    `rules.title_abstract`, in SQL): adjudicated include, or two decisions and no exclude."""
    adjudicated = Adjudication.objects.filter(record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT)
    excluded = Decision.objects.filter(
        record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, choice=Choice.EXCLUDE
    )
    return Q(Exists(adjudicated.filter(choice=Choice.INCLUDE))) | (
        Q(ta_count=2) & ~Q(Exists(excluded)) & ~Q(Exists(adjudicated))
    )


def eligible(review: Review, stage: str) -> QuerySet[Record]:
    """The records that are screened at `stage`: no duplicates, none removed, and at full
    text only those that passed title/abstract and whose full text was not unobtainable."""
    records = review.records.filter(duplicate_of=None).exclude(
        Exists(Removal.objects.filter(record=OuterRef("pk")))
    )
    if stage == FT:
        records = (
            records.annotate(ta_count=decision_count(TA))
            .filter(_passed_title_abstract())
            .exclude(Exists(FullText.objects.filter(record=OuterRef("pk"), not_retrieved=True)))
        )
    return records


def queue(
    review: Review,
    user: User,
    stage: str,
    *,
    source_id: int | None = None,
    mine: str = "",
    query: str = "",
) -> QuerySet[Record]:
    """A reviewer's queue at `stage`: records still waiting for this reviewer first (no
    decision of theirs, fewer than two decisions, not adjudicated), then the rest, each part
    in import order. `mine` filters by the reviewer's own decision ("none" for undecided)."""
    decisions = Decision.objects.filter(record=OuterRef("pk"), stage=stage)
    records = (
        eligible(review, stage)
        .annotate(
            decided_by_me=Exists(decisions.filter(reviewer=user)),
            decision_count=decision_count(stage),
            adjudicated=Exists(Adjudication.objects.filter(record=OuterRef("pk"), stage=stage)),
        )
        .annotate(waiting=Q(decided_by_me=False) & Q(decision_count__lt=2) & Q(adjudicated=False))
        .select_related("source")
        .order_by("-waiting", "pk")
    )
    if source_id:
        records = records.filter(source_id=source_id)
    if mine == "none":
        records = records.filter(decided_by_me=False)
    elif mine:
        records = records.filter(
            Exists(decisions.filter(reviewer=user, choice=mine)),
        )
    for term in query.split():
        records = records.filter(Q(title__icontains=term) | Q(abstract__icontains=term))
    return records


def next_for(review: Review, user: User, stage: str) -> Record | None:
    """The first record waiting for this reviewer at `stage`, if any."""
    waiting = queue(review, user, stage).filter(waiting=True)  # type: ignore[misc]  # annotated
    return waiting.first()


def progress(review: Review, user: User, stage: str) -> dict[str, int]:
    """How far the screening at `stage` is: records, mine done, and fully done (two decisions
    or adjudicated)."""
    records = eligible(review, stage)
    adjudicated = Exists(Adjudication.objects.filter(record=OuterRef("pk"), stage=stage))
    return {
        "total": records.count(),
        "mine": records.filter(
            Exists(Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=user))
        ).count(),
        "done": records.annotate(decisions_made=decision_count(stage))
        .filter(Q(decisions_made__gte=2) | Q(adjudicated))
        .count(),
    }
