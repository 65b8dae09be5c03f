"""The exports a paper needs (reviewer.project.exports, reviewer.exports): the exports page,
all records with their final state, the included studies as CSV and RIS, the ZIP bundle."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from types import SimpleNamespace

import pytest
import rispy
from django.urls import reverse
from django.utils import timezone

from analysis.services.runs import analysis_run_now
from reviewer.models import FullText, Role
from reviewer.prisma.files import FINAL, PASSES
from reviewer.services import screening as services
from reviewer.version import VERSION
from tests.extraction.helpers import JBI_ALL_YES, appraise, case_series_form, fill
from tests.factories import (
    Endpoint,
    add_member,
    make_record,
    make_source,
    make_user,
    page_text,
    pass_title_abstract,
    screen,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    return SimpleNamespace()


ENDPOINTS = [
    Endpoint("export-list", "get", Role.SENIOR, 200),
    Endpoint("export-records", "get", Role.SENIOR, 200),
    Endpoint("export-included-csv", "get", Role.SENIOR, 200),
    Endpoint("export-included-ris", "get", Role.SENIOR, 200),
    Endpoint("export-bundle", "get", Role.SENIOR, 200),
]

WRONG_METHODS = [
    Endpoint("export-list", "post", Role.SENIOR, 405),
    Endpoint("export-bundle", "post", Role.SENIOR, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # These URLs name no child object, so there is no other review's child to try.
    test_child_of_another_review_gets_404_even_for_an_owner = None


@pytest.fixture
def approved(team):
    """A review with one approved inclusion, one exclusion, one duplicate."""
    second = add_member(team.review, make_user("bob"), Role.REVIEWER).user
    source = make_source(team.review, "PubMed")
    included = make_record(
        team.review,
        source,
        title="=HYPERLINK(bad) ALK-positive IMT in 34 children",
        authors=["Coffin, Cheryl M", "Hornick, Jason L"],
        year=2007,
        journal="Pediatric Blood & Cancer",
        doi="10.1002/pbc.21000",
        pmid="17000001",
    )
    excluded = make_record(team.review, source, title="IgG4-related disease in adults")
    duplicate = make_record(team.review, source, title="ALK-positive IMT in 34 children")
    duplicate.duplicate_of = included
    duplicate.save()
    pass_title_abstract(included, team.reviewer, second)
    screen(included, team.reviewer, "include", stage="ft")
    screen(included, second, "include", stage="ft")
    screen(excluded, team.reviewer, "exclude")
    screen(excluded, second, "exclude")
    (approval,) = services.approve(review=team.review, records=[included], user=team.senior)
    return SimpleNamespace(
        included=included, excluded=excluded, duplicate=duplicate, study=approval.study
    )


def rows_of(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "a byte order mark, for spreadsheets"
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def get(client, name, review):
    response = client.get(reverse(name, args=[review.slug]))
    assert response.status_code == 200
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_all_records_with_where_each_ended_up(client, team, approved):
    client.force_login(team.senior)

    rows = {int(r["record_id"]): r for r in rows_of(get(client, "export-records", team.review))}

    assert rows[approved.included.pk]["final_state"] == "Included and approved"
    assert rows[approved.included.pk]["study"] == approved.study.label
    assert rows[approved.excluded.pk]["final_state"] == "Excluded at title/abstract"
    assert rows[approved.duplicate.pk]["final_state"] == "Duplicate"
    assert rows[approved.duplicate.pk]["duplicate_of"] == str(approved.included.pk)
    # a title that would run as a spreadsheet formula is defused
    assert rows[approved.included.pk]["title"].startswith("'=HYPERLINK")


def test_included_studies_as_csv_and_ris(client, team, approved):
    client.force_login(team.senior)

    (row,) = rows_of(get(client, "export-included-csv", team.review))
    ris = get(client, "export-included-ris", team.review).decode("utf-8")

    assert row["study"] == approved.study.label
    assert row["doi"] == "10.1002/pbc.21000"
    (entry,) = rispy.loads(ris)
    assert entry["doi"] == "10.1002/pbc.21000"
    assert entry["authors"] == ["Coffin, Cheryl M", "Hornick, Jason L"]
    assert f"Study: {approved.study.label}" in entry["notes"]
    assert not ris.startswith("1."), "no counter lines a reference manager would read"


def test_the_bundle_holds_every_export_and_a_manifest(client, team, approved):
    client.force_login(team.senior)

    archive = zipfile.ZipFile(io.BytesIO(get(client, "export-bundle", team.review)))

    names = set(archive.namelist())
    assert {
        "manifest.json",
        "decisions.csv",
        "agreement.csv",
        "records.csv",
        "included-studies.csv",
        "included-studies.ris",
        "prisma/prisma2020-data.csv",
        "prisma/flow-diagram.svg",
        "prisma/flow-diagram-300dpi.png",
        "prisma/flow-diagram.pdf",
    } <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["review"]["slug"] == team.review.slug
    assert manifest["app"]["version"] == VERSION
    assert manifest["rows"]["records.csv"] == 3
    assert manifest["rows"]["included-studies.csv"] == 1
    assert manifest["rows"]["decisions.csv"] == 6  # 2 + 2 at title/abstract, 2 at full text
    assert archive.read("prisma/flow-diagram-300dpi.png").startswith(b"\x89PNG")
    assert archive.read("prisma/flow-diagram.pdf").startswith(b"%PDF")
    # every record decided, the inclusion approved: final, and the checks say so
    assert archive.read("prisma/checks.txt").decode() == f"{FINAL}\n{PASSES}\n"
    assert "rovisional" not in archive.read("prisma/flow-diagram.svg").decode()


def test_the_bundle_of_an_unfinished_review_says_provisional_and_never_passes(
    client, team, approved
):
    make_record(team.review, make_source(team.review, "Embase"), title="Orbital IMT in a boy")
    client.force_login(team.senior)

    archive = zipfile.ZipFile(io.BytesIO(get(client, "export-bundle", team.review)))

    headline = (
        "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text "
        "decisions"
    )
    checks = archive.read("prisma/checks.txt").decode()
    assert checks.splitlines()[:2] == [headline, "Title/abstract: 1 not screened yet."]
    assert "pass every check" not in checks
    assert "not a final diagram" in checks
    svg = archive.read("prisma/flow-diagram.svg").decode()
    assert headline in svg
    data = archive.read("prisma/prisma2020-data.csv").decode()
    assert list(csv.reader(io.StringIO(data)))[-1][0] == "provisional"


def test_the_bundle_holds_the_final_extraction_data_and_the_analysis_results(
    client, team, approved
):
    case_series_form(team.review, dual=False)
    patients = [
        {"sex": "Male", "site": "Thorax", "management": "Operative", "margin": "Positive"},
        {"sex": "Female", "site": "Thorax", "management": "Non-operative", "margin": "NR"},
    ]
    fill(approved.study, team.reviewer, patients=patients, done=True)
    run = analysis_run_now(
        review=team.review,
        kind="crosstab",
        spec={"row": "sex", "col": "management"},
        user=team.senior,
    )
    client.force_login(team.senior)

    archive = zipfile.ZipFile(io.BytesIO(get(client, "export-bundle", team.review)))

    final = rows_of(archive.read("extraction/patients-final.csv"))
    assert [(row["study"], row["sex"], row["margin"]) for row in final] == [
        (approved.study.label, "Male", "Positive"),
        (approved.study.label, "Female", "not reported"),
    ]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["rows"]["extraction/patients-final.csv"] == 2
    assert manifest["rows"]["extraction/studies-final.csv"] == 1
    (tables,) = [name for name in archive.namelist() if name.startswith("analysis/")]
    assert tables.endswith(".csv") and f"-{run.pk}-" in tables
    assert "Sex × Management" in archive.read(tables).decode("utf-8-sig")


def test_the_bundle_holds_the_risk_of_bias_plots_tables_and_methods(client, team, approved):
    appraise(approved.study, None, {**JBI_ALL_YES, "4": "unclear"}, done=True)
    client.force_login(team.senior)

    archive = zipfile.ZipFile(io.BytesIO(get(client, "export-bundle", team.review)))

    names = {n for n in archive.namelist() if n.startswith("risk-of-bias/")}
    assert names == {
        *(
            f"risk-of-bias/jbi-case-series-{kind}.{fmt}"
            for kind in ("traffic-light", "summary")
            for fmt in ("svg", "png", "pdf")
        ),
        "risk-of-bias/jbi-case-series-robvis.csv",
        "risk-of-bias/jbi-case-series-table.csv",
        "risk-of-bias/methods.txt",
    }
    robvis = archive.read("risk-of-bias/jbi-case-series-robvis.csv").decode().splitlines()
    assert robvis[0] == "Study,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Q9,Q10,Overall,Weight"
    assert robvis[1].startswith(f"{approved.study.label},Low,Low,Low,Some concerns,Low")
    assert "<text" in archive.read("risk-of-bias/jbi-case-series-traffic-light.svg").decode()
    assert (
        archive.read("risk-of-bias/methods.txt")
        .decode()
        .startswith(
            "Risk of bias (methodological quality) of the 1 included study was assessed with the "
            "JBI critical appraisal checklist for case series. Two reviewers"
        )
    )


def test_the_exports_page_lists_them_with_counts(client, team, approved):
    client.force_login(team.owner)

    response = client.get(reverse("export-list", args=[team.review.slug]))

    text = response.content.decode()
    assert "1 report, 1 study" in text
    assert reverse("export-bundle", args=[team.review.slug]) in text


def test_all_records_say_who_marked_a_full_text_not_retrieved_when_and_what_was_tried(
    client, team, approved
):
    second = team.review.memberships.get(user__username="bob").user
    sought = make_record(team.review, title="IMT of the bladder in a girl")
    pass_title_abstract(sought, team.reviewer, second)
    services.full_text_not_retrieved(
        record=sought, user=second, note="Library and both authors asked; no reply by March."
    )
    client.force_login(team.senior)

    rows = {int(r["record_id"]): r for r in rows_of(get(client, "export-records", team.review))}

    marked = rows[sought.pk]
    assert marked["final_state"] == "Full text not retrieved"
    assert marked["not_retrieved_by"] == "bob"
    assert marked["not_retrieved_note"] == "Library and both authors asked; no reply by March."
    stored = FullText.objects.get(record=sought)
    assert marked["not_retrieved_at"] == (
        timezone.localtime(stored.updated_at).isoformat(timespec="seconds")
    )
    assert rows[approved.included.pk]["not_retrieved_by"] == ""
    assert rows[approved.included.pk]["not_retrieved_note"] == ""


def test_the_exports_page_lists_the_extraction_data_and_each_analysis_as_downloads(
    client, team, approved
):
    case_series_form(team.review, dual=False)
    patients = [
        {"sex": "Male", "site": "Thorax", "management": "Operative"},
        {"sex": "Female", "site": "Thorax", "management": "Non-operative"},
    ]
    fill(approved.study, team.reviewer, patients=patients, done=True)
    run = analysis_run_now(
        review=team.review, kind="crosstab", spec={"row": "sex", "col": "management"},
        user=team.senior,
    )  # fmt: skip
    client.force_login(team.senior)

    response = client.get(reverse("export-list", args=[team.review.slug]))

    html = response.content.decode()
    text = page_text(response)
    extraction = reverse("extraction-export", args=[team.review.slug])
    for kind in ("patients", "studies"):
        for fmt in ("csv", "xlsx"):
            assert f"{extraction}?kind={kind}&amp;scope=final&amp;format={fmt}" in html
    assert "2 patients in 1 study" in text
    assert reverse("analysis-export-csv", args=[team.review.slug, run.pk]) in html
    assert reverse("analysis-export-xlsx", args=[team.review.slug, run.pk]) in html
    assert "Sex × Management" in text
    assert "join this page" not in text
    # and each link gives the file
    csv_link = client.get(f"{extraction}?kind=patients&scope=final&format=csv")
    assert csv_link.status_code == 200 and "Female" in csv_link.content.decode("utf-8-sig")


def test_the_exports_page_says_when_there_is_no_extraction_or_analysis_yet(client, team):
    client.force_login(team.senior)

    text = page_text(client.get(reverse("export-list", args=[team.review.slug])))

    assert "No extraction form yet" in text
    assert "No analysis has finished yet" in text
    assert "join this page" not in text
    assert "rovisional" not in text, "nothing waits in an empty review"


def test_the_exports_page_says_the_diagram_in_the_zip_is_provisional(client, team):
    make_record(team.review, make_source(team.review, "Embase"), title="Orbital IMT in a boy")
    client.force_login(team.senior)

    text = page_text(client.get(reverse("export-list", args=[team.review.slug])))

    assert (
        "Provisional — 1 record awaits title/abstract decisions, 0 reports await full-text "
        "decisions: the diagram and its data say so on the files themselves"
    ) in text


def test_the_exports_page_counts_what_each_screening_file_holds(client, team):
    first = make_record(team.review, make_source(team.review, "Embase"), title="Orbital IMT")
    make_record(team.review, make_source(team.review, "Medline"), title="Bladder IMT")
    screen(first, team.reviewer, "include")
    screen(first, team.senior, "exclude")
    client.force_login(team.senior)

    response = client.get(reverse("export-list", args=[team.review.slug]))

    html = response.content.decode()

    def count(name: str) -> str:  # the row's last cell, after its link
        url = reverse(name, args=[team.review.slug])
        return re.search(rf'href="{url}".*?<td class="num"[^>]*>([^<]*)</td>', html, re.S)[1]

    assert count("export-records") == "2"
    assert count("export-decisions") == "2"
    assert count("export-included-csv") == "0 reports, 0 studies"
