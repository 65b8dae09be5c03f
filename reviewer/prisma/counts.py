"""The PRISMA 2020 numbers of a review, read from the rows the screening pages read.

Every record's state comes from `reviewer.screening.queries.states` (called once), so the
diagram and the screening pages can never disagree; the rest is a handful of queries (the
records' sources, the removals, the approvals, the reasons), whatever the number of records.

How records fall into the two columns:

- **Databases and registers** (left column): records of database and register sources.
  "Identified" counts every imported record, duplicates included; the per-database lines
  add up the searches of one database (sources with the same name, compared without case
  or surrounding spaces), in the order the team first added that database.
- **Other methods** (right column): records of website, organisation and "other" sources
  (the last is counted as citation searching, the template's third line). They skip
  title/abstract screening, so they are reports sought for retrieval at once.
- **Duplicates and removals are boxes of the left column only.** `duplicates`,
  `excluded_automatic` and `excluded_other` count database and register records, so that
  records screened = identified − duplicates − automation − other removals holds. An
  other-method record that is a duplicate (of any record) or was removed before screening
  is identified (it counts in its websites / organisations / citation searching line) but
  is not a report sought: other_sought_reports ≤ those three lines.
- Reports of new included studies are the approved records of both columns, and new
  studies the distinct studies those approvals belong to.

Records still between stages (not yet screened, waiting for a second reviewer, in
conflict, full text not yet assessed, included but not yet approved) make the diagram
provisional: `pending` says how many wait at each step. So do undecided duplicate pairs,
duplicate checks not finished and imports not finished: `PrismaReport.waiting` holds every
reason, as `reviewer.prisma.provisional` defines them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reviewer.models import (
    Approval,
    DedupJob,
    DedupStatus,
    ImportJob,
    ImportStatus,
    Removal,
    Review,
    SourceKind,
)
from reviewer.models.sources import RUNNING_STATUSES
from reviewer.prisma.provisional import Waiting
from reviewer.prisma.types import PrismaCounts
from reviewer.screening.queries import states
from reviewer.screening.rules import FT, State
from reviewer.selectors import pending_duplicate_pairs

#: The states in which a record is still waiting for someone, in the order of the journey.
PENDING_STATES: tuple[State, ...] = (
    State.TA_UNSCREENED,
    State.TA_ONE,
    State.TA_CONFLICT,
    State.TA_PASSED,
    State.FT_SOUGHT,
    State.FT_ONE,
    State.FT_CONFLICT,
    State.FT_REASON,
    State.FT_INCLUDED,
)
# (which step each belongs to, and how it is said: `reviewer.prisma.provisional.Waiting`)

LEFT_KINDS = frozenset({SourceKind.DATABASE, SourceKind.REGISTER})


@dataclass(frozen=True)
class PrismaReport:
    """The counts; the records still waiting at each step of screening, by `State` value
    (what the arithmetic checks take into account); and everything that can still change
    the numbers (`waiting`: final when it is all zero)."""

    counts: PrismaCounts
    pending: dict[str, int]
    waiting: Waiting = field(default_factory=Waiting)

    @property
    def complete(self) -> bool:
        return self.waiting.final and not self.pending


def _specific(lines: dict[str, tuple[int, str, int]]) -> tuple[tuple[str, int], ...]:
    """(name, records) per database, in the order the team first added each one."""
    return tuple((name, n) for _, name, n in sorted(lines.values()))


def prisma_report(review: Review) -> PrismaReport:
    """The review's PRISMA 2020 counts and what is still pending, from one pass over states."""
    outcomes = states(review)
    removals = dict(Removal.objects.filter(review=review).values_list("record_id", "by_automation"))
    studies_of = dict(Approval.objects.filter(review=review).values_list("record_id", "study_id"))
    reasons = list(review.exclusion_reasons.order_by("position", "pk").values_list("pk", "label"))

    identified: Counter[str] = Counter()
    # per kind: normalised name -> (first source id, name as first written, records)
    specific: dict[str, dict[str, tuple[int, str, int]]] = {
        SourceKind.DATABASE: {},
        SourceKind.REGISTER: {},
    }
    left: Counter[State] = Counter()
    right: Counter[State] = Counter()
    excluded: dict[bool, Counter[int | None]] = {True: Counter(), False: Counter()}
    duplicates = automatic = other_removed = 0
    new_reports = 0
    new_studies: set[int] = set()
    pending: Counter[State] = Counter()

    records = review.records.values_list("pk", "source_id", "source__name", "source__kind")
    for pk, source_id, source_name, kind in records:
        outcome = outcomes.get(pk)
        if outcome is None:  # imported between the two reads: the next reading counts it
            continue
        identified[kind] += 1
        in_left = kind in LEFT_KINDS
        if in_left:
            key = source_name.strip().casefold()
            first, name, n = specific[kind].get(key, (source_id, source_name.strip(), 0))
            specific[kind][key] = (min(first, source_id), name, n + 1)
        state = outcome.state
        if state is State.DUPLICATE:
            duplicates += in_left
            continue
        if state is State.REMOVED:
            if in_left and removals.get(pk):
                automatic += 1
            elif in_left:
                other_removed += 1
            continue
        (left if in_left else right)[state] += 1
        if state is State.FT_EXCLUDED:
            excluded[in_left][outcome.reason_id] += 1
        if state is State.APPROVED:
            new_reports += 1
            new_studies.add(studies_of[pk])
        if state in PENDING_STATES:
            pending[state] += 1

    def by_reason(counter: Counter[int | None]) -> tuple[tuple[str, int], ...]:
        lines = [(label, counter[pk]) for pk, label in reasons if counter[pk]]
        if counter[None]:  # cannot happen through the services: an exclusion has a reason
            lines.append(("Reason not recorded", counter[None]))
        return tuple(lines)

    def sought(column: Counter[State]) -> int:
        # a record waiting for its release to full text passed title/abstract: its report
        # is sought (`rules.reaches_full_text` only decides when reviewers assess it)
        return sum(
            n for state, n in column.items() if state.stage == FT or state is State.TA_PASSED
        )

    counts = PrismaCounts(
        database_results=identified[SourceKind.DATABASE],
        database_specific_results=_specific(specific[SourceKind.DATABASE]),
        register_results=identified[SourceKind.REGISTER],
        register_specific_results=_specific(specific[SourceKind.REGISTER]),
        duplicates=duplicates,
        excluded_automatic=automatic,
        excluded_other=other_removed,
        records_screened=left.total(),
        records_excluded=left[State.TA_EXCLUDED],
        dbr_sought_reports=sought(left),
        dbr_notretrieved_reports=left[State.FT_NOT_RETRIEVED],
        dbr_assessed=sought(left) - left[State.FT_NOT_RETRIEVED],
        dbr_excluded=by_reason(excluded[True]),
        website_results=identified[SourceKind.WEBSITE],
        organisation_results=identified[SourceKind.ORGANISATION],
        citations_results=identified[SourceKind.OTHER],
        other_sought_reports=sought(right),
        other_notretrieved_reports=right[State.FT_NOT_RETRIEVED],
        other_assessed=sought(right) - right[State.FT_NOT_RETRIEVED],
        other_excluded=by_reason(excluded[False]),
        new_studies=len(new_studies),
        new_reports=new_reports,
        previous_studies=review.previous_studies,
        previous_reports=review.previous_reports,
        other_methods=any(identified[kind] for kind in SourceKind if kind not in LEFT_KINDS),
        previous=review.previous_studies is not None,
        extra={"title": review.title},
    )
    waiting = {state.value: pending[state] for state in PENDING_STATES if pending[state]}
    return PrismaReport(
        counts=counts,
        pending=waiting,
        waiting=Waiting.from_states(waiting, **outside_screening(review)),
    )


