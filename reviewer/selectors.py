"""Reads that more than one view needs (the core's: reviews, members, sources, records,
duplicates).

Where reads live, across the apps: each concept has one `selectors.py` beside its models
and services (`reviewer/selectors.py`, `reviewer/ranking/selectors.py`,
`extraction/selectors.py`, `extraction/appraisal/selectors.py`, `extraction/dual/selectors.py`,
`analysis/selectors.py`); screening's reads are `reviewer/screening/queries.py`, the SQL twin
of `screening/rules.py` (its docstring says why it keeps that name). A view or a service
that needs a query another page also runs takes it from there rather than writing it
inline; a read used once, beside the code that consumes it, may stay there (analysis's
columns in `services/data.py`). A selector only reads: a row that must exist is created by
the write that needs it (`extraction_setup_of` returns the unsaved defaults until an owner
saves the settings).

How they are named, as most already are: after what they return, a plural noun for a
collection of the review (`former_members(review)`, `final_copies(review)`, `runs_of(review)`
where the bare noun would read as a variable); `<thing>_of(x)` for the one thing belonging
to `x` (`state_of(record)`, `extraction_setup_of(review)`, `consensus_of(model, study)`);
`<things>_for_<whom>` / `_seen_by` when narrowed to what one person may see
(`reviews_for_user`, `progress_seen_by`). One idea has one name in every app: the final
copy of each study is `final_copies` in extraction and in appraisal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reviewer.models import (
    Decision,
    DuplicatePair,
    FormerMember,
    ImportStatus,
    Membership,
    PairStatus,
    Record,
    Review,
    Source,
    User,
)
from reviewer.models.sources import RUNNING_STATUSES
from reviewer.screening import queries
from reviewer.screening.rules import (
    FT,
    PUBLIC_STATES,
    REVIEWERS_PER_RECORD,
    Choice,
    RecordRows,
    State,
    closed_by_senior,
    may_see_other_decisions,
    record_state,
)


def reviews_for_user(user: User) -> QuerySet[Review]:
    """The reviews a user belongs to, with the counts the list page shows."""
    # Filter through a subquery: filtering on the memberships join would make
    # Count("memberships") count only the user's own row.
    mine = Membership.objects.filter(user=user).values("review_id")
    return (
        Review.objects.filter(pk__in=mine, archived_at=None)
        .annotate(
            record_count=Count("records", distinct=True),
            member_count=Count("memberships", distinct=True),
            source_count=Count("sources", distinct=True),
        )
        .order_by("title")
    )


def archived_reviews_for_user(user: User) -> QuerySet[Review]:
    """The archived reviews a user belongs to (not in the main list; owners restore them)."""
    mine = Membership.objects.filter(user=user)
    return (
        Review.objects.filter(pk__in=mine.values("review_id"))
        .exclude(archived_at=None)
        .annotate(my_role=Subquery(mine.filter(review_id=OuterRef("pk")).values("role")[:1]))
        .order_by("title")
    )


def former_members(review: Review) -> list[FormerMember]:
    """People removed from the review who have not joined it again, each with how many
    screening decisions of theirs the review keeps."""
    current = review.memberships.values("user_id")
    former = list(
        review.former_members.exclude(user_id__in=current).select_related("user", "removed_by")
    )
    decided = dict(
        Decision.objects.filter(review=review, reviewer_id__in={f.user_id for f in former})
        .values_list("reviewer_id")
        .annotate(n=Count("pk"))
    )
    seen: set[int] = set()
    latest = []
    for row in former:  # newest removal first: one row per person
        if row.user_id not in seen:
            seen.add(row.user_id)
            row.decision_count = decided.get(row.user_id, 0)  # type: ignore[attr-defined]
            latest.append(row)
    return latest


def sources_with_counts(review: Review, *, hidden: bool = False) -> QuerySet[Source]:
    """The review's searches with their record and file counts: the listed ones, or with
    `hidden` the hidden ones (whose records still count everywhere)."""
    sources = review.sources.filter(hidden_at__isnull=not hidden)
    return sources.annotate(
        record_count=Count("records", distinct=True),
        file_count=Count(
            "import_jobs__files",
            filter=Q(import_jobs__status=ImportStatus.DONE),
            distinct=True,
        ),
    )


def records_search(
    review: Review, *, query: str = "", source_id: int | None = None, show: str = ""
) -> QuerySet[Record]:
    """Records matching a search; `show` is "unique" (no duplicates), "duplicates" or all."""
    records = review.records.select_related("source").order_by("pk")
    if show == "unique":
        records = records.filter(duplicate_of=None)
    elif show == "duplicates":
        records = records.exclude(duplicate_of=None)
    if source_id:
        records = records.filter(source_id=source_id)
    for term in query.split():
        records = records.filter(
            Q(title__icontains=term)
            | Q(doi__iexact=term)
            | Q(pmid=term)
            | Q(journal__icontains=term)
        )
    return records


@dataclass(frozen=True)
class StateSeen:
    """Where a record ended up, as one member may be told (`record_states_seen_by`)."""

    label: str
    #: The screening stage the record is at (`TA`, `FT`; "" for a duplicate or a removal).
    stage: str
    #: The whole state, when this member may be told it; None when only her own part is.
    state: State | None


def _seen(
    rows: RecordRows,
    *,
    is_senior: bool,
    mine: dict[str, str],
    others: Counter[str],
) -> StateSeen:
    """`rows`' state as a member may be told it, by the screening page's rule: the whole
    state to a senior (she has the decision history) and where `rules.may_see_other_decisions`
    allows it, or in `rules.PUBLIC_STATES`; otherwise, as the screening page's badge says it,
    only her own part (decided by her, or by `REVIEWERS_PER_RECORD` others whatever they
    chose, or waiting for her) at the stage the record is at, which every reviewer's queue
    shows anyway (a record reaches full text by a senior's act while the review is blinded)."""
    state = record_state(rows).state
    stage = state.stage
    if (
        is_senior
        or state in PUBLIC_STATES
        or not stage
        or may_see_other_decisions(
            blinded=rows.blinded,
            is_senior=False,
            state=state,
            stage=stage,
            closed_by_senior=closed_by_senior(rows, stage),
        )
    ):
        return StateSeen(state.label, stage, state)
    if stage in mine:
        part = f"decided by you ({Choice(mine[stage]).label.lower()})"
    elif others[stage] >= REVIEWERS_PER_RECORD:
        part = "decided by two reviewers"
    else:
        part = "waiting for your decision"
    where = "At full text" if stage == FT else "Title/abstract"
    return StateSeen(f"{where}: {part}", stage, None)


def record_states_seen_by(
    review: Review, membership: Membership, record_ids: list[int]
) -> dict[int, StateSeen]:
    """Where each of these records ended up (waiting, excluded at title/abstract, included,
    a duplicate, removed…), as `membership` may be told it under blinding (`_seen`). A
    fixed number of queries, whatever the number of records."""
    # the rows, not only the states: the closing acts (`closed_by_senior`) need them
    rows = queries.rows_by_record(review, record_ids)
    mine: dict[int, dict[str, str]] = defaultdict(dict)
    others: dict[int, Counter[str]] = defaultdict(Counter)
    for record_id, stage, reviewer_id, choice in Decision.objects.filter(
        review=review, record_id__in=record_ids
    ).values_list("record_id", "stage", "reviewer_id", "choice"):
        if reviewer_id == membership.user_id:
            mine[record_id][stage] = choice
        else:
            others[record_id][stage] += 1
    return {
        pk: _seen(
            record_rows,
            is_senior=membership.is_senior,
            mine=mine[pk],
            others=others[pk],
        )
        for pk, record_rows in rows.items()
    }


def review_counts(review: Review) -> dict[str, int]:
    records = review.records.all()
    return {
        "records": records.count(),
        "sources": review.sources.count(),
        "members": review.memberships.count(),
        "with_abstract": records.exclude(abstract="").count(),
        "duplicates": records.exclude(duplicate_of=None).count(),
        "running_imports": review.import_jobs.filter(status__in=RUNNING_STATUSES).count(),
    }


def export_counts(review: Review) -> dict[str, int]:
    """What the exports page counts of the screening files: records, screening decisions
    (every person's, every stage), included records and studies."""
    return {
        "records": review.records.count(),
        "decisions": Decision.objects.filter(review=review).count(),
        "included": review.approvals.count(),
        "studies": review.studies.count(),
    }


@dataclass(frozen=True)
class SourceDuplicates:
    """One search's part in de-duplication."""

    source: Source
    identified: int  # records imported from this search
    removed: int  # of them, duplicates of a record kept elsewhere (or earlier in this search)
    only_here: int  # papers (groups and single records) no other search found

    @property
    def kept(self) -> int:
        return self.identified - self.removed


@dataclass(frozen=True)
class DuplicateSummary:
    """The counts the duplicates page and the PRISMA diagram need, from the records' links."""

    records: int
    removed: int
    groups: int  # groups of two or more records
    by_source: list[SourceDuplicates]
    overlap: list[tuple[Source, list[int]]]  # papers found by both searches (diagonal: by one)

    @property
    def unique(self) -> int:
        return self.records - self.removed


def duplicate_summary(review: Review) -> DuplicateSummary:
    """Duplicates removed, in total and per search, and the overlap between searches.

    A paper is a kept record with its duplicates; it was found by every search that
    holds one of its records."""
    sources = list(review.sources.all())
    identified: Counter[int] = Counter()
    removed: Counter[int] = Counter()
    found_by: dict[int, set[int]] = defaultdict(set)
    for pk, source_id, kept in review.records.values_list("pk", "source_id", "duplicate_of_id"):
        identified[source_id] += 1
        if kept is not None:
            removed[source_id] += 1
        found_by[kept if kept is not None else pk].add(source_id)
    together: Counter[tuple[int, int]] = Counter()
    only: Counter[int] = Counter()
    for ids in found_by.values():
        for a in ids:
            for b in ids:
                together[a, b] += 1
        if len(ids) == 1:
            only[next(iter(ids))] += 1
    groups = sum(1 for _ in review.records.exclude(duplicates=None).values("pk").distinct())
    return DuplicateSummary(
        records=sum(identified.values()),
        removed=sum(removed.values()),
        groups=groups,
        by_source=[
            SourceDuplicates(s, identified[s.pk], removed[s.pk], only[s.pk]) for s in sources
        ],
        overlap=[(s, [together[s.pk, t.pk] for t in sources]) for s in sources],
    )


def pending_duplicate_pairs(review: Review) -> QuerySet[DuplicatePair]:
    """The queue: one question per two groups, the most alike first.

    A pending pair leaves the queue when its records end up in one group (joined through
    other records), when a person has said that a record of one group is not a duplicate of
    a record of the other, or when a more alike pair between the same two groups is already
    queued; it comes back if a split changes the groups again.
    """
    pairs = DuplicatePair.objects.filter(review=review).annotate(
        first_group=Coalesce(F("first__duplicate_of_id"), F("first_id")),
        second_group=Coalesce(F("second__duplicate_of_id"), F("second_id")),
    )
    apart = {
        frozenset(groups)
        for groups in pairs.filter(status=PairStatus.DISTINCT).values_list(
            "first_group", "second_group"
        )
    }
    candidates = (
        pairs.filter(status=PairStatus.PENDING)
        .exclude(first_group=F("second_group"))
        .order_by("-score", "pk")
        .values_list("pk", "first_group", "second_group")
    )
    asked: set[frozenset[int]] = set()
    queue: list[int] = []
    for pk, first_group, second_group in candidates:
        groups = frozenset((first_group, second_group))
        if groups in apart or groups in asked:
            continue
        asked.add(groups)
        queue.append(pk)
    return DuplicatePair.objects.filter(pk__in=queue).order_by("-score", "pk")


def colleagues(user: User, review: Review) -> QuerySet[User]:
    """Active accounts that share another review with `user` and are not members of
    `review`: the people an owner may add directly. Anyone else joins by invitation (their
    consent), and no free-text username lets an owner probe the site's accounts."""
    shared = Membership.objects.filter(review__memberships__user=user).values("user_id")
    return (
        User.objects.filter(is_active=True, pk__in=shared)
        .exclude(pk__in=review.memberships.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


#: Seconds a review's active exclusion reasons stay cached. An owner's edit
#: (`services.reviews`) shows at once; one made in the admin, within this time.
REASONS_TTL = 300


def active_reasons(review: Review) -> list[tuple[int, str]]:
    """The review's active exclusion reasons in their order, as (pk, label).

    The screening panel shows them with every record, so they come from the cache, keyed
    by the review's `counts_version`: the writers of reasons bump it in their transaction
    (`services.reviews`), as the writers of counts do (`screening.counters`), so a list
    cached before an edit is never read after it, and one read from data of before the
    commit is stored under the old version. Without Redis every read is a miss (one
    small query, as before)."""
    key = f"reviewer:reasons:{review.pk}:{review.counts_version}"
    reasons: list[tuple[int, str]] | None = cache.get(key)
    if reasons is None:
        reasons = list(review.exclusion_reasons.filter(is_active=True).values_list("pk", "label"))
        cache.set(key, reasons, REASONS_TTL)
    return reasons
