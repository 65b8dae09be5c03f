"""Screening writes: decisions, undo, adjudication, release to full text, full texts,
approval, studies, removals.

Every write locks the record's row first, so two reviewers deciding the same record at the
same moment are serialised: the second sees the first's decision and the rules apply to
both. Each refusal is a `ValidationError` whose message says what and why, and nothing is
written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reviewer.models import (
    STAGE_CHOICES,
    Adjudication,
    Approval,
    Choice,
    Decision,
    DecisionChange,
    ExclusionReason,
    FullText,
    Membership,
    RankingJob,
    Record,
    Removal,
    Review,
    Role,
    Stage,
    Study,
    User,
)
from reviewer.screening import counters
from reviewer.screening.queries import (
    DecisionRow,
    queue,
    ranked_first,
    record_of,
    record_rows,
    removable,
    rows_of,
    state_of,
    states,
    waiting,
    waiting_for_release,
)
from reviewer.screening.rules import (
    FT,
    REVIEWERS_PER_RECORD,
    TA,
    RecordRows,
    State,
    adjudication_final,
    closed_by_senior,
    may_change_decision,
    not_screened_here,
    record_state,
)
from reviewer.services.ranking import ranking_after_decision

PDF_MAGIC = b"%PDF-"

#: How many of the first waiting records are shared out among reviewers working at once,
#: and how long a record handed to one of them is held back from the others.
HAND_OUT_AMONG = 12
HAND_OUT_SECONDS = 120


def _handed_out_key(record_id: int, stage: str) -> str:
    return f"screening:{stage}:{record_id}:with"


def next_record(
    *,
    review: Review,
    user: User,
    stage: str,
    records: QuerySet[Record] | None = None,
    ranking_id: int | None = None,
) -> Record | None:
    """The record to show a reviewer next: the first still waiting for them (of `records`,
    default their whole queue) that is not on a colleague's screen right now.

    Reviewers working at the same time would otherwise all be sent to the same record and
    all but two refused. Each record handed out is noted for a couple of minutes (in the
    cache, so every process sees it); the others skip it while it lasts, and a decision on
    it ends it. When every waiting record is on someone's screen, the first is shown
    anyway: the service still refuses a third decision."""
    if records is None:
        records = queue(review, user, stage)
    still = waiting(review, user, stage, records)
    # `records` in relevance order: walk the ranking (`ranking_id`) instead of sorting
    first = ranked_first(still, ranking_id, HAND_OUT_AMONG) if ranking_id is not None else []
    if not first:
        first = list(still.values_list("pk", flat=True)[:HAND_OUT_AMONG])
    return hand_out(review=review, user=user, stage=stage, first=first)


def hand_out(*, review: Review, user: User, stage: str, first: list[int]) -> Record | None:
    """Of `first` (the ids of the first records waiting for `user`, in order), the one to
    show: the first not on a colleague's screen right now (`next_record`), noted as on
    this reviewer's."""
    if not first:
        return None
    holders = cache.get_many([_handed_out_key(pk, stage) for pk in first])
    chosen = next(
        (pk for pk in first if holders.get(_handed_out_key(pk, stage), user.pk) == user.pk),
        first[0],
    )
    cache.set(_handed_out_key(chosen, stage), user.pk, HAND_OUT_SECONDS)
    record = record_of(review, chosen)
    if record is None:
        raise Record.DoesNotExist(f"No record {chosen} in this review.")
    return record


def _membership(
    review: Review, user: User, role: Role = Role.REVIEWER, known: Membership | None = None
) -> Membership:
    """`user`'s membership of `review` with `role`; `known`: the one the request already
    read (`access.review_for_request`), used when it is this review's and user's."""
    membership = known
    if membership is None or (membership.review_id, membership.user_id) != (review.pk, user.pk):
        membership = review.memberships.filter(user=user).first()
    if membership is None:
        raise ValidationError(f"{user.display_name()} is not a member of this review.")
    if not membership.has_role(role):
        raise ValidationError(f"Only a {role.label.lower()} can do this.")
    return membership


def _lock(record: Record) -> tuple[int | None, str, object]:
    """Lock the record's row until the transaction ends, and read under that lock what of
    it a state depends on (duplicate_of_id, source kind, released_at: `rows_of`)."""
    found = (
        Record.objects.select_for_update(of=("self",))
        .filter(pk=record.pk)
        .values_list("duplicate_of_id", "source__kind", "released_at")
        .get()
    )
    return found[0], found[1], found[2]


