"""`validate`: the arithmetic of the PRISMA 2020 template, each rule broken by hand-made counts
(what the PRISMA2020 Shiny app accepts unchecked), and never broken by a review built
through the services."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewer.prisma.counts import prisma_report
from reviewer.prisma.types import PrismaCounts
from reviewer.prisma.validate import Problem, validate
from tests.reviewer.prisma import full_review, in_progress, two_databases_only

#: The reference review's diagram (2,398 identified, 57 studies), consistent.
GOOD = PrismaCounts(
    database_results=2398,
    database_specific_results=(("PubMed", 1200), ("Embase", 1198)),
    duplicates=413,
    records_screened=1985,
    records_excluded=1835,
    dbr_sought_reports=150,
    dbr_assessed=150,
    dbr_excluded=(("Too few patients", 41), ("Data not separable", 52)),
    new_studies=57,
    new_reports=57,
)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.message for p in problems]
    return problems[0]


def test_consistent_counts_pass() -> None:
    assert validate(GOOD) == []
    assert validate(GOOD, complete=False) == []
    assert validate(PrismaCounts()) == []


def test_records_screened_missing_one() -> None:
    problem = only(validate(replace(GOOD, records_screened=1984, records_excluded=1834)))

    assert problem.rule == "screened"
    assert (problem.expected, problem.found) == (1985, 1984)
    assert problem.message == (
        "Records screened should be identified 2,398 − duplicates 413 − marked ineligible by "
        "automation tools 0 − removed for other reasons 0 = 1,985; it is 1,984: 1 record missing"
    )


def test_removals_count_in_the_screened_rule() -> None:
    counts = replace(GOOD, excluded_automatic=5, excluded_other=3)
    problems = validate(counts)

    screened = next(p for p in problems if p.rule == "screened")
    assert (screened.expected, screened.found) == (1977, 1985)
    assert screened.message.endswith(
        "− marked ineligible by automation tools 5 − removed for other reasons 3 = 1,977; "
        "it is 1,985: 8 records too many"
    )


def test_per_database_lines_must_add_up_to_the_box() -> None:
    counts = replace(GOOD, database_specific_results=(("PubMed", 1200), ("Embase", 1197)))

    problem = only(validate(counts))

    assert problem.rule == "database-lines"
    assert problem.message == (
        "Records identified from databases should be PubMed 1,200 + Embase 1,197 = 2,397; "
        "it is 2,398: 1 record too many"
    )


def test_register_lines_too() -> None:
    counts = replace(
        PrismaCounts(),
        register_results=4,
        register_specific_results=(("ClinicalTrials.gov", 2),),
        records_screened=4,
        dbr_sought_reports=4,
        dbr_notretrieved_reports=4,
    )

    problem = only(validate(counts))

    assert problem.rule == "register-lines"
    assert (problem.expected, problem.found) == (2, 4)


def test_reports_sought_must_be_screened_minus_excluded_when_complete() -> None:
    counts = replace(GOOD, dbr_sought_reports=148, dbr_assessed=148, new_reports=55)
    counts = replace(counts, new_studies=55)

    problem = only(validate(counts))

    assert problem.rule == "sought"
    assert problem.message == (
        "Reports sought for retrieval (databases and registers) should be screened 1,985 − "
        "excluded 1,835 = 150; it is 148: 2 reports missing"
    )
    assert validate(counts, complete=False) == []  # still being screened: at most


def test_reports_sought_never_more_than_screened_minus_excluded() -> None:
    counts = replace(GOOD, dbr_sought_reports=152, dbr_assessed=152, new_reports=59)

    problems = validate(counts, complete=False)

    problem = only(problems)
    assert problem.rule == "sought"
    assert problem.message == (
        "Reports sought for retrieval (databases and registers) should be at most screened "
        "1,985 − excluded 1,835 = 150; it is 152: 2 reports too many"
    )


def test_known_pending_records_make_the_rules_exact() -> None:
    counts = replace(GOOD, records_excluded=1830, new_reports=55, new_studies=50)
    pending = {"ta-unscreened": 3, "ta-conflict": 2, "ft-one": 2}

    assert validate(counts, pending=pending) == []
    problems = validate(counts, pending={"ta-unscreened": 3, "ft-one": 2})
    problem = only(problems)
    assert problem.rule == "sought"
    assert problem.message == (
        "Reports sought for retrieval (databases and registers) should be screened 1,985 − "
        "excluded 1,830 − still being screened 3 = 152; it is 150: 2 reports missing"
    )


def test_assessed_is_sought_minus_not_retrieved_in_each_column() -> None:
    counts = replace(GOOD, dbr_notretrieved_reports=4)
    problems = validate(counts)

    assessed = next(p for p in problems if p.rule == "assessed")
    assert assessed.message == (
        "Reports assessed for eligibility (databases and registers) should be sought 150 − "
        "not retrieved 4 = 146; it is 150: 4 reports too many"
    )
    other = replace(
        PrismaCounts(), citations_results=5, other_sought_reports=5, other_assessed=5,
        other_notretrieved_reports=1, new_reports=5, new_studies=5,
    )  # fmt: skip
    problem = only(validate(other))
    assert problem.rule == "other-assessed"
    assert (problem.expected, problem.found) == (4, 5)
    assert problem.message.startswith("Reports assessed for eligibility (other methods)")


def test_reports_included_are_assessed_minus_excluded() -> None:
    counts = replace(GOOD, new_reports=58)

    problem = only(validate(counts))

    assert problem.rule == "reports"
    assert problem.message == (
        "Reports of new included studies should be assessed 150 − excluded 93 = 57; it is 58: "
        "1 report too many"
    )
    assert only(validate(counts, complete=False)).rule == "reports"
    assert validate(replace(GOOD, new_reports=56, new_studies=56), complete=False) == []


def test_reports_included_count_both_columns() -> None:
    counts = replace(
        GOOD,
        website_results=3,
        other_sought_reports=3,
        other_assessed=3,
        other_excluded=(("Wrong population", 1),),
        new_reports=59,
        other_methods=True,
    )
    assert validate(counts) == []

    problem = only(validate(replace(counts, new_reports=57)))
    assert problem.message == (
        "Reports of new included studies should be assessed 150 − excluded 93 + assessed "
        "(other methods) 3 − excluded (other methods) 1 = 59; it is 57: 2 reports missing"
    )


def test_studies_at_most_reports() -> None:
    problem = only(validate(replace(GOOD, new_studies=58)))

    assert problem.rule == "studies"
    assert problem.message == (
        "New studies included in review should be at most reports of new included studies "
        "57 = 57; it is 58: 1 study too many"
    )


def test_reports_need_a_study() -> None:
    problem = only(validate(replace(GOOD, new_studies=0)))

    assert problem.rule == "studies"
    assert (problem.expected, problem.found) == (1, 0)


def test_previous_studies_and_reports() -> None:
    counts = replace(GOOD, previous_studies=10, previous_reports=12, previous=True)
    assert validate(counts) == []
    assert (counts.total_studies, counts.total_reports) == (67, 69)

    problem = only(validate(replace(counts, previous_studies=13)))
    assert problem.rule == "previous"
    assert (problem.expected, problem.found) == (12, 13)

    problem = only(validate(replace(counts, previous_reports=None)))
    assert problem.rule == "previous"
    assert "only one of them is given" in problem.message


def test_totals_are_previous_plus_new() -> None:
    class Overridden(PrismaCounts):
        @property
        def total_studies(self) -> int:
            return 70

    counts = Overridden(**{**GOOD.__dict__, "previous_studies": 10, "previous_reports": 12})

    problem = only(validate(counts))

    assert problem.rule == "totals"
    assert problem.message == (
        "Total studies included in review should be previous 10 + new 57 = 67; it is 70: "
        "3 studies too many"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"records_excluded": 1990, "dbr_sought_reports": 0, "dbr_assessed": 0},
         "Records excluded should be at most screened 1,985"),
        ({"dbr_notretrieved_reports": 151, "dbr_assessed": -1},
         "Reports not retrieved (databases and registers) should be at most sought 150"),
        ({"dbr_excluded": (("Too few patients", 151),)},
         "Reports excluded (databases and registers) should be at most assessed 150"),
        ({"duplicates": 2399, "records_screened": -1},
         "Duplicates and records removed before screening should be at most records identified "
         "from databases and registers 2,398"),
    ],
)  # fmt: skip
def test_each_stage_at_most_the_one_before(change: dict[str, object], words: str) -> None:
    problems = validate(replace(GOOD, **change))  # type: ignore[arg-type]

    stage = [p for p in problems if p.rule == "stage"]
    assert stage, [p.message for p in problems]
    assert any(p.message.startswith(words) for p in stage), [p.message for p in stage]


def test_other_method_reports_at_most_identified() -> None:
    counts = replace(
        PrismaCounts(), website_results=1, other_sought_reports=2, other_assessed=2,
        new_reports=2, new_studies=2,
    )  # fmt: skip

    problem = only(validate(counts))

    assert problem.rule == "stage"
    assert problem.message == (
        "Reports sought for retrieval (other methods) should be at most records identified from "
        "other methods 1 = 1; it is 2: 1 report too many"
    )


def test_negative_numbers() -> None:
    problems = validate(replace(PrismaCounts(), dbr_excluded=(("Wrong population", -1),)))

    assert [p.rule for p in problems if p.rule == "negative"] == ["negative"]
    assert "“Wrong population” is -1" in problems[0].message


@pytest.mark.django_db
@pytest.mark.parametrize("build", [full_review, two_databases_only])
def test_reviews_built_through_the_services_pass(build: object) -> None:
    scenario = build()  # type: ignore[operator]
    report = prisma_report(scenario.review)

    assert validate(report.counts) == []
    assert validate(report.counts, complete=False) == []
    assert validate(report.counts, pending=report.pending) == []


@pytest.mark.django_db
def test_an_update_built_through_the_services_passes() -> None:
    assert validate(prisma_report(full_review(update=True).review).counts) == []


@pytest.mark.django_db
def test_a_review_in_progress_passes_once_its_pending_records_are_known() -> None:
    report = prisma_report(in_progress().review)

    assert validate(report.counts, pending=report.pending) == []
    assert validate(report.counts, complete=False) == []
    strict = validate(report.counts)
    assert [p.rule for p in strict] == ["sought", "reports"]
    assert strict[0].message.endswith("screened 10 − excluded 0 = 10; it is 6: 4 reports missing")
