"""The screening rules twice, checked to agree: the Python forms in
`reviewer.screening.rules` (`record_state`, `at_stage`, `waits_for`,
`REVIEWERS_PER_RECORD`) and their SQL forms in `reviewer.screening.queries` (`eligible`,
`queue`, `waiting`, `progress`), over a review holding a record in every state of the
table: both stages, every pair of decisions, adjudicated, released to full text or not,
removed, duplicate, found by other methods, not retrieved, approved, and rows no service
would write (decisions on a duplicate, three reviewers on one record), blinded and not.

The rows are written directly, not through the services, so that the two forms are
compared on whatever the tables may hold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from reviewer.models import (
    Adjudication,
    Approval,
    Decision,
    FullText,
    Record,
    Removal,
    Review,
    Role,
    SourceKind,
    Study,
)
from reviewer.screening import queries
from reviewer.screening.rules import (
    EXCLUDE,
    FT,
    INCLUDE,
    MAYBE,
    REVIEWERS_PER_RECORD,
    STAGE_CHOICES,
    TA,
    State,
    at_stage,
    removal_skip,
    waits_for,
)
from tests.factories import add_member, make_reason, make_record, make_source, make_team, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Spec:
    """One record's rows. Decisions are (reviewer name, choice[, reason name])."""

    ta: tuple[tuple[str, str], ...] = ()
    ta_adjudicated: str = ""
    released: bool = False
    ft: tuple[tuple[str, str, str], ...] = ()
    ft_adjudicated: tuple[str, str] | None = None
    not_retrieved: bool = False
    approved: bool = False
    removed: bool = False
    duplicate: bool = False
    other_method: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _ft(*pairs: tuple[str, str]) -> tuple[tuple[str, str, str], ...]:
    """Full-text decisions of alice and bob: (choice, reason name) each."""
    return tuple(
        (who, choice, reason)
        for who, (choice, reason) in zip(("alice", "bob"), pairs, strict=False)
    )


INC, EXC, R1, R2 = (INCLUDE, ""), (EXCLUDE, "r1"), "r1", "r2"
AGREED = (("alice", INCLUDE), ("bob", INCLUDE))


def specs() -> dict[str, Spec]:
    found: dict[str, Spec] = {"unscreened": Spec()}
    # title/abstract: one decision, every pair of two, released or not
    for who, choice in (("alice", INCLUDE), ("bob", EXCLUDE), ("alice", MAYBE)):
        found[f"one {who} {choice}"] = Spec(ta=((who, choice),))
    for a in (INCLUDE, EXCLUDE, MAYBE):
        for b in (INCLUDE, EXCLUDE, MAYBE):
            for released in (False, True):
                found[f"ta {a}+{b} released={released}"] = Spec(
                    ta=(("alice", a), ("bob", b)), released=released
                )
    found["ta conflict adjudicated include"] = Spec(
        ta=(("alice", INCLUDE), ("bob", EXCLUDE)), ta_adjudicated=INCLUDE
    )
    found["ta conflict adjudicated exclude"] = Spec(
        ta=(("alice", MAYBE), ("bob", EXCLUDE)), ta_adjudicated=EXCLUDE
    )
    found["three reviewers agree"] = Spec(ta=(*AGREED, ("carol", MAYBE)), released=True)
    found["three reviewers, unreleased"] = Spec(ta=(*AGREED, ("carol", INCLUDE)))
    # removed and duplicates, with and without decisions
    found["removed"] = Spec(removed=True)
    found["removed with decisions"] = Spec(removed=True, ta=AGREED, released=True)
    found["duplicate"] = Spec(duplicate=True)
    found["duplicate with decisions"] = Spec(duplicate=True, ta=AGREED, released=True)
    # found by other methods: no title/abstract
    found["other method"] = Spec(other_method=True)
    found["other method, one full-text decision"] = Spec(other_method=True, ft=_ft(INC))
    found["other method, not retrieved"] = Spec(other_method=True, not_retrieved=True)
    # full text, after a release
    full_text = {
        "none": (),
        "alice include": _ft(INC),
        "bob exclude": (("bob", EXCLUDE, R1),),
        "include+include": _ft(INC, INC),
        "include+exclude": _ft(INC, EXC),
        "exclude+include": _ft(EXC, INC),
        "exclude+exclude same": _ft(EXC, EXC),
        "exclude+exclude different": _ft(EXC, (EXCLUDE, R2)),
    }
    for name, decisions in full_text.items():
        found[f"ft {name}"] = Spec(ta=AGREED, released=True, ft=decisions)
        found[f"ft {name}, unreleased"] = Spec(ta=AGREED, ft=decisions)
    found["ft after adjudicated ta"] = Spec(
        ta=(("alice", INCLUDE), ("bob", EXCLUDE)), ta_adjudicated=INCLUDE, ft=_ft(INC)
    )
    found["ft conflict adjudicated include"] = Spec(
        ta=AGREED, released=True, ft=_ft(INC, EXC), ft_adjudicated=(INCLUDE, "")
    )
    found["ft conflict adjudicated exclude"] = Spec(
        ta=AGREED, released=True, ft=_ft(INC, EXC), ft_adjudicated=(EXCLUDE, R2)
    )
    found["ft reason chosen"] = Spec(
        ta=AGREED, released=True, ft=_ft(EXC, (EXCLUDE, R2)), ft_adjudicated=(EXCLUDE, R1)
    )
    found["approved"] = Spec(ta=AGREED, released=True, ft=_ft(INC, INC), approved=True)
    found["not retrieved"] = Spec(ta=AGREED, released=True, not_retrieved=True)
    found["not retrieved, decided"] = Spec(
        ta=AGREED, released=True, not_retrieved=True, ft=_ft(INC)
    )
    found["ft decisions after ta exclusion"] = Spec(
        ta=(("alice", EXCLUDE), ("bob", EXCLUDE)), ft=_ft(INC, INC)
    )
    return found