def _locked(record: Record) -> Record:
    """The record, its row locked until the transaction ends."""
    return Record.objects.select_for_update().select_related("review").get(pk=record.pk)


def _reason(review: Review, reason: ExclusionReason | None) -> ExclusionReason:
    if reason is None:
        raise ValidationError("Choose the reason for excluding this full text.")
    if reason.review_id != review.pk or not reason.is_active:
        raise ValidationError("That exclusion reason is not one of this review's reasons.")
    return reason


@transaction.atomic
def decide(
    *,
    record: Record | int,
    user: User,
    stage: str,
    choice: str,
    reason: ExclusionReason | None = None,
    note: str = "",
    review: Review | None = None,
    membership: Membership | None = None,
    ranking: RankingJob | Literal[False] | None = False,
) -> Decision:
    """Record (or change) a reviewer's decision on a record at a stage, the record's row
    locked until the transaction ends. `record`: the record, or its id in `review` (the
    screening page, which has not read it yet: it is read with its source under the lock
    in the same query, and is the returned decision's `record`; `Record.DoesNotExist` when
    the review has no such record). `membership` and `ranking` (the reviewer's newest
    ranking job, None: none) spare the queries when the request has read them already."""
    if isinstance(record, Record):
        fields = _lock(record)
    else:
        assert review is not None, "a record's id needs its review"
        found = record_of(review, record, lock=True)
        if found is None:
            raise Record.DoesNotExist(f"No record {record} in this review.")
        record, fields = found, (found.duplicate_of_id, found.source.kind, found.released_at)
    return _decide(
        record,
        fields,
        user=user,
        stage=stage,
        choice=choice,
        reason=reason,
        note=note,
        membership=membership,
        ranking=ranking,
    )


def _decide(
    record: Record,
    fields: tuple[int | None, str, object],
    *,
    user: User,
    stage: str,
    choice: str,
    reason: ExclusionReason | None,
    note: str,
    membership: Membership | None,
    ranking: RankingJob | Literal[False] | None,
) -> Decision:
    """`decide`'s work, its record's row locked and `fields` read under that lock."""
    review = record.review
    _membership(review, user, known=membership)
    if choice not in STAGE_CHOICES[Stage(stage)]:
        raise ValidationError(f"“{choice}” is not a decision at {Stage(stage).label.lower()}.")
    rows, decisions = record_rows(record, fields=fields)
    state = record_state(rows).state
    # full text: an exclusion needs its reason; title/abstract: one may be given (optional)
    needs_reason = choice == Choice.EXCLUDE and (stage == FT or reason is not None)
    reason = _reason(review, reason) if needs_reason else None
    at_stage = [d for d in decisions if d.stage == stage]
    mine_row = next((d for d in at_stage if d.reviewer_id == user.pk), None)
    # the decision itself (its note) only when it is changed
    mine = Decision.objects.get(pk=mine_row.pk) if mine_row is not None else None
    if mine is not None:
        mine.record = record  # read already
    if mine is None:
        # the same refusal whether the two decisions agree or not: which it is stays hidden
        if len(at_stage) >= REVIEWERS_PER_RECORD and state not in (State.DUPLICATE, State.REMOVED):
            raise ValidationError("Two reviewers have already decided on this record.")
        refusal = not_screened_here(state, stage)
        if refusal:
            raise ValidationError(refusal)
        mine = Decision(review=review, record=record, reviewer=user, stage=stage)
    else:
        _may_change(record, user, stage, rows, state, decisions=decisions)
    unchanged = (
        mine.pk is not None
        and mine.choice == choice
        and mine.reason_id == (reason.pk if reason else None)
        and mine.note == note
    )
    if unchanged:  # a double-clicked key: nothing new to keep
        return mine
    first_decision = mine.pk is None
    mine.choice, mine.reason, mine.note = choice, reason, note
    mine.save()
    key = _handed_out_key(record.pk, stage)
    transaction.on_commit(lambda: cache.delete(key))
    DecisionChange.objects.create(
        review=review,
        record=record,
        reviewer=user,
        stage=stage,
        choice=choice,
        reason=reason,
        note=note,
    )
    if stage == TA and first_decision:
        # a background retrain now and then
        ranking_after_decision(review=review, user=user, newest=ranking)
    # now rather than on commit (which tests never reach): a rollback after this point
    # leaves a count one off until it expires (`counters.TTL`)
    counters.decided(
        review=review,
        user_id=user.pk,
        stage=stage,
        first=first_decision,
        decisions_before=len(at_stage),
    )
    return mine


