"""Removing duplicates from a review: run the engine, link the certain pairs, let people decide.

The engine (`reviewer.dedup`) is pure: records in, pairs and clusters out. This
module feeds it the review's records, stores what it found, and keeps the groups
of duplicates:

- A group is a kept record and the records whose `duplicate_of` points at it
  (never a chain). The kept record is one someone has already screened, else the
  group's earliest import, so a record in the review is never hidden by a later import
  of the same paper: the newcomer is the duplicate. Two screened records are never
  joined by the engine; a person decides.
- The kept record takes the fields it lacks from its duplicates (the longest
  abstract, the first DOI, ...); `filled_fields` remembers where each came from,
  so a split gives them back.
- A person's decision on a pair (duplicate / not duplicate) outranks any later
  run of the engine; "not duplicate" also keeps the two records' groups apart.
- Every link, merge, split and decision is a `DedupEvent` row: who and when.

Writes take a lock on the review row, so a run, a decision and a split never
interleave.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviewer.dedup import Band as EngineBand
from reviewer.dedup import DedupInput, DedupResult, PairResult, deduplicate
from reviewer.imports.base import MAPPABLE_FIELDS
from reviewer.models import (
    Band,
    Decision,
    DedupAction,
    DedupEvent,
    DedupJob,
    DuplicatePair,
    ImportJob,
    PairStatus,
    Record,
    Review,
    User,
)
from reviewer.models.duplicates import DECIDED_STATUSES
from reviewer.screening import counters
from reviewer.selectors import pending_duplicate_pairs
from reviewer.services.jobs import (
    Claim,
    JobGoing,
    job_cancel,
    job_restart,
    job_send,
    run_claimed,
)

logger = logging.getLogger(__name__)

#: Fields a kept record may take from its duplicates when it has none of its own: every
#: normalised field but the title, which is what the group is recognised by.
FILLABLE_FIELDS = tuple(name for name in MAPPABLE_FIELDS if name != "title")
ENGINE_FIELDS = (
    "pk",
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "publication_type",
)


# --- running the engine ---


def dedup_job_create(
    *, review: Review, user: User, import_job: ImportJob | None = None, enqueue: bool = True
) -> DedupJob:
    """Queue a run over the whole review, or over one import's records against all others."""
    job = DedupJob.objects.create(
        review=review, created_by=user, import_job=import_job, whole_review=import_job is None
    )
    if enqueue:
        job_send(job)
    return job


def dedup_job_start(*, review: Review, user: User, enqueue: bool = True) -> DedupJob:
    """Queue a run over the whole review, one at a time: while one waits or runs, raises
    `JobGoing` with it (the constraint `one_unfinished_dedup_per_review` decides, so two
    clicks at once cannot start two)."""
    try:
        with transaction.atomic():
            return dedup_job_create(review=review, user=user, enqueue=enqueue)
    except IntegrityError:
        going = review.dedup_jobs.get(whole_review=True, status__in=DedupJob.unfinished_statuses())
        raise JobGoing(going) from None


def dedup_after_import(*, import_job: ImportJob) -> DedupJob | None:
    """Check a finished import's records against the review's others (called by the import)."""
    if not import_job.record_count:
        return None
    return dedup_job_create(
        review=import_job.review, user=import_job.created_by, import_job=import_job
    )


def dedup_run_now(*, review: Review, user: User) -> DedupJob:
    """Run over the whole review in this process (the `dedupe` command). A whole-review run
    already waiting is the one run here (one at a time); one that a live worker holds is
    left to it, refused with a ValidationError."""
    try:
        job = dedup_job_start(review=review, user=user, enqueue=False)
    except JobGoing as going:
        job = cast(DedupJob, going.job)
    dedup_job_run(job_id=job.pk)
    job.refresh_from_db()
    if job.is_running:
        raise ValidationError(
            f"De-duplication run #{job.pk} is already going in a worker; its result will be "
            "on the duplicates page."
        )
    return job


def _engine_records(review: Review) -> list[DedupInput]:
    rows = review.records.order_by("pk").values_list(*ENGINE_FIELDS)
    return [
        DedupInput(
            id=pk,
            title=title,
            authors=tuple(authors or ()),
            year=year,
            journal=journal,
            volume=volume,
            issue=issue,
            pages=pages,
            doi=doi,
            pmid=pmid,
            abstract=abstract,
            publication_type=publication_type,
        )
        for pk, title, authors, year, journal, volume, issue, pages, doi, pmid, abstract, (
            publication_type
        ) in rows.iterator(chunk_size=5000)
    ]


