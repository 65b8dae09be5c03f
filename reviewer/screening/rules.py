"""The state table: where a record stands, derived from its decision rows. Pure functions.

Title/abstract (two independent decisions):
    include+include, include+maybe, maybe+maybe -> passes to full text
    exclude+exclude                             -> excluded
    exclude against include or maybe           -> conflict, until a senior adjudicates
Released to full text (`reaches_full_text`), while the review is blinded:
    passed by a senior's adjudication           -> at full text at once
    passed by two reviewers agreeing            -> waits until a senior releases it
                                                   (then its title/abstract stage is closed)
    unblinded review                            -> at full text at once
Full text (after the record passed title/abstract and its full text was sought):
    marked "not retrieved"                      -> not retrieved (never assessed)
    include+include                             -> included, until a senior approves it
    exclude+exclude, same reason                -> excluded with that reason
    exclude+exclude, different reasons          -> the senior picks the reason to report
    include against exclude                     -> conflict, until a senior adjudicates
A senior's adjudication closes its stage; she may withdraw it until later work depends on
it (`adjudication_final`). An approved inclusion is a report of a study.
Duplicates and records removed before screening never enter screening. Records found by
other methods (websites, organisations, citation searching) skip title/abstract: as in the
PRISMA 2020 diagram, they are reports sought for retrieval from the start.

Nothing here touches the database: callers pass the rows' values in. The same rules in
SQL, for queues and counts over thousands of records, are in `reviewer.screening.queries`
(each SQL form names the rule here it computes); `tests/reviewer/screening/
test_sql_equivalence.py` builds a record in every state and checks that the two agree.

The vocabulary is one: the stages and choices are the `Stage` and `Choice` of the models
(defined here, stored in the decision rows); `TA`, `FT`, `INCLUDE`, `EXCLUDE` and `MAYBE`
are their members under short names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.db import models


class Stage(models.TextChoices):
    TITLE_ABSTRACT = "ta", "Title and abstract"
    FULL_TEXT = "ft", "Full text"


class Choice(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


INCLUDE, EXCLUDE, MAYBE = Choice.INCLUDE, Choice.EXCLUDE, Choice.MAYBE
TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT

#: The choices each stage offers ("maybe" only at title/abstract).
STAGE_CHOICES = {
    Stage.TITLE_ABSTRACT: (Choice.INCLUDE, Choice.EXCLUDE, Choice.MAYBE),
    Stage.FULL_TEXT: (Choice.INCLUDE, Choice.EXCLUDE),
}

#: Independent decisions a record takes at each stage. SQL form: `queries._decided_twice`.
REVIEWERS_PER_RECORD = 2


class State(StrEnum):
    """Where a record stands; the label is what the pages say."""

    DUPLICATE = "duplicate"
    REMOVED = "removed"
    TA_UNSCREENED = "ta-unscreened"
    TA_ONE = "ta-one"
    TA_CONFLICT = "ta-conflict"
    TA_EXCLUDED = "ta-excluded"
    TA_PASSED = "ta-passed"
    FT_SOUGHT = "ft-sought"
    FT_NOT_RETRIEVED = "ft-not-retrieved"
    FT_ONE = "ft-one"
    FT_CONFLICT = "ft-conflict"
    FT_REASON = "ft-reason"
    FT_EXCLUDED = "ft-excluded"
    FT_INCLUDED = "ft-included"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def stage(self) -> str:
        """The stage the record is at ("" before or outside screening)."""
        if self.value.startswith("ta-"):
            return TA
        if self.value.startswith("ft-") or self is State.APPROVED:
            return FT
        return ""

    @property
    def needs_senior(self) -> bool:
        return self in {State.TA_CONFLICT, State.FT_CONFLICT, State.FT_REASON}

    @property
    def stage_resolved(self) -> bool:
        """The decisions at the record's stage can no longer change."""
        return self not in {
            State.TA_UNSCREENED,
            State.TA_ONE,
            State.TA_CONFLICT,
            State.FT_SOUGHT,
            State.FT_ONE,
            State.FT_CONFLICT,
            State.FT_REASON,
        }


