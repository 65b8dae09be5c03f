"""The state table (reviewer.screening.rules): every rule, as a table."""

from __future__ import annotations

import pytest

from reviewer.screening.rules import (
    EXCLUDE,
    FT,
    INCLUDE,
    MAYBE,
    TA,
    Outcome,
    RecordRows,
    State,
    adjudication_final,
    closed_by_senior,
    full_text,
    label_at,
    may_change_decision,
    may_see_other_decisions,
    may_see_review_wide_figures,
    not_screened_here,
    reaches_full_text,
    record_state,
    refusal_shown,
    title_abstract,
)


@pytest.mark.parametrize(
    ("choices", "adjudicated", "state"),
    [
        ((), None, State.TA_UNSCREENED),
        ((INCLUDE,), None, State.TA_ONE),
        ((EXCLUDE,), None, State.TA_ONE),
        ((INCLUDE, INCLUDE), None, State.FT_SOUGHT),
        ((INCLUDE, MAYBE), None, State.FT_SOUGHT),
        ((MAYBE, INCLUDE), None, State.FT_SOUGHT),
        ((MAYBE, MAYBE), None, State.FT_SOUGHT),
        ((EXCLUDE, EXCLUDE), None, State.TA_EXCLUDED),
        ((EXCLUDE, INCLUDE), None, State.TA_CONFLICT),
        ((MAYBE, EXCLUDE), None, State.TA_CONFLICT),
        ((EXCLUDE, INCLUDE), INCLUDE, State.FT_SOUGHT),
        ((MAYBE, EXCLUDE), EXCLUDE, State.TA_EXCLUDED),
    ],
)
def test_title_abstract(choices, adjudicated, state):
    assert title_abstract(choices, adjudicated) is state


@pytest.mark.parametrize(
    ("decisions", "adjudicated", "not_retrieved", "outcome"),
    [
        ((), None, False, Outcome(State.FT_SOUGHT)),
        ((), None, True, Outcome(State.FT_NOT_RETRIEVED)),
        (((INCLUDE, None),), None, False, Outcome(State.FT_ONE)),
        (((INCLUDE, None), (INCLUDE, None)), None, False, Outcome(State.FT_INCLUDED)),
        (((EXCLUDE, 3), (EXCLUDE, 3)), None, False, Outcome(State.FT_EXCLUDED, 3)),
        (((EXCLUDE, 3), (EXCLUDE, 4)), None, False, Outcome(State.FT_REASON)),
        (((EXCLUDE, 3), (EXCLUDE, 4)), (EXCLUDE, 4), False, Outcome(State.FT_EXCLUDED, 4)),
        (((INCLUDE, None), (EXCLUDE, 3)), None, False, Outcome(State.FT_CONFLICT)),
        (((INCLUDE, None), (EXCLUDE, 3)), (INCLUDE, None), False, Outcome(State.FT_INCLUDED)),
        (((INCLUDE, None), (EXCLUDE, 3)), (EXCLUDE, 5), False, Outcome(State.FT_EXCLUDED, 5)),
    ],
)
def test_full_text(decisions, adjudicated, not_retrieved, outcome):
    assert full_text(decisions, adjudicated, not_retrieved=not_retrieved) == outcome


def test_duplicates_and_removed_records_never_enter_screening():
    assert record_state(RecordRows(is_duplicate=True)).state is State.DUPLICATE
    assert record_state(RecordRows(removed=True)).state is State.REMOVED


def test_full_text_only_after_title_abstract():
    excluded = RecordRows(ta_choices=(EXCLUDE, EXCLUDE), ft_decisions=((INCLUDE, None),) * 2)
    assert record_state(excluded).state is State.TA_EXCLUDED
    passed = RecordRows(ta_choices=(INCLUDE, MAYBE), ft_decisions=((INCLUDE, None),) * 2)
    assert record_state(passed).state is State.FT_INCLUDED
    approved = RecordRows(
        ta_choices=(INCLUDE, INCLUDE), ft_decisions=((INCLUDE, None),) * 2, approved=True
    )
    assert record_state(approved).state is State.APPROVED