def dedup_job_run(*, job_id: int) -> None:
    """Run the engine and store its result in one transaction. Run by the `run_dedup` task."""

    def run(claim: Claim) -> None:
        job = DedupJob.objects.select_related("review").get(pk=job_id)
        claim.progress(0, None, "Reading the records")
        records = _engine_records(job.review)
        only_against: set[int | str] | None = None
        if job.import_job_id is not None:
            only_against = set(
                job.review.records.filter(import_file__job_id=job.import_job_id).values_list(
                    "pk", flat=True
                )
            )
        cannot_link = list(
            DuplicatePair.objects.filter(review=job.review, status=PairStatus.DISTINCT).values_list(
                "first_id", "second_id"
            )
        )

        def report(done: int, total: int) -> None:
            claim.progress(done, total, "Comparing records")

        result = deduplicate(
            records, only_against=only_against, cannot_link=cannot_link, progress=report
        )
        claim.progress(0, None, "Saving the groups")
        with transaction.atomic():
            counts = _store_result(job, result)
            claim.finish(counts=counts)
            # duplicates leave screening: the screening counters count again
            counters.changed(job.review)

    run_claimed(
        DedupJob,
        job_id,
        run,
        failed=lambda error: (
            f"Unexpected error ({type(error).__name__}: {error}). Nothing was changed."
        ),
        label=f"De-duplication job {job_id}",
    )


def dedup_job_restart(*, job: DedupJob) -> None:
    """Send a waiting run again, or a stopped one (the new run takes it over)."""
    job_restart(job=job)


def dedup_job_cancel(*, job: DedupJob, user: User) -> None:
    """End a run that has not finished; it changes nothing (`services.jobs.job_cancel`)."""
    job_cancel(job=job, user=user)


_ENGINE_BAND = {
    EngineBand.CERTAIN: Band.CERTAIN,
    EngineBand.POSSIBLE: Band.POSSIBLE,
    EngineBand.DISTINCT: Band.DISTINCT,
}


def _store_result(job: DedupJob, result: DedupResult) -> dict[str, int]:
    """Save the pairs, then link each certain cluster into one group (all in the caller's
    transaction, under the review's lock)."""
    review = Review.objects.select_for_update().get(pk=job.review_id)
    groups = _Groups.load(review)
    existing = {
        (p.first_id, p.second_id): p
        for p in DuplicatePair.objects.filter(review=review).only(
            "pk", "first_id", "second_id", "status"
        )
    }
    new_pairs: list[DuplicatePair] = []
    updated: list[DuplicatePair] = []
    by_records: dict[tuple[int, int], DuplicatePair] = {}
    for found in result.pairs:
        key = _pair_key(found)
        stored = existing.get(key)
        fields = {
            "band": _ENGINE_BAND[found.band],
            "score": round(found.score, 4),
            "evidence": [e.as_dict() for e in found.evidence],
            "reasons": list(found.reasons),
            "job": job,
        }
        if stored is None:
            status = (
                PairStatus.KEPT_APART if found.band == EngineBand.DISTINCT else PairStatus.PENDING
            )
            pair = DuplicatePair(review=review, first_id=key[0], second_id=key[1], status=status)
            for name, value in fields.items():
                setattr(pair, name, value)
            new_pairs.append(pair)
        else:
            pair = stored
            for name, value in fields.items():
                setattr(pair, name, value)
            if pair.status not in DECIDED_STATUSES and pair.status != PairStatus.LINKED:
                pair.status = (
                    PairStatus.KEPT_APART
                    if found.band == EngineBand.DISTINCT
                    else PairStatus.PENDING
                )
            updated.append(pair)
        by_records[key] = pair
    DuplicatePair.objects.bulk_create(new_pairs, batch_size=1000)
    DuplicatePair.objects.bulk_update(
        updated, ["band", "score", "evidence", "reasons", "job", "status"], batch_size=1000
    )

    linked_records = 0
    links = _Links()
    for cluster in result.clusters:
        ids = sorted(int(i) for i in cluster)
        if groups.conflict(ids):
            continue  # a person kept some of these apart: their pairs stay in the queue
        linked_records += _merge(review, groups, ids, links, job=job, user=None, pair=None)
    _save_links(groups, links)
    # A certain pair whose records now share a group is linked; one that could not
    # join (a person's "not duplicate" in the way) waits for a decision instead.
    to_link = [
        pair
        for key, pair in by_records.items()
        if pair.band == Band.CERTAIN
        and pair.status == PairStatus.PENDING
        and groups.root(key[0]) == groups.root(key[1])
    ]
    for pair in to_link:
        pair.status = PairStatus.LINKED
    DuplicatePair.objects.bulk_update(to_link, ["status"], batch_size=1000)

    counts = result.counts()
    return {
        "records": result.records,
        "compared": result.compared,
        "certain": counts.get("certain", 0),
        "possible": counts.get("possible", 0),
        "linked_records": linked_records,
        "waiting": pending_duplicate_pairs(review).count(),
    }