def _may_change(
    record: Record,
    user: User,
    stage: str,
    rows: RecordRows,
    state: State,
    *,
    decisions: list[DecisionRow] | None = None,
) -> None:
    """Refuse to change or withdraw `user`'s decision once `rules.may_change_decision` says
    it is final (never because of what a colleague decided). `decisions`: all of the
    record's, when read already."""
    if decisions is not None:
        decided_later = stage == TA and any(
            d.reviewer_id == user.pk and d.stage == FT for d in decisions
        )
    else:
        decided_later = (
            stage == TA and Decision.objects.filter(record=record, reviewer=user, stage=FT).exists()
        )
    allowed = may_change_decision(
        state=state,
        stage=stage,
        closed_by_senior=closed_by_senior(rows, stage),
        decided_later_stage=decided_later,
    )
    if allowed:
        return
    if closed_by_senior(rows, stage):
        raise ValidationError(
            "A senior author has decided this record at this stage: decisions are final."
        )
    if decided_later:
        raise ValidationError(
            "You have decided this record at full text, so your title/abstract decision is final."
        )
    refusal = not_screened_here(state, stage)
    raise ValidationError(refusal or "This record is resolved at this stage: decisions are final.")


@transaction.atomic
def withdraw(*, record: Record, user: User, stage: str) -> Decision:
    """Undo: take back one's own decision, while it may still change
    (`rules.may_change_decision`). Returns the decision withdrawn (no longer stored), so
    the page can offer its note and reason again."""
    record = _locked(record)
    mine = Decision.objects.filter(record=record, reviewer=user, stage=stage).first()
    if mine is None:
        raise ValidationError("You have no decision on this record to undo.")
    rows = rows_of(record)
    _may_change(record, user, stage, rows, record_state(rows).state)
    before = Decision.objects.filter(record=record, stage=stage).count()
    mine.delete()
    DecisionChange.objects.create(
        review=record.review, record=record, reviewer=user, stage=stage, choice=""
    )
    counters.withdrawn(review=record.review, user_id=user.pk, stage=stage, decisions_before=before)
    counters.queue_moved_back(record.review_id, record.pk)
    return mine


@transaction.atomic
def adjudicate(
    *,
    record: Record,
    user: User,
    stage: str,
    choice: str,
    reason: ExclusionReason | None = None,
    note: str = "",
) -> Adjudication:
    """A senior's final decision on a record waiting for one (a conflict, or at full text
    two exclusions with different reasons: `choice` is then "exclude" and `reason` the one
    to report)."""
    record = _locked(record)
    review = record.review
    _membership(review, user, Role.SENIOR)
    state = state_of(record).state
    if not (state.needs_senior and state.stage == stage):
        raise ValidationError("This record has no conflict to adjudicate at this stage.")
    if choice not in (Choice.INCLUDE, Choice.EXCLUDE):
        raise ValidationError("Adjudicate with include or exclude.")
    if state is State.FT_REASON and choice != Choice.EXCLUDE:
        raise ValidationError("Both reviewers excluded this full text: choose the reason.")
    reason = _reason(review, reason) if stage == FT and choice == Choice.EXCLUDE else None
    counters.changed(review)
    return Adjudication.objects.create(
        review=review,
        record=record,
        stage=stage,
        choice=choice,
        reason=reason,
        note=note,
        decided_by=user,
    )


def adjudication_refusal(adjudication: Adjudication) -> str:
    """Why `adjudication` may no longer be withdrawn ("" when it may): what of the record
    is built on it, read from the database for `rules.adjudication_final`."""
    record_id = adjudication.record_id
    return adjudication_final(
        stage=adjudication.stage,
        ft_decided=Decision.objects.filter(record_id=record_id, stage=FT).exists(),
        ft_worked=FullText.objects.filter(record_id=record_id).exists(),
        ft_adjudicated=Adjudication.objects.filter(record_id=record_id, stage=FT).exists(),
        approved=Approval.objects.filter(record_id=record_id).exists(),
    )