def build() -> SimpleNamespace:
    team = make_team()
    review = team.review
    people = {
        "alice": team.reviewer,
        "bob": add_member(review, make_user("bob")).user,
        "carol": add_member(review, make_user("carol"), Role.REVIEWER).user,
        "dan": add_member(review, make_user("dan")).user,  # decides nothing
    }
    reasons = {"r1": make_reason(review, "Adults"), "r2": make_reason(review, "Review")}
    database = make_source(review, "PubMed")
    citations = make_source(review, "Citations", kind=SourceKind.OTHER)
    kept = make_record(review, database, title="The kept record of a duplicate")
    records: dict[str, Record] = {}
    for name, spec in specs().items():
        record = make_record(review, citations if spec.other_method else database, title=name)
        records[name] = record
        if spec.duplicate:
            record.duplicate_of = kept
        if spec.released:
            record.released_at, record.released_by = timezone.now(), team.senior
        record.save()
        for who, choice in spec.ta:
            Decision.objects.create(
                review=review, record=record, reviewer=people[who], stage=TA, choice=choice
            )
        for who, choice, reason in spec.ft:
            Decision.objects.create(
                review=review,
                record=record,
                reviewer=people[who],
                stage=FT,
                choice=choice,
                reason=reasons.get(reason),
            )
        if spec.ta_adjudicated:
            Adjudication.objects.create(
                review=review,
                record=record,
                stage=TA,
                choice=spec.ta_adjudicated,
                decided_by=team.senior,
            )
        if spec.ft_adjudicated:
            choice, reason = spec.ft_adjudicated
            Adjudication.objects.create(
                review=review,
                record=record,
                stage=FT,
                choice=choice,
                reason=reasons.get(reason),
                decided_by=team.senior,
            )
        if spec.not_retrieved:
            FullText.objects.create(
                review=review, record=record, not_retrieved=True, updated_by=team.senior
            )
        if spec.approved:
            study = Study.objects.create(review=review, label=name, created_by=team.senior)
            Approval.objects.create(
                review=review, record=record, study=study, approved_by=team.senior
            )
        if spec.removed:
            Removal.objects.create(
                review=review, record=record, reason="Before 1990", removed_by=team.owner
            )
    return SimpleNamespace(review=review, people=people, records=records)


def python_side(review: Review, user_id: int, stage: str) -> dict[str, Any]:
    """What `rules` derives, from the rows read plainly: the queue, the records in it
    still waiting for the user, the user's progress, and her records per own choice."""
    outcomes = queries.states(review)
    other = set(
        review.records.filter(source__kind__in=[SourceKind.OTHER]).values_list("pk", flat=True)
    )
    deciders: dict[int, list[int]] = defaultdict(list)
    mine: dict[int, str] = {}
    for record_id, reviewer_id, choice in Decision.objects.filter(
        review=review, stage=stage
    ).values_list("record_id", "reviewer_id", "choice"):
        deciders[record_id].append(reviewer_id)
        if reviewer_id == user_id:
            mine[record_id] = choice
    adjudicated = set(
        Adjudication.objects.filter(review=review, stage=stage).values_list("record_id", flat=True)
    )
    listed = {
        pk
        for pk, outcome in outcomes.items()
        if at_stage(outcome.state, stage, other_method=pk in other)
    }
    waiting = {
        pk
        for pk in listed
        if waits_for(
            decided_by_them=pk in mine,
            decisions=len(deciders[pk]),
            adjudicated=pk in adjudicated,
        )
    }
    return {
        "queue": listed,
        "waiting": waiting,
        "progress": {
            "total": len(listed),
            "mine": len(listed & set(mine)),
            "done": sum(1 for pk in listed if len(deciders[pk]) >= REVIEWERS_PER_RECORD),
        },
        "mine": {
            choice: {pk for pk in listed if mine.get(pk) == choice}
            for choice in STAGE_CHOICES[stage]
        }
        | {"none": listed - set(mine)},
    }


