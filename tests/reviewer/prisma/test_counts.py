"""`prisma_counts` and `pending`: every box of the diagram from reviews built through the
services, and the few queries it costs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviewer.models import Approval, Decision, SourceKind
from reviewer.prisma.counts import pending, prisma_counts, prisma_report
from reviewer.prisma.provisional import Waiting
from reviewer.prisma.types import PrismaCounts
from reviewer.prisma.validate import validate
from reviewer.screening.queries import state_counts
from reviewer.screening.rules import State
from tests.factories import make_review, make_source
from tests.reviewer.prisma import (
    IN_PROGRESS_PENDING,
    add,
    full_review,
    in_progress,
    new_team,
    two_databases_only,
)

pytestmark = pytest.mark.django_db


def test_every_box_of_a_review_built_through_the_services() -> None:
    scenario = full_review()

    counts = prisma_counts(scenario.review)

    assert counts == scenario.expected
    assert counts.dbr_excluded_total == 3
    assert counts.other_excluded_total == 2
    assert (counts.total_studies, counts.total_reports) == (3, 4)
    assert pending(scenario.review) == {}
    assert validate(counts) == []


def test_the_counts_agree_with_the_screening_state_counts() -> None:
    scenario = full_review()
    by_state = state_counts(scenario.review)
    counts = prisma_counts(scenario.review)

    assert by_state[State.DUPLICATE] == 3  # 2 in the left column, 1 found on a website
    assert counts.duplicates == 2
    assert by_state[State.REMOVED] == counts.excluded_automatic + counts.excluded_other + 1
    assert by_state[State.TA_EXCLUDED] == counts.records_excluded
    assert by_state[State.FT_NOT_RETRIEVED] == (
        counts.dbr_notretrieved_reports + counts.other_notretrieved_reports
    )
    assert by_state[State.FT_EXCLUDED] == counts.dbr_excluded_total + counts.other_excluded_total
    assert by_state[State.APPROVED] == counts.new_reports
    assert sum(by_state.values()) == (
        counts.database_results
        + counts.register_results
        + counts.website_results
        + counts.organisation_results
        + counts.citations_results
    )


def test_an_update_of_a_previous_review_adds_its_studies_and_reports() -> None:
    scenario = full_review(update=True)

    counts = prisma_counts(scenario.review)

    assert counts == scenario.expected
    assert counts.previous is True
    assert (counts.previous_studies, counts.previous_reports) == (12, 15)
    assert (counts.total_studies, counts.total_reports) == (12 + 3, 15 + 4)
    assert validate(counts) == []


def test_two_databases_and_nothing_else() -> None:
    scenario = two_databases_only()

    counts = prisma_counts(scenario.review)

    assert counts == scenario.expected
    assert counts.other_methods is False
    assert counts.previous is False
    assert validate(counts) == []


def test_records_still_waiting_are_pending_and_the_counts_stay_consistent() -> None:
    scenario = in_progress()

    report = prisma_report(scenario.review)

    assert report.counts == scenario.expected
    assert report.pending == IN_PROGRESS_PENDING
    assert pending(scenario.review) == IN_PROGRESS_PENDING
    assert list(report.pending) == [  # the journey's order
        "ta-unscreened",
        "ta-one",
        "ta-conflict",
        "ta-passed",
        "ft-sought",
        "ft-one",
        "ft-conflict",
        "ft-reason",
        "ft-included",
    ]
    assert report.complete is False
    assert validate(report.counts, pending=report.pending) == []
    assert validate(report.counts, complete=False) == []
    assert {p.rule for p in validate(report.counts)} == {"sought", "reports"}
    assert report.waiting == Waiting(
        not_screened=2,
        second_screening=1,
        screening_conflicts=1,
        not_assessed=2,
        second_assessment=1,
        full_text_conflicts=1,
        reasons_to_choose=1,
        approvals=1,
    )
    assert report.waiting.lines() == [
        "Provisional — 4 records await title/abstract decisions, 5 reports await full-text "
        "decisions, 1 inclusion awaits the senior author's approval",
        "Title/abstract: 2 not screened yet, 1 waiting for a second reviewer, 1 conflict for "
        "the senior author.",
        "Full text: 2 not yet assessed or marked not retrieved, 1 waiting for a second "
        "reviewer, 1 conflict for the senior author, 1 exclusion whose reason the senior "
        "author is to choose.",
    ]


def test_an_empty_review() -> None:
    review = make_review()

    counts = prisma_counts(review)

    assert counts == PrismaCounts(extra={"title": review.title})
    assert pending(review) == {}
    assert prisma_report(review).waiting.final
    assert prisma_report(review).waiting.lines() == []
    assert validate(counts) == []


def test_imported_records_are_identified_and_waiting_to_be_screened() -> None:
    team = new_team()
    source = make_source(team.review, "Scopus")
    for _ in range(3):
        add(team, source)

    counts = prisma_counts(team.review)

    assert (counts.database_results, counts.records_screened, counts.records_excluded) == (3, 3, 0)
    assert counts.database_specific_results == (("Scopus", 3),)
    assert pending(team.review) == {"ta-unscreened": 3}
    assert prisma_report(team.review).waiting.lines() == [
        "Provisional — 3 records await title/abstract decisions, 0 reports await full-text "
        "decisions",
        "Title/abstract: 3 not screened yet.",
    ]


def test_each_kind_of_other_method_has_its_line() -> None:
    team = new_team()
    for kind, n in ((SourceKind.WEBSITE, 1), (SourceKind.ORGANISATION, 2), (SourceKind.OTHER, 3)):
        source = make_source(team.review, f"{kind} source", kind=kind)
        for _ in range(n):
            add(team, source)

    counts = prisma_counts(team.review)

    assert (counts.website_results, counts.organisation_results, counts.citations_results) == (
        1,
        2,
        3,
    )
    assert counts.other_sought_reports == counts.other_assessed == 6
    assert counts.records_screened == counts.database_results == 0
    assert counts.other_methods is True
    assert pending(team.review) == {"ft-sought": 6}


def test_the_lines_of_one_database_add_up_in_the_order_first_added() -> None:
    team = new_team()
    embase = make_source(team.review, "Embase")
    pubmed = make_source(team.review, "PubMed")
    embase_again = make_source(team.review, " EMBASE")
    register = make_source(team.review, "WHO ICTRP", kind=SourceKind.REGISTER)
    for source, n in ((pubmed, 2), (embase, 1), (embase_again, 3), (register, 1)):
        for _ in range(n):
            add(team, source)

    counts = prisma_counts(team.review)

    assert counts.database_specific_results == (("Embase", 4), ("PubMed", 2))
    assert counts.register_specific_results == (("WHO ICTRP", 1),)
    assert (counts.database_results, counts.register_results) == (6, 1)


def test_a_study_with_two_reports_counts_once() -> None:
    scenario = full_review()
    studies = set(Approval.objects.filter(review=scenario.review).values_list("study", flat=True))

    assert len(studies) == prisma_counts(scenario.review).new_studies == 3


@pytest.mark.slow
def test_reading_the_counts_costs_a_fixed_number_of_queries() -> None:
    small = two_databases_only()
    with CaptureQueriesContext(connection) as few:
        prisma_report(small.review)
    large = full_review()
    with CaptureQueriesContext(connection) as more:
        prisma_report(large.review)

    # 9 for the counts; 5 for what waits outside screening (duplicate checks, imports, the
    # duplicate pairs' queue)
    assert len(few) == len(more) <= 14
    assert Decision.objects.filter(review=large.review).count() > 20