@transaction.atomic
def withdraw_adjudication(*, record: Record, user: User, stage: str) -> Adjudication:
    """Undo an adjudication (a mistyped key): the record waits for a senior again, while
    nothing is built on the adjudication yet (`rules.adjudication_final`). Any senior may,
    as any senior may adjudicate. Returns the adjudication withdrawn (no longer stored),
    so the page can offer its note and reason again.

    Adjudications keep no history of their own (a decision's changes are `DecisionChange`
    rows): the withdrawn one is gone, as it would be had the key not been pressed."""
    record = _locked(record)
    review = record.review
    _membership(review, user, Role.SENIOR)
    adjudication = Adjudication.objects.filter(record=record, stage=stage).first()
    if adjudication is None:
        raise ValidationError("This record has no adjudication to undo at this stage.")
    refusal = adjudication_refusal(adjudication)
    if refusal:
        raise ValidationError(refusal)
    adjudication.delete()
    # the conflict counts again, and (title/abstract) the record leaves the full-text queues
    counters.changed(review)
    return adjudication


# --- release to full text ---


@transaction.atomic
def release_to_full_text(*, review: Review, user: User, records: Iterable[Record]) -> int:
    """Release records two reviewers agreed to include at title/abstract to full-text
    screening (a blinded review: `rules.reaches_full_text`). All or none: one record that
    no longer waits for release (a reviewer changed her decision meanwhile) refuses the
    lot. The release closes the records' title/abstract stage. Returns how many."""
    _membership(review, user, Role.SENIOR)
    ids = sorted({record.pk for record in records})
    if not ids:
        raise ValidationError("No record waits for release to full text.")
    # lock the rows (as every decision does) before reading their state
    locked = set(
        Record.objects.select_for_update()
        .filter(review=review, pk__in=ids)
        .values_list("pk", flat=True)
    )
    missing = [pk for pk in ids if pk not in locked]
    if missing:
        raise ValidationError(f"Record {missing[0]} is not in this review; nothing was released.")
    outcomes = states(review, ids)
    for pk in ids:
        if outcomes[pk].state is not State.TA_PASSED:
            raise ValidationError(
                f"Record {pk} no longer waits for release to full text; nothing was released."
            )
    released = Record.objects.filter(pk__in=ids).update(
        released_at=timezone.now(), released_by=user
    )
    counters.changed(review)  # the full-text queues grew
    return released


def title_abstract_open(review: Review) -> bool:
    """Whether any record still waits at title/abstract (for a reviewer or a senior)."""
    open_states = {State.TA_UNSCREENED, State.TA_ONE, State.TA_CONFLICT}
    return any(outcome.state in open_states for outcome in states(review).values())


@transaction.atomic
def release_when_title_abstract_is_over(*, review: Review, user: User) -> int:
    """After a senior's act (an adjudication): when no record is open at title/abstract any
    more, release every record waiting for it (how many; 0 when none or still open).

    Only ever called after a senior's act, never after a reviewer's decision: the last
    decision of the stage would otherwise release the records when it agrees with the
    colleague's and not when it makes a conflict, which tells the reviewer which it was."""
    if not review.blinded or title_abstract_open(review):
        return 0
    waiting_ids = waiting_for_release(review)
    if not waiting_ids:
        return 0
    return release_to_full_text(
        review=review, user=user, records=review.records.filter(pk__in=waiting_ids)
    )


# --- full texts ---


def _sought(record: Record) -> None:
    """Refuse unless the record is at full text and no senior has closed that stage.

    Whether reviewers have decided it plays no part (the button would otherwise vanish
    once a colleague decides, which tells that they did): decisions already made are
    kept, do not count while the report is "not retrieved", and count again if it is
    sought again."""
    rows = rows_of(record)
    state = record_state(rows).state
    if state.stage != FT or state is State.DUPLICATE or state is State.REMOVED:
        raise ValidationError("Only a record that passed title/abstract has a full text.")
    if closed_by_senior(rows, FT):
        raise ValidationError("A senior has decided this full text; it stays as it is.")


@transaction.atomic
def full_text_attach(*, record: Record, user: User, upload: UploadedFile) -> FullText:
    """Store the PDF of a record sought for retrieval (checked to be a PDF, size-limited)."""
    record = _locked(record)
    _membership(record.review, user)
    state = state_of(record).state
    if state.stage != FT:
        raise ValidationError("Only a record that passed title/abstract has a full text.")
    limit = settings.FULLTEXT_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"“{upload.name}” is {upload.size / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.FULLTEXT_MAX_UPLOAD_MB} MB."
        )
    upload.seek(0)
    if upload.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise ValidationError(f"“{upload.name}” is not a PDF file.")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    full_text, _ = FullText.objects.get_or_create(
        record=record, defaults={"review": record.review, "updated_by": user}
    )
    old = full_text.pdf.name if full_text.pdf else ""
    full_text.pdf.save(f"record-{record.pk}.pdf", upload, save=False)
    full_text.original_name = upload.name or ""
    full_text.size = upload.size or 0
    full_text.sha256 = digest.hexdigest()
    full_text.not_retrieved = False
    full_text.updated_by = user
    full_text.save()
    if old and old != full_text.pdf.name:
        storage = full_text.pdf.storage
        transaction.on_commit(lambda: storage.delete(old))
    return full_text