def _pair_key(found: PairResult) -> tuple[int, int]:
    a, b = int(found.left), int(found.right)
    return (a, b) if a < b else (b, a)


# --- groups ---


@dataclass
class _Groups:
    """The review's groups in memory during one write: record id -> kept record id."""

    review: Review
    parent: dict[int, int]
    members: dict[int, set[int]]
    apart: dict[int, set[int]]  # record id -> records a person said it does not duplicate
    screened: set[int]  # records someone has already made a screening decision on

    @classmethod
    def load(cls, review: Review) -> _Groups:
        parent: dict[int, int] = {}
        members: dict[int, set[int]] = defaultdict(set)
        for pk, kept in review.records.exclude(duplicate_of=None).values_list(
            "pk", "duplicate_of_id"
        ):
            parent[pk] = kept
            members[kept].add(pk)
        apart: dict[int, set[int]] = defaultdict(set)
        for first, second in DuplicatePair.objects.filter(
            review=review, status=PairStatus.DISTINCT
        ).values_list("first_id", "second_id"):
            apart[first].add(second)
            apart[second].add(first)
        screened = set(
            Decision.objects.filter(review=review).values_list("record_id", flat=True).distinct()
        )
        return cls(review, parent, members, apart, screened)

    def kept_of(self, candidates: Iterable[int]) -> int:
        """Which record a group keeps: one already screened (so screening never loses a
        record someone has decided on), else the earliest import."""
        ordered = sorted(candidates)
        return next((pk for pk in ordered if pk in self.screened), ordered[0])

    def root(self, pk: int) -> int:
        return self.parent.get(pk, pk)

    def group(self, root: int) -> set[int]:
        return {root} | self.members.get(root, set())

    def conflict(self, ids: Iterable[int]) -> tuple[int, int] | None:
        """A pair a person said are not duplicates, if joining these records' groups would
        put one in the same group as the other."""
        union: set[int] = set()
        for root in {self.root(pk) for pk in ids}:
            union |= self.group(root)
        for pk in sorted(union):
            for other in sorted(self.apart.get(pk, set()) & union):
                return (pk, other) if pk < other else (other, pk)
        return None


@dataclass
class _Links:
    """Links made in memory during one write, saved together by `_save_links`."""

    kept: set[int] = field(default_factory=set)
    joined: set[int] = field(default_factory=set)  # kept records that joined another group
    events: list[DedupEvent] = field(default_factory=list)


def _merge(
    review: Review,
    groups: _Groups,
    ids: Iterable[int],
    links: _Links,
    *,
    job: DedupJob | None,
    user: User | None,
    pair: DuplicatePair | None,
) -> int:
    """Join the groups of these records under one kept record (in memory; `_save_links`
    writes it). Returns how many records became duplicates.

    The kept record is one already screened, else the earliest import. The engine never
    joins two groups that have both been screened (that would hide a screened record): it
    leaves such pairs to a person, whose decision does join them."""
    roots = sorted({groups.root(pk) for pk in ids})
    if len(roots) < 2:
        return 0
    if user is None and sum(1 for root in roots if root in groups.screened) > 1:
        return 0
    kept = groups.kept_of(roots)
    joining = [root for root in roots if root != kept]
    moved: list[int] = []
    for root in joining:
        moved.extend(sorted(groups.group(root)))
        groups.members.pop(root, None)
    for pk in moved:
        groups.parent[pk] = kept
        groups.members[kept].add(pk)
    links.kept.add(kept)
    links.joined.update(joining)
    action = DedupAction.LINKED if user is None else DedupAction.MERGED
    links.events.extend(
        DedupEvent(
            review=review, action=action, record_id=pk, other_id=kept, job=job, user=user, pair=pair
        )
        for pk in moved
    )
    return len(moved)