LABELS = {
    State.DUPLICATE: "Duplicate",
    State.REMOVED: "Removed before screening",
    State.TA_UNSCREENED: "Not screened yet",
    State.TA_ONE: "Waiting for a second reviewer",
    State.TA_CONFLICT: "Conflict (title/abstract)",
    State.TA_EXCLUDED: "Excluded at title/abstract",
    State.TA_PASSED: "Passed title/abstract: waiting for release to full text",
    State.FT_SOUGHT: "Full text sought",
    State.FT_NOT_RETRIEVED: "Full text not retrieved",
    State.FT_ONE: "Full text: waiting for a second reviewer",
    State.FT_CONFLICT: "Conflict (full text)",
    State.FT_REASON: "Excluded at full text: reason to choose",
    State.FT_EXCLUDED: "Excluded at full text",
    State.FT_INCLUDED: "Included: waiting for approval",
    State.APPROVED: "Included and approved",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A stage's result: `state`, and at full text the reason to report when excluded."""

    state: State
    reason_id: int | None = None


def title_abstract(choices: Sequence[str], adjudicated: str | None) -> State:
    """The title/abstract state from the reviewers' choices and a senior's adjudication."""
    if adjudicated:
        return State.FT_SOUGHT if adjudicated == INCLUDE else State.TA_EXCLUDED
    if not choices:
        return State.TA_UNSCREENED
    if len(choices) < REVIEWERS_PER_RECORD:
        return State.TA_ONE
    if all(choice == EXCLUDE for choice in choices):
        return State.TA_EXCLUDED
    if EXCLUDE in choices:
        return State.TA_CONFLICT
    return State.FT_SOUGHT


def full_text(
    decisions: Sequence[tuple[str, int | None]],
    adjudicated: tuple[str, int | None] | None,
    *,
    not_retrieved: bool = False,
) -> Outcome:
    """The full-text state from (choice, reason id) decisions and a senior's adjudication."""
    if not_retrieved:
        return Outcome(State.FT_NOT_RETRIEVED)
    if adjudicated:
        choice, reason = adjudicated
        if choice == INCLUDE:
            return Outcome(State.FT_INCLUDED)
        return Outcome(State.FT_EXCLUDED, reason)
    if not decisions:
        return Outcome(State.FT_SOUGHT)
    if len(decisions) < REVIEWERS_PER_RECORD:
        return Outcome(State.FT_ONE)
    choices = {choice for choice, _ in decisions}
    if choices == {INCLUDE}:
        return Outcome(State.FT_INCLUDED)
    if choices == {EXCLUDE}:
        reasons = {reason for _, reason in decisions}
        if len(reasons) == 1:
            return Outcome(State.FT_EXCLUDED, next(iter(reasons)))
        return Outcome(State.FT_REASON)
    return Outcome(State.FT_CONFLICT)


def reaches_full_text(
    *, blinded: bool, released: bool, adjudicated: bool, other_method: bool = False
) -> bool:
    """Whether a record that passed title/abstract is at full text yet.

    While a review is blinded, a record two reviewers agreed on waits until a senior
    releases it. Were it to pass at once, it would join every reviewer's full-text queue
    the moment the second reviewer decides it: a reviewer would see her own include reach
    full text only when her colleague had already included the record, which tells her
    the colleague's decision on a record still open to change. The release is a senior's
    act, like an adjudication: it closes the record's title/abstract stage
    (`closed_by_senior`), so what appears at full text never moves with a decision a
    reviewer can still change. A senior's adjudication already closed the stage, a record
    found by other methods has no title/abstract decisions, and an unblinded review hides
    nothing: those reach full text at once."""
    return released or adjudicated or other_method or not blinded


@dataclass(frozen=True, slots=True)
class RecordRows:
    """What the state of one record is derived from."""

    is_duplicate: bool = False
    removed: bool = False
    other_method: bool = False  # found by another method: no title/abstract screening
    blinded: bool = False  # the review is blinded: agreed records wait for their release
    released: bool = False  # a senior released it to full text
    ta_choices: tuple[str, ...] = ()
    ta_adjudicated: str | None = None
    ft_decisions: tuple[tuple[str, int | None], ...] = ()
    ft_adjudicated: tuple[str, int | None] | None = None
    not_retrieved: bool = False
    approved: bool = False


def record_state(rows: RecordRows) -> Outcome:
    """Where a record stands, from all its rows."""
    if rows.is_duplicate:
        return Outcome(State.DUPLICATE)
    if rows.removed:
        return Outcome(State.REMOVED)
    ta = (
        State.FT_SOUGHT
        if rows.other_method
        else title_abstract(rows.ta_choices, rows.ta_adjudicated)
    )
    if ta is not State.FT_SOUGHT:
        return Outcome(ta)
    if not reaches_full_text(
        blinded=rows.blinded,
        released=rows.released,
        adjudicated=rows.ta_adjudicated is not None,
        other_method=rows.other_method,
    ):
        return Outcome(State.TA_PASSED)
    outcome = full_text(rows.ft_decisions, rows.ft_adjudicated, not_retrieved=rows.not_retrieved)
    if outcome.state is State.FT_INCLUDED and rows.approved:
        return Outcome(State.APPROVED)
    return outcome


def at_stage(state: State, stage: str, *, other_method: bool = False) -> bool:
    """Whether a record in `state` is screened at `stage`, i.e. is in every reviewer's
    queue there: at title/abstract every record but duplicates, removals and records found
    by other methods (they skip it); at full text the records that reached it
    (`reaches_full_text`) and whose full text was not marked not retrieved.
    SQL form: `queries.eligible`."""
    if state in (State.DUPLICATE, State.REMOVED):
        return False
    if stage == TA:
        return not other_method
    return state.stage == FT and state is not State.FT_NOT_RETRIEVED


def waits_for(*, decided_by_them: bool, decisions: int, adjudicated: bool) -> bool:
    """Whether a record of a reviewer's queue at a stage still waits for her: she has not
    decided it, fewer than `REVIEWERS_PER_RECORD` have, and no senior has adjudicated it.
    SQL form: `queries._waiting_for`; a record is "done" (`queries.progress`) once
    `REVIEWERS_PER_RECORD` have decided it."""
    return not decided_by_them and decisions < REVIEWERS_PER_RECORD and not adjudicated


def removal_skip(*, is_duplicate: bool, removed: bool, screened: bool) -> str:
    """Why a removal before screening leaves a record as it is ("" when it removes it):
    "duplicate" (a duplicate is counted as one already), "removed" (already), "screened"
    (someone has decided it: it is in screening). SQL form: `queries.removable`."""
    if is_duplicate:
        return "duplicate"
    if removed:
        return "removed"
    if screened:
        return "screened"
    return ""


def label_at(state: State, stage: str) -> str:
    """What the screening page of `stage` calls a record in `state`: a record past
    title/abstract is "Passed title/abstract" there, whatever happened at full text since.
    The title/abstract decisions of a record a senior has closed may be seen
    (`may_see_other_decisions`); its full-text progress moves with the colleagues' open
    full-text decisions and is not that page's to show."""
    if stage == TA and state.stage == FT:
        return "Passed title/abstract"
    return state.label


def not_screened_here(state: State, stage: str) -> str:
    """Why a record in `state` takes no decision at `stage`, as the pages say it (empty: it
    does)."""
    if state is State.DUPLICATE:
        return "This record is a duplicate: it is not screened."
    if state is State.REMOVED:
        return "This record was removed before screening."
    if stage == TA and (state.stage != TA or state is State.TA_PASSED):
        return "Title/abstract screening of this record is over."
    if stage == FT and state is State.FT_NOT_RETRIEVED:
        return "This full text was not retrieved, so it is not assessed."
    if stage == FT and state.stage != FT:
        return "This record has not passed title/abstract screening."
    if state.stage_resolved:
        return "This record is resolved at this stage: decisions are final."
    return ""


def may_see_other_decisions(
    *, blinded: bool, is_senior: bool, state: State, stage: str, closed_by_senior: bool = False
) -> bool:
    """Blinding, as one rule: another reviewer's decision at `stage` is hidden until a
    senior has closed that stage for the record (`closed_by_senior`: adjudicated it, or at
    full text approved the inclusion), unless the review is unblinded. Seniors see both
    decisions of a record waiting for them (to adjudicate it), and every decision of a
    record whose stage is over.

    Two reviewers agreeing do not open it for a reviewer: the record would then look
    different (resolved, the colleague's decision shown) from one whose colleague has not
    decided or disagreed, which tells a decision still open; and a reviewer may still
    change her own decision on it (`may_change_decision`)."""
    if not blinded:
        return True
    if is_senior and state.needs_senior and state.stage == stage:
        return True
    if is_senior:
        if stage == TA:
            return state not in {State.TA_UNSCREENED, State.TA_ONE, State.TA_CONFLICT}
        return state.stage == FT and state.stage_resolved
    return closed_by_senior


#: States no reviewer's decision brings about: every member may be told them.
PUBLIC_STATES = frozenset({State.DUPLICATE, State.REMOVED, State.FT_NOT_RETRIEVED})


def refusal_shown(
    *, state: State, stage: str, may_change: bool, decided_by_others: int, see_others: bool
) -> str:
    """Why the screening page of `stage` offers a member no decision on a record (empty:
    it offers one), as blinding lets her be told: `not_screened_here`, except that a
    member who may not see the others' decisions and has not decided the record herself
    is told only that `REVIEWERS_PER_RECORD` have decided it, whether they agreed (the
    stage is over) or not (a conflict). A duplicate or removed record says so to all."""
    if may_change:
        return ""
    hidden = decided_by_others >= REVIEWERS_PER_RECORD and not see_others
    if hidden and state not in (State.DUPLICATE, State.REMOVED):
        return ""
    return not_screened_here(state, stage)


def may_see_review_wide_figures(*, blinded: bool, is_senior: bool) -> bool:
    """Whether a member sees figures over everyone's decisions: records resolved, waiting
    for a second reviewer or in conflict, "overall done", agreement and kappa, colleagues'
    lines on the ranking chart, the "least screened by others" order, the PRISMA counts,
    a colleague's extraction progress.

    Any such figure moves with a colleague's decision on a record still open (a conflict
    count rises when I decide against them; a resolved count when they had already
    decided), so while the review is blinded they are for seniors and owners only; a
    reviewer sees her own progress. Once the owner unblinds the review, everyone sees them.
    """
    return not blinded or is_senior


def may_see_others_labels(*, blinded: bool, is_senior: bool) -> bool:
    """Whether a member sees the labels colleagues put on records, and may filter by them.

    A label often carries a judgement ("check population", "relevant?"), so while the
    review is blinded a reviewer sees, filters by and exports her own labels only;
    seniors and owners see everyone's, and so does everyone once the review is unblinded
    (the rule of `may_see_review_wide_figures`)."""
    return may_see_review_wide_figures(blinded=blinded, is_senior=is_senior)


def closed_by_senior(rows: RecordRows, stage: str) -> bool:
    """A senior has closed `stage` for the record: adjudicated it there, released it to
    full text (title/abstract), or (full text) approved its inclusion; title/abstract is
    closed too once a senior has closed the full text. After that no one's decision at the
    stage changes."""
    full_text_closed = rows.ft_adjudicated is not None or rows.approved
    if stage == TA:
        return rows.ta_adjudicated is not None or rows.released or full_text_closed
    return full_text_closed


def adjudication_final(
    *,
    stage: str,
    ft_decided: bool = False,
    ft_worked: bool = False,
    ft_adjudicated: bool = False,
    approved: bool = False,
) -> str:
    """Why a senior may no longer withdraw her adjudication at `stage` ("" when she may).

    An adjudication closes its stage (`closed_by_senior`), so what is built on it is built
    on a stage no one can move; withdrawing it (a mistyped key) is allowed only while
    nothing is built on it yet. Built on it:
      - at title/abstract: any full-text decision on the record (a reviewer's, kept while
        it counts), its full text (a PDF attached or marked not retrieved), a full-text
        adjudication, an approval;
      - at full text: the approval of the inclusion (a study, extraction may follow).
    Withdrawn, the record is what it was before the adjudication: waiting for a senior
    (the reviewers' decisions were never touched, and may change again as they could
    before it: `may_change_decision`)."""
    if approved:
        return "This inclusion is approved: the adjudication is final."
    if stage == TA:
        if ft_adjudicated:
            return "A senior has decided this record at full text: the adjudication is final."
        if ft_decided:
            return (
                "This record has been decided at full text: the title/abstract adjudication "
                "is final."
            )
        if ft_worked:
            return (
                "Work on this record's full text has started (a PDF, or marked not "
                "retrieved): the title/abstract adjudication is final."
            )
    return ""


def may_change_decision(
    *, state: State, stage: str, closed_by_senior: bool, decided_later_stage: bool = False
) -> bool:
    """Whether a reviewer may still change or withdraw her own decision at `stage`.

    Until a senior closes the stage (adjudication, or at full text approval), and, at
    title/abstract, until she has herself decided the record at full text. Whether the
    colleague has decided, agrees or disagrees plays no part: "Undo" and "change" are
    offered the same way in every case, so they tell nothing. A changed decision on a
    record two reviewers had agreed on re-derives its state like any other (it can become
    a conflict again); decisions made at full text meanwhile stay stored and count again
    once the record is back at full text."""
    if state in {State.DUPLICATE, State.REMOVED} or closed_by_senior:
        return False
    if stage == TA:
        return not decided_later_stage
    return state.stage == FT and state is not State.FT_NOT_RETRIEVED