@transaction.atomic
def full_text_not_retrieved(
    *, record: Record, user: User, note: str, not_retrieved: bool = True
) -> FullText:
    """Mark a full text "not retrieved" (with a note saying what was tried), or take it back."""
    record = _locked(record)
    _membership(record.review, user)
    _sought(record)
    if not_retrieved and not note.strip():
        raise ValidationError("Say what was tried to get the full text.")
    full_text, _ = FullText.objects.get_or_create(
        record=record, defaults={"review": record.review, "updated_by": user}
    )
    if not_retrieved and full_text.pdf:
        raise ValidationError("A PDF is attached to this record: it was retrieved.")
    full_text.not_retrieved = not_retrieved
    full_text.note = note.strip()
    full_text.updated_by = user
    full_text.save()
    counters.changed(record.review)
    counters.queue_moved_back(record.review_id)
    return full_text


# --- approval and studies ---


def _study_label(record: Record) -> str:
    author = record.first_author.split(",")[0].strip() if record.authors else ""
    label = " ".join(part for part in (author, str(record.year or "")) if part)
    return label or f"Record {record.pk}"


@transaction.atomic
def approve(*, review: Review, records: Iterable[Record], user: User) -> list[Approval]:
    """Approve full-text inclusions; each becomes the report of a new study (link reports
    of the same study afterwards). All or none: one record not waiting for approval refuses
    the lot."""
    _membership(review, user, Role.SENIOR)
    locked = [_locked(r) for r in sorted(records, key=lambda r: r.pk)]
    if not locked:
        raise ValidationError("Choose the records to approve.")
    for record in locked:
        if record.review_id != review.pk:
            raise ValidationError(f"Record {record.pk} is not in this review.")
        if state_of(record).state is not State.FT_INCLUDED:
            raise ValidationError(
                f"Record {record.pk} is not an inclusion waiting for approval; nothing was "
                "approved."
            )
    approvals = []
    for record in locked:
        study = Study.objects.create(review=review, label=_study_label(record), created_by=user)
        approvals.append(
            Approval.objects.create(review=review, record=record, study=study, approved_by=user)
        )
    return approvals


@transaction.atomic
def report_link(*, approval: Approval, study: Study, user: User) -> Approval:
    """Make an approved report a report of another study (of the same review); a study
    left with no report is removed."""
    _membership(approval.review, user, Role.SENIOR)
    if study.review_id != approval.review_id:
        raise ValidationError("That study is in another review.")
    old = approval.study
    approval.study = study
    approval.save(update_fields=["study"])
    if old.pk != study.pk and not old.reports.exists():
        old.delete()
    return approval


@transaction.atomic
def study_rename(*, study: Study, user: User, label: str) -> Study:
    _membership(study.review, user, Role.SENIOR)
    if not label.strip():
        raise ValidationError("A study needs a label, such as “Coffin 2007”.")
    study.label = label.strip()[:200]
    study.save(update_fields=["label"])
    return study


# --- removed before screening ---


@transaction.atomic
def remove_before_screening(
    *,
    review: Review,
    user: User,
    records: Iterable[Record],
    reason: str,
    by_automation: bool = False,
) -> int:
    """Remove records before screening, with a reason (PRISMA: removed for other reasons).
    Duplicates, records already removed and records someone has screened are left as they
    are. Returns how many were removed."""
    _membership(review, user, Role.OWNER)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason, e.g. “published before 1990”.")
    candidates = [r.pk for r in records if r.review_id == review.pk]
    ids = list(removable(review).filter(pk__in=candidates).values_list("pk", flat=True))
    counters.changed(review)
    Removal.objects.bulk_create(
        Removal(
            review=review,
            record_id=pk,
            reason=reason[:200],
            removed_by=user,
            by_automation=by_automation,
        )
        for pk in ids
    )
    return len(ids)


@transaction.atomic
def restore(*, record: Record, user: User) -> None:
    """Put a removed record back into screening."""
    _membership(record.review, user, Role.OWNER)
    if not Removal.objects.filter(record=record).delete()[0]:
        raise ValidationError("This record was not removed.")
    counters.changed(record.review)
    counters.queue_moved_back(record.review_id)