def _chunks(ids: Iterable[int], size: int = 2000) -> Iterable[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _save_links(groups: _Groups, links: _Links) -> None:
    """Write the links `_merge` made: who points where, the kept records' filled fields, the
    log. A few bulk statements, however many groups changed."""
    joined = {pk for pk in links.joined if groups.root(pk) != pk}
    _unfill_many(joined)
    moved = [
        Record(pk=pk, duplicate_of_id=groups.root(pk))
        for kept in links.kept
        if groups.root(kept) == kept
        for pk in groups.members.get(kept, ())
    ]
    Record.objects.bulk_update(moved, ["duplicate_of"], batch_size=1000)
    _refill_many(pk for pk in links.kept if groups.root(pk) == pk)
    DedupEvent.objects.bulk_create(links.events, batch_size=1000)


def _empty(value: Any) -> bool:
    return value in ("", None, [], {})


def _blank_value(name: str) -> Any:
    """The value a record field has when the import found nothing for it."""
    if name == "year":
        return None
    if name in ("authors", "keywords"):
        return []
    return ""


def _unfill_many(ids: Iterable[int]) -> None:
    """Give back every field these records took from duplicates while they were kept."""
    changed = []
    for batch in _chunks(ids):
        for record in Record.objects.filter(pk__in=batch).exclude(filled_fields={}):
            for name in record.filled_fields:
                setattr(record, name, _blank_value(name))
            record.filled_fields = {}
            changed.append(record)
    Record.objects.bulk_update(changed, [*FILLABLE_FIELDS, "filled_fields"], batch_size=500)


def _refill_many(ids: Iterable[int]) -> None:
    """Fill each kept record's empty fields from its duplicates, oldest import first (the
    longest abstract wins). Fields a record had of its own are never touched."""
    changed = []
    for batch in _chunks(ids):
        duplicates: dict[int, list[Record]] = defaultdict(list)
        for record in Record.objects.filter(duplicate_of_id__in=batch).order_by("pk"):
            assert record.duplicate_of_id is not None
            duplicates[record.duplicate_of_id].append(record)
        for kept in Record.objects.filter(pk__in=batch):
            before = {name: getattr(kept, name) for name in FILLABLE_FIELDS}
            before_filled = kept.filled_fields
            _fill(kept, duplicates[kept.pk])
            if kept.filled_fields != before_filled or any(
                getattr(kept, name) != value for name, value in before.items()
            ):
                changed.append(kept)
    Record.objects.bulk_update(changed, [*FILLABLE_FIELDS, "filled_fields"], batch_size=500)


def _fill(kept: Record, duplicates: list[Record]) -> None:
    for name in kept.filled_fields:
        setattr(kept, name, _blank_value(name))
    filled: dict[str, int] = {}
    for name in FILLABLE_FIELDS:
        if not _empty(getattr(kept, name)):
            continue
        candidates = [d for d in duplicates if not _empty(getattr(d, name))]
        if not candidates:
            continue
        if name == "abstract":
            donor = max(candidates, key=lambda d: len(d.abstract))
        else:
            donor = candidates[0]
        setattr(kept, name, getattr(donor, name))
        filled[name] = donor.pk
    kept.filled_fields = filled


# --- people's decisions ---


@transaction.atomic
def pair_decide(*, pair: DuplicatePair, user: User, duplicate: bool) -> DuplicatePair:
    """Record a person's decision on a pair from the queue."""
    review = Review.objects.select_for_update().get(pk=pair.review_id)
    pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if pair.is_decided:
        who = pair.decided_by.display_name() if pair.decided_by else ""
        raise ValidationError(
            f"This pair was already decided ({pair.get_status_display().lower()}"
            f"{f' by {who}' if who else ''}). Undo that decision first to change it."
        )
    groups = _Groups.load(review)
    same_group = groups.root(pair.first_id) == groups.root(pair.second_id)
    if duplicate:
        conflict = groups.conflict([pair.first_id, pair.second_id])
        if conflict:
            raise ValidationError(
                f"Record {conflict[0]} and record {conflict[1]} were marked as not duplicates, "
                "and these two belong to their groups. Undo that decision first."
            )
        links = _Links()
        _merge(
            review, groups, [pair.first_id, pair.second_id], links, job=None, user=user, pair=pair
        )
        _save_links(groups, links)
    elif same_group:
        raise ValidationError(
            "These records are already in one group. To separate them, split one off "
            "from the group's page."
        )
    pair.status = PairStatus.DUPLICATE if duplicate else PairStatus.DISTINCT
    pair.decided_by = user
    pair.decided_at = timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    if not duplicate:
        _log_pair(pair, DedupAction.DISTINCT, user)
    counters.changed(review)  # a record joined a group, so left screening (or not)
    return pair


def _log_pair(pair: DuplicatePair, action: DedupAction, user: User) -> None:
    DedupEvent.objects.create(
        review_id=pair.review_id,
        action=action,
        record_id=pair.second_id,
        other_id=pair.first_id,
        pair=pair,
        user=user,
    )


@transaction.atomic
def pair_reopen(*, pair: DuplicatePair, user: User) -> DuplicatePair:
    """Undo a person's decision: the pair goes back to the queue.

    Undoing "duplicate" takes the later-imported record of the pair out of the
    group again (without marking it distinct: it is undecided once more)."""
    review = Review.objects.select_for_update().get(pk=pair.review_id)
    pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if not pair.is_decided:
        raise ValidationError("Only a decided pair can be undone.")
    if pair.status == PairStatus.DUPLICATE:
        groups = _Groups.load(review)
        if groups.root(pair.first_id) == groups.root(pair.second_id):
            _detach(review, groups, Record.objects.get(pk=pair.second_id))
    pair.status = PairStatus.PENDING
    pair.decided_by = None
    pair.decided_at = None
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    _log_pair(pair, DedupAction.REOPENED, user)
    counters.changed(review)  # a record may be back in screening
    return pair


def _detach(review: Review, groups: _Groups, record: Record) -> tuple[int, list[int]]:
    """Take a record out of its group; returns (the group's kept record, the rest).

    If the record is the kept one, another takes its place (one already screened, else the
    earliest import)."""
    root = groups.root(record.pk)
    rest = sorted(groups.group(root) - {record.pk})
    if record.pk == root:
        _unfill_many([record.pk])
        if rest:
            new_root = groups.kept_of(rest)
            others = [pk for pk in rest if pk != new_root]
            Record.objects.filter(pk=new_root).update(duplicate_of=None)
            Record.objects.filter(pk__in=others).update(duplicate_of_id=new_root)
            groups.members.pop(root, None)
            groups.parent.pop(new_root, None)
            for pk in others:
                groups.parent[pk] = new_root
            groups.members[new_root] = set(others)
            _refill_many([new_root])
            return new_root, rest
        return root, rest
    Record.objects.filter(pk=record.pk).update(duplicate_of=None)
    groups.parent.pop(record.pk, None)
    groups.members[root].discard(record.pk)
    _refill_many([root])
    return root, rest


@transaction.atomic
def record_split(*, record: Record, user: User, note: str = "") -> list[int]:
    """Split a record off its group: it is not a duplicate of any record left in the group.

    Pairs between it and each of them become "not duplicate" decisions, so no later
    run links them again. Returns the ids it was split from."""
    review = Review.objects.select_for_update().get(pk=record.review_id)
    record = Record.objects.get(pk=record.pk)
    groups = _Groups.load(review)
    if len(groups.group(groups.root(record.pk))) < 2:
        raise ValidationError("This record is not in a group of duplicates.")
    kept, rest = _detach(review, groups, record)
    now = timezone.now()
    for other in rest:
        first, second = sorted((record.pk, other))
        pair, created = DuplicatePair.objects.get_or_create(
            first_id=first,
            second_id=second,
            defaults={
                "review": review,
                "band": Band.DISTINCT,
                "score": 0.0,
                "reasons": ["split off by a person"],
                "status": PairStatus.DISTINCT,
                "decided_by": user,
                "decided_at": now,
            },
        )
        if not created:
            pair.status = PairStatus.DISTINCT
            pair.decided_by = user
            pair.decided_at = now
            pair.save(update_fields=["status", "decided_by", "decided_at"])
    DedupEvent.objects.create(
        review=review, action=DedupAction.SPLIT, record=record, other_id=kept, user=user, note=note
    )
    counters.changed(review)  # the record is screened again
    return rest


# --- records about to be deleted ---


def records_leave_groups(*, review: Review, record_ids: set[int]) -> None:
    """Take these records out of their duplicate groups before they are deleted (a search
    deleted by mistake): records they kept for a group hand that role on (one already
    screened, else the earliest import), and the kept records that remain take their filled
    fields from the duplicates that remain. Nothing of theirs is left pointing anywhere."""
    groups = _Groups.load(review)
    roots = {groups.root(pk) for pk in record_ids}
    repoint: dict[int, list[int]] = defaultdict(list)  # new kept record -> its duplicates
    refill: set[int] = set()
    for root in roots:
        rest = sorted(groups.group(root) - record_ids)
        if not rest:
            continue
        if root in record_ids:
            new_root = groups.kept_of(rest)
            repoint[new_root] = [pk for pk in rest if pk != new_root]
            refill.add(new_root)
        else:
            refill.add(root)
    for batch in _chunks(sorted(record_ids)):
        Record.objects.filter(pk__in=batch).update(duplicate_of=None, filled_fields={})
    for new_root, duplicates in repoint.items():
        Record.objects.filter(pk=new_root).update(duplicate_of=None)
        for batch in _chunks(duplicates):
            Record.objects.filter(pk__in=batch).update(duplicate_of_id=new_root)
    _refill_many(sorted(refill))