@pytest.mark.parametrize(
    ("blinded", "is_senior", "state", "stage", "closed", "visible"),
    [
        (True, False, State.TA_ONE, TA, False, False),
        (True, False, State.TA_CONFLICT, TA, False, False),
        (True, True, State.TA_CONFLICT, TA, False, True),  # the senior adjudicates
        (True, True, State.TA_ONE, TA, False, False),  # not before there is a conflict
        # agreement does not open it to a reviewer: it would tell the colleague's decision
        # apart from an open one (issue 13), and her own decision may still change
        (True, False, State.TA_EXCLUDED, TA, False, False),
        (True, False, State.FT_SOUGHT, TA, False, False),
        (True, True, State.TA_EXCLUDED, TA, False, True),  # seniors: over, agreed
        (True, True, State.FT_SOUGHT, TA, False, True),
        (True, False, State.TA_EXCLUDED, TA, True, True),  # a senior adjudicated it
        (True, False, State.FT_SOUGHT, TA, True, True),
        (True, False, State.FT_ONE, FT, False, False),
        (True, False, State.FT_CONFLICT, FT, False, False),
        (True, True, State.FT_REASON, FT, False, True),
        (True, False, State.FT_INCLUDED, FT, False, False),
        (True, True, State.FT_INCLUDED, FT, False, True),
        (True, False, State.APPROVED, FT, True, True),  # approved by a senior
        (False, False, State.TA_ONE, TA, False, True),  # the owner unblinded the review
    ],
)
def test_blinding_is_one_rule(blinded, is_senior, state, stage, closed, visible):
    allowed = may_see_other_decisions(
        blinded=blinded, is_senior=is_senior, state=state, stage=stage, closed_by_senior=closed
    )
    assert allowed is visible


@pytest.mark.parametrize(
    ("blinded", "is_senior", "visible"),
    [(True, False, False), (True, True, True), (False, False, True), (False, True, True)],
)
def test_review_wide_figures_are_for_seniors_while_blinded(blinded, is_senior, visible):
    assert may_see_review_wide_figures(blinded=blinded, is_senior=is_senior) is visible


@pytest.mark.parametrize(
    ("state", "stage", "closed", "decided_later", "may"),
    [
        (State.TA_ONE, TA, False, False, True),
        (State.TA_CONFLICT, TA, False, False, True),
        # agreed: still hers to change, exactly as when the colleague has not decided
        (State.TA_EXCLUDED, TA, False, False, True),
        (State.FT_SOUGHT, TA, False, False, True),
        (State.FT_SOUGHT, TA, True, False, False),  # adjudicated
        (State.FT_ONE, TA, False, True, False),  # she has gone on to decide the full text
        (State.FT_ONE, FT, False, False, True),
        (State.FT_INCLUDED, FT, False, False, True),
        (State.FT_EXCLUDED, FT, False, False, True),
        (State.APPROVED, FT, True, False, False),
        (State.FT_NOT_RETRIEVED, FT, False, False, False),
        (State.TA_EXCLUDED, FT, False, False, False),  # not at full text
        (State.DUPLICATE, TA, False, False, False),
    ],
)
def test_a_decision_may_change_until_a_senior_closes_the_stage(
    state, stage, closed, decided_later, may
):
    allowed = may_change_decision(
        state=state, stage=stage, closed_by_senior=closed, decided_later_stage=decided_later
    )
    assert allowed is may


def test_closed_by_senior_reads_the_adjudication_and_approval_rows():
    agreed = RecordRows(ta_choices=(INCLUDE, INCLUDE), ft_decisions=((INCLUDE, None),) * 2)
    assert not closed_by_senior(agreed, TA)
    assert not closed_by_senior(agreed, FT)
    adjudicated = RecordRows(ta_choices=(INCLUDE, EXCLUDE), ta_adjudicated=INCLUDE)
    assert closed_by_senior(adjudicated, TA)
    assert not closed_by_senior(adjudicated, FT)
    approved = RecordRows(
        ta_choices=(INCLUDE, INCLUDE), ft_decisions=((INCLUDE, None),) * 2, approved=True
    )
    assert closed_by_senior(approved, FT)
    assert closed_by_senior(approved, TA)  # an approved report's screening is over


def test_records_found_by_other_methods_go_straight_to_full_text():
    assert record_state(RecordRows(other_method=True)).state is State.FT_SOUGHT
    included = RecordRows(other_method=True, ft_decisions=((INCLUDE, None), (INCLUDE, None)))
    assert record_state(included).state is State.FT_INCLUDED


# --- release to full text (blinded reviews) ---

AGREED = (INCLUDE, MAYBE)


@pytest.mark.parametrize(
    ("rows", "state"),
    [
        # blinded: agreed records wait for the senior's release
        (RecordRows(blinded=True, ta_choices=AGREED), State.TA_PASSED),
        (RecordRows(blinded=True, released=True, ta_choices=AGREED), State.FT_SOUGHT),
        # a senior's adjudication closed the stage: at full text at once
        (
            RecordRows(blinded=True, ta_choices=(INCLUDE, EXCLUDE), ta_adjudicated=INCLUDE),
            State.FT_SOUGHT,
        ),
        # found by other methods: no title/abstract decisions to hide
        (RecordRows(blinded=True, other_method=True), State.FT_SOUGHT),
        # unblinded: nothing to hide, released at once
        (RecordRows(blinded=False, ta_choices=AGREED), State.FT_SOUGHT),
        # not passed: the release plays no part
        (RecordRows(blinded=True, ta_choices=(INCLUDE,)), State.TA_ONE),
        (RecordRows(blinded=True, ta_choices=(INCLUDE, EXCLUDE)), State.TA_CONFLICT),
        (RecordRows(blinded=True, ta_choices=(EXCLUDE, EXCLUDE)), State.TA_EXCLUDED),
        # full-text decisions count only once the record is released
        (
            RecordRows(blinded=True, ta_choices=AGREED, ft_decisions=((INCLUDE, None),) * 2),
            State.TA_PASSED,
        ),
        (
            RecordRows(
                blinded=True, released=True, ta_choices=AGREED, ft_decisions=((INCLUDE, None),) * 2
            ),
            State.FT_INCLUDED,
        ),
    ],
)
def test_a_record_agreed_at_title_abstract_reaches_full_text_when_released(rows, state):
    assert record_state(rows).state is state


