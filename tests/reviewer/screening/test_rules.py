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
    full_text,
    may_see_other_decisions,
    record_state,
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
    ("blinded", "is_senior", "state", "stage", "visible"),
    [
        (True, False, State.TA_ONE, TA, False),
        (True, False, State.TA_CONFLICT, TA, False),
        (True, True, State.TA_CONFLICT, TA, True),  # the senior adjudicates
        (True, True, State.TA_ONE, TA, False),  # not before there is a conflict
        (True, False, State.TA_EXCLUDED, TA, True),  # over: agreed
        (True, False, State.FT_SOUGHT, TA, True),  # over: passed
        (True, False, State.FT_ONE, FT, False),
        (True, False, State.FT_CONFLICT, FT, False),
        (True, True, State.FT_REASON, FT, True),
        (True, False, State.FT_INCLUDED, FT, True),
        (False, False, State.TA_ONE, TA, True),  # the owner unblinded the review
    ],
)
def test_blinding_is_one_rule(blinded, is_senior, state, stage, visible):
    allowed = may_see_other_decisions(
        blinded=blinded, is_senior=is_senior, state=state, stage=stage
    )
    assert allowed is visible


def test_records_found_by_other_methods_go_straight_to_full_text():
    assert record_state(RecordRows(other_method=True)).state is State.FT_SOUGHT
    included = RecordRows(other_method=True, ft_decisions=((INCLUDE, None), (INCLUDE, None)))
    assert record_state(included).state is State.FT_INCLUDED
