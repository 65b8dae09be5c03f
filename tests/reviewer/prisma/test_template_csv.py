"""`template_csv`: the PRISMA2020 package's template CSV, filled from the counts."""

from __future__ import annotations

import csv
import io

import pytest

from reviewer.prisma.counts import prisma_counts
from reviewer.prisma.template_csv import list_name, template_csv
from reviewer.prisma.types import PrismaCounts
from tests.reviewer.prisma import full_review

#: The `data` column of the package's inst/extdata/PRISMA.csv, in its order.
TEMPLATE_DATA = [
    "NA", "previous_studies", "previous_reports", "NA", "database_results",
    "database_specific_results", "register_results", "register_specific_results", "NA",
    "website_results", "organisation_results", "citations_results", "duplicates",
    "excluded_automatic", "excluded_other", "records_screened", "records_excluded",
    "dbr_sought_reports", "dbr_notretrieved_reports", "other_sought_reports",
    "other_notretrieved_reports", "dbr_assessed", "dbr_excluded", "other_assessed",
    "other_excluded", "new_studies", "new_reports", "total_studies", "total_reports",
    "identification", "screening", "included",
]  # fmt: skip


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def n_by_data(text: str) -> dict[str, str]:
    return {row["data"]: row["n"] for row in rows(text) if row["data"] != "NA"}


def test_the_layout_is_the_template_s() -> None:
    text = template_csv(PrismaCounts())
    lines = text.split("\n")

    assert lines[0] == "data,node,box,description,boxtext,tooltips,url,n"
    assert [row["data"] for row in rows(text)] == TEMPLATE_DATA
    assert lines[1] == (
        "NA,node4,prevstud,Grey title box; Previous studies,Previous studies,"
        "Grey title box; Previous studies,prevstud.html,0"
    )
    assert lines[5] == (
        "database_results,node7,box2,Records identified from: Databases,Databases,"
        "Records identified from: Databases and Registers,database_results.html,0"
    )
    assert "organisation_results,,box11,Records identified from: Organisations," in text
    assert lines[-2] == (
        "included,node3,included,Blue included box,Included,Blue included box,included.html,0"
    )
    assert text.endswith("\n") and "\r" not in text
    dbr_excluded = next(row for row in rows(text) if row["data"] == "dbr_excluded")
    assert dbr_excluded == {
        "data": "dbr_excluded",
        "node": "node14",
        "box": "box9",
        "description": "Reports excluded (databases and registers): [separate reasons and "
        "numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
        "boxtext": "Reports excluded",
        "tooltips": "Reports excluded (databases and registers)",
        "url": "dbrexcludedrecords.html",
        "n": "0",
    }


def test_every_field_the_issue_names_has_a_row() -> None:
    names = set(n_by_data(template_csv(PrismaCounts())))
    issue_fields = (
        "database_results database_specific_results register_results duplicates "
        "excluded_automatic excluded_other records_screened records_excluded dbr_sought_reports "
        "dbr_notretrieved_reports dbr_assessed dbr_excluded website_results organisation_results "
        "citations_results other_sought_reports other_notretrieved_reports other_assessed "
        "other_excluded new_studies new_reports previous_studies previous_reports total_studies "
        "total_reports"
    )
    for name in issue_fields.split():
        assert name in names


@pytest.mark.django_db
@pytest.mark.slow
def test_a_review_s_numbers_in_the_csv() -> None:
    scenario = full_review(update=True)

    cells = n_by_data(template_csv(prisma_counts(scenario.review)))

    assert cells == {
        "previous_studies": "12",
        "previous_reports": "15",
        "database_results": "13",
        "database_specific_results": "PubMed, 8; Embase, 5",
        "register_results": "2",
        "register_specific_results": "ClinicalTrials.gov, 2",
        "website_results": "2",
        "organisation_results": "1",
        "citations_results": "3",
        "duplicates": "2",
        "excluded_automatic": "2",
        "excluded_other": "1",
        "records_screened": "10",
        "records_excluded": "3",
        "dbr_sought_reports": "7",
        "dbr_notretrieved_reports": "1",
        "other_sought_reports": "4",
        "other_notretrieved_reports": "1",
        "dbr_assessed": "6",
        "dbr_excluded": "Wrong population, 1; Wrong study design, 1; "
        "Wrong publication type (review / editorial / conference abstract), 1",
        "other_assessed": "3",
        "other_excluded": "Wrong population, 1; Patients' data “mixed” with adults & 成人, 1",
        "new_studies": "3",
        "new_reports": "4",
        "total_studies": "15",
        "total_reports": "19",
        "identification": "0",
        "screening": "0",
        "included": "0",
    }


def test_large_numbers_have_no_thousands_separator() -> None:
    counts = PrismaCounts(
        database_results=2398, database_specific_results=(("PubMed", 1200), ("Embase", 1198))
    )

    cells = n_by_data(template_csv(counts))

    assert cells["database_results"] == "2398"
    assert cells["database_specific_results"] == "PubMed, 1200; Embase, 1198"


def test_names_with_commas_semicolons_and_quotes_survive_the_package_s_parser() -> None:
    counts = PrismaCounts(
        database_specific_results=(('Web of Science, "Core"; SCI-EXPANDED', 3), ("O'Brien", 1)),
        dbr_excluded=(("Wrong population; adults, mostly", 2),),
    )

    text = template_csv(counts)
    cells = n_by_data(text)

    assert cells["database_specific_results"] == (
        'Web of Science / "Core" / SCI-EXPANDED, 3; O\'Brien, 1'
    )
    assert cells["dbr_excluded"] == "Wrong population / adults / mostly, 2"
    # what PRISMA_parse_reasons_ does: split at ";", the name up to the first comma
    entries = [entry.strip() for entry in cells["database_specific_results"].split(";")]
    assert [entry.split(",")[0] for entry in entries] == [
        'Web of Science / "Core" / SCI-EXPANDED',
        "O'Brien",
    ]
    assert [int(entry.split(",")[1]) for entry in entries] == [3, 1]
    assert '"Web of Science / ""Core"" / SCI-EXPANDED, 3; O\'Brien, 1"' in text


def test_list_name() -> None:
    assert list_name("  Wrong   population ,adults ") == "Wrong population / adults"
    assert list_name("Nur Deutsch; 中文") == "Nur Deutsch / 中文"


def test_no_update_writes_zero_previous() -> None:
    cells = n_by_data(template_csv(PrismaCounts(new_studies=2, new_reports=3)))

    assert (cells["previous_studies"], cells["previous_reports"]) == ("0", "0")
    assert (cells["total_studies"], cells["total_reports"]) == ("2", "3")
    assert cells["database_specific_results"] == ""
    assert cells["other_excluded"] == "0"