def test_reaches_full_text():
    assert not reaches_full_text(blinded=True, released=False, adjudicated=False)
    assert reaches_full_text(blinded=True, released=True, adjudicated=False)
    assert reaches_full_text(blinded=True, released=False, adjudicated=True)
    assert reaches_full_text(blinded=True, released=False, adjudicated=False, other_method=True)
    assert reaches_full_text(blinded=False, released=False, adjudicated=False)


def test_waiting_for_release_is_a_title_abstract_state_no_reviewer_sees_at_full_text():
    assert State.TA_PASSED.stage == TA
    assert not State.TA_PASSED.needs_senior
    # at full text it reads like any record that has not passed (a colleague's open
    # decision is all that tells them apart)
    assert not_screened_here(State.TA_PASSED, FT) == not_screened_here(State.TA_ONE, FT)
    assert not may_change_decision(state=State.TA_PASSED, stage=FT, closed_by_senior=False)


def test_a_release_closes_the_title_abstract_stage_like_an_adjudication():
    waiting = RecordRows(blinded=True, ta_choices=AGREED)
    released = RecordRows(blinded=True, released=True, ta_choices=AGREED)
    assert not closed_by_senior(waiting, TA)
    assert closed_by_senior(released, TA)
    assert not closed_by_senior(released, FT)
    # so a reviewer may change her decision until the release, and not after
    state = record_state(waiting).state
    assert may_change_decision(state=state, stage=TA, closed_by_senior=False)
    after = record_state(released).state
    assert not may_change_decision(state=after, stage=TA, closed_by_senior=True)
    # and sees the colleague's decision only once released
    for rows, seen in ((waiting, False), (released, True)):
        assert (
            may_see_other_decisions(
                blinded=True,
                is_senior=False,
                state=record_state(rows).state,
                stage=TA,
                closed_by_senior=closed_by_senior(rows, TA),
            )
            is seen
        )


def test_the_title_abstract_page_says_passed_whatever_happened_at_full_text():
    for state in (State.FT_SOUGHT, State.FT_ONE, State.FT_CONFLICT, State.APPROVED):
        assert label_at(state, TA) == "Passed title/abstract"
        assert label_at(state, FT) == state.label
    assert label_at(State.TA_PASSED, TA) == State.TA_PASSED.label


def test_the_refusal_shown_tells_a_blinded_reviewer_only_that_two_have_decided():
    over = State.TA_EXCLUDED  # two colleagues agreed
    conflict = State.TA_CONFLICT
    for state in (over, conflict):
        assert (
            refusal_shown(
                state=state, stage=TA, may_change=False, decided_by_others=2, see_others=False
            )
            == ""
        )
    # a senior who may see both is told why
    assert refusal_shown(
        state=over, stage=TA, may_change=False, decided_by_others=2, see_others=True
    ) == not_screened_here(over, TA)
    # her own decision she may change: nothing refused
    assert (
        refusal_shown(state=over, stage=TA, may_change=True, decided_by_others=1, see_others=False)
        == ""
    )
    # duplicates and removals are said to everyone
    for state in (State.DUPLICATE, State.REMOVED):
        assert refusal_shown(
            state=state, stage=TA, may_change=False, decided_by_others=2, see_others=False
        ) == not_screened_here(state, TA)


@pytest.mark.parametrize(
    ("stage", "built_on_it", "final"),
    [
        (TA, {}, False),
        (TA, {"ft_decided": True}, True),
        (TA, {"ft_worked": True}, True),
        (TA, {"ft_adjudicated": True}, True),
        (TA, {"approved": True}, True),
        (FT, {}, False),
        # a full-text decision or PDF is what a full-text adjudication is made on
        (FT, {"ft_decided": True, "ft_worked": True}, False),
        (FT, {"ft_decided": True, "approved": True}, True),
    ],
)
def test_an_adjudication_may_be_withdrawn_until_work_is_built_on_it(stage, built_on_it, final):
    refusal = adjudication_final(stage=stage, **built_on_it)

    assert bool(refusal) is final
    if final:
        assert refusal.endswith("adjudication is final.")
