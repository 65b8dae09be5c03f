"""CSV exports of screening (reviewer.project.exports): every decision, and agreement."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from reviewer.models import FullText, Role, SourceKind
from reviewer.services import screening as services
from tests.factories import (
    Endpoint,
    add_member,
    make_reason,
    make_record,
    make_review,
    make_source,
    make_user,
    pass_title_abstract,
    screen,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """The exports name no child object."""
    return SimpleNamespace()


ENDPOINTS = [
    Endpoint("export-decisions", "get", Role.SENIOR, 200),
    Endpoint("export-agreement", "get", Role.SENIOR, 200),
]

WRONG_METHODS = [
    Endpoint("export-decisions", "post", Role.SENIOR, 405),
    Endpoint("export-agreement", "post", Role.SENIOR, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # The exports name no child object, so there is no other review's child to try.
    test_child_of_another_review_gets_404_even_for_an_owner = None


# --- helpers ---


def download(client, name, review):
    response = client.get(reverse(name, args=[review.slug]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return response, body


def rows_of(body):
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def bob(team):
    return add_member(team.review, make_user("bob"), Role.REVIEWER).user


# --- decisions ---


def test_decisions_file_is_utf8_with_a_bom_named_after_the_review_and_day(client, team):
    make_record(team.review, title="Tumeur myofibroblastique inflammatoire de l’enfant")
    screen(team.review.records.get(), team.reviewer, "include")
    client.force_login(team.senior)

    response, body = download(client, "export-decisions", team.review)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="pediatric-imt-decisions-20')
    assert disposition.endswith('.csv"')
    assert "Tumeur myofibroblastique inflammatoire de l’enfant" in body.decode("utf-8-sig")


def test_decisions_file_has_one_row_per_decision_with_every_column(client, team, bob):
    pubmed = make_source(team.review, "PubMed")
    first = make_record(team.review, pubmed, title="IMT of the lung in children")
    second = make_record(team.review, pubmed, title="IgG4-related disease in adults")
    screen(first, team.reviewer, "include", note="Children, 12 patients")
    screen(first, bob, "maybe")
    screen(second, team.reviewer, "exclude")
    client.force_login(team.owner)

    _, body = download(client, "export-decisions", team.review)

    header = body.decode("utf-8-sig").splitlines()[0]
    assert header == (
        "record_id,source,title,stage,reviewer,decision,reason,note,decided_at,"
        "adjudicated_result,adjudicated_reason,adjudicated_by,final_state"
    )
    rows = rows_of(body)
    assert [(r["record_id"], r["reviewer"], r["decision"]) for r in rows] == [
        (str(first.pk), "reviewer", "include"),
        (str(first.pk), "bob", "maybe"),
        (str(second.pk), "reviewer", "exclude"),
    ]
    assert rows[0]["source"] == "PubMed"
    assert rows[0]["title"] == "IMT of the lung in children"
    assert rows[0]["stage"] == "ta"
    assert rows[0]["note"] == "Children, 12 patients"
    assert rows[0]["decided_at"].startswith("20")
    # a blinded review: agreed, the record waits for the senior's release to full text
    assert rows[0]["final_state"] == "Passed title/abstract: waiting for release to full text"
    assert rows[2]["final_state"] == "Waiting for a second reviewer"
    assert rows[2]["adjudicated_result"] == ""


def test_a_withdrawn_decision_is_not_exported_as_current(client, team, bob):
    record = make_record(team.review)
    screen(record, team.reviewer, "exclude")
    services.withdraw(record=record, user=team.reviewer, stage="ta")
    screen(record, bob, "include")
    client.force_login(team.senior)

    _, body = download(client, "export-decisions", team.review)

    rows = rows_of(body)
    assert [(r["reviewer"], r["decision"]) for r in rows] == [("bob", "include")]


def test_adjudicated_conflicts_carry_the_result_reason_and_who(client, team, bob):
    reason = make_reason(team.review, "Adults only")
    record = pass_title_abstract(make_record(team.review), team.reviewer, bob)
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, bob, "exclude", stage="ft", reason=reason)
    services.adjudicate(
        record=record, user=team.senior, stage="ft", choice="exclude", reason=reason
    )
    client.force_login(team.senior)

    _, body = download(client, "export-decisions", team.review)

    full_text = [r for r in rows_of(body) if r["stage"] == "ft"]
    assert [(r["reviewer"], r["decision"], r["reason"]) for r in full_text] == [
        ("reviewer", "include", ""),
        ("bob", "exclude", "Adults only"),
    ]
    for row in full_text:
        assert row["adjudicated_result"] == "exclude"
        assert row["adjudicated_reason"] == "Adults only"
        assert row["adjudicated_by"] == "senior"
        assert row["final_state"] == "Excluded at full text"
    title_abstract = [r for r in rows_of(body) if r["stage"] == "ta"]
    assert len(title_abstract) == 2, "title/abstract decisions come first, then full text"
    assert [r["stage"] for r in rows_of(body)] == ["ta", "ta", "ft", "ft"]


def test_text_that_excel_would_run_as_a_formula_is_defused(client, team):
    record = make_record(team.review, title='=HYPERLINK("http://x")')
    screen(record, team.reviewer, "include", note="+1 for inclusion")
    client.force_login(team.senior)

    _, body = download(client, "export-decisions", team.review)

    (row,) = rows_of(body)
    assert row["title"] == '\'=HYPERLINK("http://x")'
    assert row["note"] == "'+1 for inclusion"


def test_another_reviews_decisions_are_not_exported(client, team):
    other = make_review(title="Adult IMT")
    stranger = add_member(other, make_user("stranger")).user
    screen(make_record(other, title="Adult IMT of the lung"), stranger, "include")
    client.force_login(team.senior)

    _, body = download(client, "export-decisions", team.review)

    assert rows_of(body) == []


# --- agreement ---


def test_agreement_file_gives_kappa_and_the_table_per_stage_and_pair(client, team, bob):
    # alice = team.reviewer, bob: 2 include/include, 1 include/exclude, 1 exclude/exclude
    for choices in [("include", "include"), ("include", "include"), ("include", "exclude"),
                    ("exclude", "exclude")]:  # fmt: skip
        record = make_record(team.review)
        screen(record, team.reviewer, choices[0])
        screen(record, bob, choices[1])
    client.force_login(team.senior)

    response, body = download(client, "export-agreement", team.review)

    assert body.startswith(b"\xef\xbb\xbf")
    assert "pediatric-imt-agreement-20" in response["Content-Disposition"]
    rows = rows_of(body)
    ta = [r for r in rows if r["stage"] == "ta"]
    # pooled ("all") and the one pair, each in the 3x3 and the binary view
    assert [(r["first_reviewer"], r["categories"]) for r in ta] == [
        ("all", "include/exclude/maybe"),
        ("all", "include or maybe/exclude"),
        ("reviewer", "include/exclude/maybe"),
        ("reviewer", "include or maybe/exclude"),
    ]
    pair = ta[2]
    assert pair["second_reviewer"] == "bob"
    assert pair["records"] == "4" and pair["agreed"] == "3"
    assert pair["percent_agreement"] == "75.0"
    # R: po=0.75, pe=(3*2+1*2)/16=0.5, kappa=(0.75-0.5)/(1-0.5)=0.5
    assert pair["expected_agreement"] == "0.5000"
    assert pair["kappa"] == "0.5000"
    assert pair["first_include_second_exclude"] == "1"
    assert pair["first_include_second_include"] == "2"
    assert pair["first_maybe_second_maybe"] == "0"
    (ft,) = [r for r in rows if r["stage"] == "ft"]
    assert ft["records"] == "0" and ft["kappa"] == ""
    assert ft["kappa_note"].startswith("No records")
    assert ft["first_maybe_second_maybe"] == ""


def test_a_full_text_not_retrieved_is_in_the_decisions_file_with_who_when_and_the_note(
    client, team, bob
):
    pubmed = make_source(team.review, "PubMed")
    sought = make_record(team.review, pubmed, title="IMT of the bladder in a girl")
    later = make_record(team.review, pubmed, title="IMT of the orbit in a boy")
    citations = make_source(team.review, "Reference lists", kind=SourceKind.OTHER)
    cited = make_record(team.review, citations, title="IMT of the larynx: a case")
    pass_title_abstract(sought, team.reviewer, bob)
    screen(later, team.reviewer, "include")
    services.full_text_not_retrieved(
        record=sought, user=bob, note="Library and both authors asked; no reply by March."
    )
    services.full_text_not_retrieved(record=cited, user=team.reviewer, note="Not held anywhere.")
    client.force_login(team.senior)

    _, body = download(client, "export-decisions", team.review)

    rows = rows_of(body)
    assert [(r["record_id"], r["stage"], r["reviewer"], r["decision"]) for r in rows] == [
        (str(sought.pk), "ta", "reviewer", "include"),
        (str(sought.pk), "ta", "bob", "include"),
        (str(sought.pk), "ft", "bob", "not retrieved"),
        (str(later.pk), "ta", "reviewer", "include"),
        (str(cited.pk), "ft", "reviewer", "not retrieved"),  # found by citation: no TA
    ]
    marked = rows[2]
    assert marked["note"] == "Library and both authors asked; no reply by March."
    stored = FullText.objects.get(record=sought)
    assert marked["decided_at"] == timezone.localtime(stored.updated_at).isoformat("T", "seconds")
    assert marked["final_state"] == "Full text not retrieved"
    assert (marked["reason"], marked["adjudicated_result"]) == ("", "")
    assert rows[4]["note"] == "Not held anywhere."


def test_a_title_abstract_exclusion_reason_is_in_the_decisions_file(client, team, bob):
    reason = make_reason(team.review, "Adults only")
    record = make_record(team.review, title="IgG4-related disease in adults")
    screen(record, team.reviewer, "exclude", reason=reason)
    screen(record, bob, "exclude")
    client.force_login(team.owner)

    _, body = download(client, "export-decisions", team.review)

    assert [(r["reviewer"], r["stage"], r["reason"]) for r in rows_of(body)] == [
        ("reviewer", "ta", "Adults only"),
        ("bob", "ta", ""),
    ]