def sql_side(review: Review, user, stage: str) -> dict[str, Any]:
    """The same from the SQL forms the pages use."""
    queue = queries.queue(review, user, stage)
    annotated = dict(queue.values_list("pk", "waiting"))
    eligible = set(queries.eligible(review, stage).values_list("pk", flat=True))
    assert set(annotated) == eligible, "the queue is the eligible records"
    waiting = set(queries.waiting(review, user, stage, queue).values_list("pk", flat=True))
    assert waiting == {pk for pk, flag in annotated.items() if flag}, "annotation = filter"
    # the record-by-record probe after a decision, compiled once (`reviewer.prepared`)
    probed = queries.waiting_after(review, user, stage, start=0, count=10_000)
    assert set(probed) == waiting and probed == sorted(probed), "probe = set form"
    ordered = sorted(eligible)
    for n, pk in enumerate(ordered):  # a queue without filters, in import order
        expected = (ordered[n - 1] if n else None, ordered[n + 1] if n + 1 < len(ordered) else None)
        assert queries.neighbours_in_import_order(review, stage, pk) == expected
        assert queries.neighbours(queue, pk) == expected
    return {
        "queue": eligible,
        "waiting": waiting,
        "progress": queries.progress(review, user, stage),
        "mine": {
            choice: set(
                queries.queue(review, user, stage, mine=choice).values_list("pk", flat=True)
            )
            for choice in (*STAGE_CHOICES[stage], "none")
        },
    }


@pytest.mark.parametrize("blinded", [True, False], ids=["blinded", "unblinded"])
def test_sql_queues_and_counts_equal_what_the_rules_derive(blinded):
    s = build()
    review = s.review
    review.blinded = blinded
    review.save(update_fields=["blinded"])
    names = {record.pk: name for name, record in s.records.items()}

    problems = []
    for who, user in s.people.items():
        for stage in (TA, FT):
            expected, got = python_side(review, user.pk, stage), sql_side(review, user, stage)
            for part in ("queue", "waiting"):
                for pk in expected[part] ^ got[part]:
                    side = "rules only" if pk in expected[part] else "SQL only"
                    problems.append(f"{who} {stage} {part}: {names.get(pk, pk)} ({side})")
            if expected["progress"] != got["progress"]:
                problems.append(
                    f"{who} {stage} progress: {expected['progress']} vs {got['progress']}"
                )
            if expected["mine"] != got["mine"]:
                problems.append(f"{who} {stage} own decisions differ")
    assert not problems, "\n".join(problems)


def test_the_review_holds_a_record_in_every_state():
    s = build()
    outcomes = queries.states(s.review)
    seen = {outcomes[record.pk].state for record in s.records.values()}
    assert seen == set(State)
    by_name = {name: outcomes[record.pk].state for name, record in s.records.items()}
    assert by_name["ta include+include released=False"] is State.TA_PASSED
    assert by_name["ta include+include released=True"] is State.FT_SOUGHT
    assert by_name["ft include+include, unreleased"] is State.TA_PASSED


def test_in_an_unblinded_review_nothing_waits_for_release():
    s = build()
    s.review.blinded = False
    s.review.save(update_fields=["blinded"])
    states = {outcome.state for outcome in queries.states(s.review).values()}
    assert State.TA_PASSED not in states
    dan = s.people["dan"]
    queue = set(queries.queue(s.review, dan, FT).values_list("pk", flat=True))
    assert s.records["ta include+maybe released=False"].pk in queue


def test_the_records_a_removal_may_remove_are_those_the_rule_allows():
    s = build()
    review = s.review
    removed = set(Removal.objects.filter(review=review).values_list("record_id", flat=True))
    screened = set(Decision.objects.filter(review=review).values_list("record_id", flat=True))
    expected = {
        pk
        for pk, duplicate_of in review.records.values_list("pk", "duplicate_of_id")
        if not removal_skip(
            is_duplicate=duplicate_of is not None, removed=pk in removed, screened=pk in screened
        )
    }

    assert set(queries.removable(review).values_list("pk", flat=True)) == expected
    assert s.records["unscreened"].pk in expected
    assert s.records["other method"].pk in expected
    for name in (
        "removed",
        "duplicate",
        "one alice include",
        "other method, one full-text decision",
    ):
        assert s.records[name].pk not in expected, name


def test_one_records_rows_in_one_query_equal_the_review_wide_read(django_assert_num_queries):
    """`queries.record_rows` (one UNION ALL query, the screening page's and a decision's
    read) gives each record the same rows as `_rows` (six queries), in every state."""
    s = build()
    everyone = queries.rows_by_record(s.review, None)
    problems = []
    for name, record in s.records.items():
        record = Record.objects.select_related("source", "review").get(pk=record.pk)
        with django_assert_num_queries(1):
            rows, decisions = queries.record_rows(record)
        if rows != everyone[record.pk]:
            problems.append(f"{name}: {rows} vs {everyone[record.pk]}")
        stored = list(record.decisions.order_by("pk").values_list("pk", "reviewer_id", "stage"))
        if [(d.pk, d.reviewer_id, d.stage) for d in decisions] != stored:
            problems.append(f"{name}: its decisions differ")
    assert not problems, "\n".join(problems)