def outside_screening(review: Review) -> dict[str, int]:
    """What can still change the numbers before screening: duplicate pairs in the queue,
    records whose duplicate check has not finished, checks of the whole review queued or
    running, and imports under way or waiting to be confirmed (see `provisional`)."""
    jobs = list(
        DedupJob.objects.filter(review=review).values_list("import_job_id", "status", "created_at")
    )
    checked = {job for job, status, _ in jobs if job is not None and status == DedupStatus.DONE}
    whole = [created for job, status, created in jobs if job is None and status == DedupStatus.DONE]
    unchecked = unfinished = 0
    imports = ImportJob.objects.filter(review=review)
    for pk, status, records, finished in imports.values_list(
        "pk", "status", "record_count", "finished_at"
    ):
        if status in RUNNING_STATUSES or (status == ImportStatus.READY and records):
            unfinished += 1
            continue
        # a check of the whole review that started after the import saw its records too
        later = any(finished is None or created >= finished for created in whole)
        if status == ImportStatus.DONE and records and pk not in checked and not later:
            unchecked += records
    return {
        "duplicate_pairs": pending_duplicate_pairs(review).count(),
        "unchecked_records": unchecked,
        "duplicate_checks": sum(
            1
            for job, status, _ in jobs
            if job is None and status in {DedupStatus.QUEUED, DedupStatus.RUNNING}
        ),
        "imports": unfinished,
    }


def prisma_counts(review: Review) -> PrismaCounts:
    """The numbers of the review's PRISMA 2020 flow diagram."""
    return prisma_report(review).counts


def pending(review: Review) -> dict[str, int]:
    """How many records still wait at each step of screening, by `State` value (its
    `label` says it in words), only the steps with any, in the order of the journey. A page
    needing the counts too should call `prisma_report` (one pass)."""
    return prisma_report(review).pending
