"""The senior author's pages (reviewer.views.adjudication): conflicts, adjudication,
approvals, studies and a record's decision history. Removals: test_removals_views.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import Adjudication, Approval, Record, Role, Study
from reviewer.screening.queries import state_of
from reviewer.screening.rules import State
from reviewer.services import screening as services
from tests.factories import (
    Endpoint,
    add_member,
    make_reason,
    make_record,
    make_review,
    page_text,
    pass_title_abstract,
    screen,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


# --- records in each state, screened by two given members ---


def ta_conflict(review, first, second, note="", **fields):
    record = make_record(review, **fields)
    screen(record, first, "include", note=note)
    screen(record, second, "exclude")
    return record


def at_full_text(review, first, second, choices, reasons=(None, None), **fields):
    """A record past title/abstract with the two full-text decisions `choices`."""
    record = pass_title_abstract(make_record(review, **fields), first, second)
    screen(record, first, choices[0], stage="ft", reason=reasons[0])
    screen(record, second, choices[1], stage="ft", reason=reasons[1])
    return record


def approved(review, senior, first, second, **fields):
    record = at_full_text(review, first, second, ("include", "include"), **fields)
    return services.approve(review=review, records=[record], user=senior)[0]


def state(record):
    return state_of(Record.objects.get(pk=record.pk)).state


def children(review):
    """A title/abstract conflict and two approved studies, with members of their own."""
    first, second = add_member(review).user, add_member(review).user
    senior = add_member(review, role=Role.SENIOR).user
    adjudicated = ta_conflict(review, first, second)
    services.adjudicate(record=adjudicated, user=senior, stage="ta", choice="exclude")
    return SimpleNamespace(
        conflict=ta_conflict(review, first, second),
        adjudicated=adjudicated,
        report=approved(review, senior, first, second, title="Coffin 2007a"),
        other=approved(review, senior, first, second, title="Coffin 2007b"),
    )


def conflict_kwargs(c):
    return {"pk": c.conflict.pk, "stage": "ta"}


ENDPOINTS = [
    Endpoint("conflict-list", "get", Role.SENIOR, 200),
    Endpoint("conflict-adjudicate", "get", Role.SENIOR, 200, kwargs=conflict_kwargs),
    Endpoint(
        "conflict-adjudicate",
        "post",
        Role.SENIOR,
        302,
        kwargs=conflict_kwargs,
        data=lambda c: {"choice": "include"},
    ),
    Endpoint(
        "conflict-undo",
        "post",
        Role.SENIOR,
        302,
        kwargs=lambda c: {"pk": c.adjudicated.pk, "stage": "ta"},
    ),
    Endpoint("release-list", "get", Role.SENIOR, 200),
    Endpoint("release-list", "post", Role.SENIOR, 302),
    Endpoint("approval-list", "get", Role.SENIOR, 200),
    Endpoint("approval-list", "post", Role.SENIOR, 302),
    Endpoint("study-list", "get", Role.REVIEWER, 200),
    Endpoint(
        "study-rename",
        "post",
        Role.SENIOR,
        302,
        kwargs=lambda c: {"pk": c.report.study_id},
        data=lambda c: {"label": "Coffin 2007"},
    ),
    Endpoint(
        "report-link",
        "post",
        Role.SENIOR,
        302,
        kwargs=lambda c: {"pk": c.report.pk},
        data=lambda c: {"study": c.other.study_id},
    ),
    Endpoint("decision-history", "get", Role.SENIOR, 200, kwargs=lambda c: {"pk": c.conflict.pk}),
]

WRONG_METHODS = [
    Endpoint("conflict-list", "post", Role.SENIOR, 405),
    Endpoint("conflict-adjudicate", "put", Role.SENIOR, 405, kwargs=conflict_kwargs),
    Endpoint(
        "conflict-undo",
        "get",
        Role.SENIOR,
        405,
        kwargs=lambda c: {"pk": c.adjudicated.pk, "stage": "ta"},
    ),
    Endpoint("release-list", "put", Role.SENIOR, 405),
    Endpoint("approval-list", "put", Role.SENIOR, 405),
    Endpoint("study-list", "post", Role.REVIEWER, 405),
    Endpoint("study-rename", "get", Role.SENIOR, 405, kwargs=lambda c: {"pk": c.report.study_id}),
    Endpoint("report-link", "get", Role.SENIOR, 405, kwargs=lambda c: {"pk": c.report.pk}),
    Endpoint("decision-history", "post", Role.SENIOR, 405, kwargs=lambda c: {"pk": c.conflict.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def url(name, review, *args):
    return reverse(name, args=[review.slug, *args])


@pytest.fixture
def reasons(team):
    return SimpleNamespace(
        adults=make_reason(team.review, "Adults only"),
        design=make_reason(team.review, "Review article"),
    )


@pytest.fixture
def waiting(team, reasons):
    """One of each kind of record waiting for a senior, and one that waits for nobody."""
    review, first, second = team.review, team.reviewer, team.owner
    return SimpleNamespace(
        ta=ta_conflict(review, first, second, title="IMT of the lung in a girl", note="Adult?"),
        ft=at_full_text(
            review, first, second, ("include", "exclude"), (None, reasons.adults), title="ALK IMT"
        ),
        reason=at_full_text(
            review,
            first,
            second,
            ("exclude", "exclude"),
            (reasons.adults, reasons.design),
            title="Bladder IMT review",
        ),
        agreed=pass_title_abstract(
            make_record(review, title="Agreed record, no conflict"), first, second
        ),
    )


# --- the conflicts list ---


def test_conflicts_list_shows_every_kind_waiting_with_counts(client, team, waiting):
    client.force_login(team.senior)

    text = page_text(client.get(url("conflict-list", team.review)))

    assert "Waiting for a senior (3)" in text
    assert "1 Conflict (title/abstract)" in text
    assert "1 Conflict (full text)" in text
    assert "1 Excluded at full text: reason to choose" in text
    assert "IMT of the lung in a girl" in text
    assert "Choose the reason to report" in text
    assert "Agreed record, no conflict" not in text


def test_conflicts_list_filters_by_stage(client, team, waiting):
    client.force_login(team.senior)

    text = page_text(client.get(url("conflict-list", team.review) + "?stage=ft"))

    assert "ALK IMT" in text
    assert "Bladder IMT review" in text
    assert "IMT of the lung in a girl" not in text


def test_conflicts_list_links_each_record_to_its_adjudication(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(url("conflict-list", team.review))

    assertContains(response, url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"))
    assertContains(response, url("conflict-adjudicate", team.review, waiting.reason.pk, "ft"))


def test_empty_conflicts_list_says_nothing_waits(client, team):
    client.force_login(team.senior)

    assertContains(client.get(url("conflict-list", team.review)), "Nothing waits for you")


def test_conflicts_list_query_count_does_not_grow_with_records(client, team):
    client.force_login(team.senior)

    def count(n):
        for _ in range(n):
            ta_conflict(team.review, team.reviewer, team.owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("conflict-list", team.review))
        assert response.status_code == 200
        return len(queries)

    few = count(3)
    many = count(27)

    assert few == many


# --- adjudicating ---


def test_adjudication_page_shows_the_record_and_both_decisions(client, team, waiting):
    client.force_login(team.senior)

    text = page_text(client.get(url("conflict-adjudicate", team.review, waiting.ta.pk, "ta")))

    assert "IMT of the lung in a girl" in text
    assert "Conflict 1 of 3" in text
    assert "reviewer" in text and "owner" in text
    assert "Include" in text and "Exclude" in text
    assert "Adult?" in text  # the first reviewer's note


def test_adjudication_page_offers_the_keys(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"))

    assertContains(response, 'data-key="i"')
    assertContains(response, 'data-key="x"')
    assertContains(response, 'data-key="j"')


def test_including_a_title_abstract_conflict_sends_it_to_full_text_and_opens_the_next(
    client, team, waiting
):
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"), {"choice": "include"}
    )

    assert state(waiting.ta) is State.FT_SOUGHT
    assertRedirects(
        response,
        url("conflict-adjudicate", team.review, waiting.ft.pk, "ft"),
        fetch_redirect_response=False,
    )
    text = page_text(client.get(response.url))
    assert f"Record {waiting.ta.pk} included at title/abstract" in text


def test_excluding_a_title_abstract_conflict_excludes_it(client, team, waiting):
    client.force_login(team.senior)

    client.post(
        url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"),
        {"choice": "exclude", "note": "Adults only"},
    )

    assert state(waiting.ta) is State.TA_EXCLUDED
    assert Adjudication.objects.get(record=waiting.ta).note == "Adults only"


def test_full_text_reason_pick_is_the_reason_reported(client, team, waiting, reasons):
    client.force_login(team.senior)

    client.post(
        url("conflict-adjudicate", team.review, waiting.reason.pk, "ft"),
        {"choice": "exclude", "reason": reasons.design.pk},
    )

    outcome = state_of(Record.objects.get(pk=waiting.reason.pk))
    assert outcome.state is State.FT_EXCLUDED
    assert outcome.reason_id == reasons.design.pk
    assert Adjudication.objects.get(record=waiting.reason).reason == reasons.design


def test_full_text_exclusion_without_a_reason_is_refused_with_the_message(client, team, waiting):
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, waiting.reason.pk, "ft"),
        {"choice": "exclude"},
        follow=True,
    )

    assertContains(response, "Choose the reason for excluding this full text.")
    assert not Adjudication.objects.exists()


def test_full_text_conflict_preselects_the_one_reason_given(client, team, waiting, reasons):
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.ft.pk, "ft"))

    assertContains(response, f'<option value="{reasons.adults.pk}" selected>')
    assertContains(response, "Given by the reviewers")
    assertContains(response, "No PDF stored for this record.")


def test_full_text_page_links_to_the_stored_pdf(client, team, reasons):
    record = pass_title_abstract(make_record(team.review), team.reviewer, team.owner)
    upload = SimpleUploadedFile("coffin.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    services.full_text_attach(record=record, user=team.reviewer, upload=upload)
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, team.owner, "exclude", stage="ft", reason=reasons.adults)
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, record.pk, "ft"))

    try:  # the full-text pages are another module's; without them there is no link to give
        pdf = reverse("fulltext-pdf", kwargs={"slug": team.review.slug, "pk": record.pk})
    except NoReverseMatch:
        assertNotContains(response, "Open the full text")
    else:
        assertContains(response, f'href="{pdf}"')


def test_both_exclusions_with_different_reasons_offer_no_include(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.reason.pk, "ft"))

    assertContains(response, "Exclude with this reason")
    assertNotContains(response, 'value="include"')


def test_record_without_a_conflict_says_so_and_hides_the_decisions(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.agreed.pk, "ta"))

    assertContains(response, "This record has no conflict to adjudicate")
    assertNotContains(response, "The two decisions")
    assertNotContains(response, 'name="choice"')


def test_adjudicating_a_record_without_a_conflict_stores_nothing(client, team, waiting):
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, waiting.agreed.pk, "ta"),
        {"choice": "exclude"},
        follow=True,
    )

    assertContains(response, "This record has no conflict to adjudicate at this stage.")
    assert not Adjudication.objects.exists()
    assert state(waiting.agreed) is State.FT_SOUGHT


def test_unknown_stage_gets_404(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(f"/reviews/{team.review.slug}/conflicts/{waiting.ta.pk}/xx/")

    assert response.status_code == 404


def test_after_the_last_conflict_the_list_says_none_is_left(client, team):
    record = ta_conflict(team.review, team.reviewer, team.owner)
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, record.pk, "ta"), {"choice": "exclude"}
    )

    assertRedirects(response, url("conflict-list", team.review), fetch_redirect_response=False)
    assertContains(client.get(response.url), "No more records wait for a senior.")


def test_htmx_page_load_updates_the_address(client, team, waiting):
    client.force_login(team.senior)
    page = url("conflict-adjudicate", team.review, waiting.ft.pk, "ft")

    response = client.get(page, headers={"HX-Request": "true"})

    assert response["HX-Push-Url"] == page


# --- undoing an adjudication ---


def test_the_page_after_an_adjudication_offers_its_undo_by_key_and_its_history(
    client, team, waiting
):
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"),
        {"choice": "include"},
        follow=True,
    )

    text = page_text(response)
    assert f"Record {waiting.ta.pk} included at title/abstract" in text
    assert f"You decided Include for record {waiting.ta.pk}" in text
    assertContains(response, f'action="{url("conflict-undo", team.review, waiting.ta.pk, "ta")}"')
    assertContains(response, 'data-key="u"')
    assertContains(response, "<dd>Undo the adjudication just made</dd>", html=True)
    assertContains(response, url("decision-history", team.review, waiting.ta.pk))
    # offered once, with the message: a reload shows neither
    assertNotContains(client.get(response.request["PATH_INFO"]), 'data-key="u"')


def test_the_conflict_list_offers_the_undo_after_the_last_conflict(client, team):
    record = ta_conflict(team.review, team.reviewer, team.owner)
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, record.pk, "ta"), {"choice": "exclude"}, follow=True
    )

    assertContains(response, "No more records wait for a senior.")
    assertContains(response, url("conflict-undo", team.review, record.pk, "ta"))


def test_undo_puts_the_conflict_back_with_its_note_and_reason_in_the_form(
    client, team, waiting, reasons
):
    client.force_login(team.senior)
    client.post(
        url("conflict-adjudicate", team.review, waiting.ft.pk, "ft"),
        {"choice": "exclude", "reason": reasons.design.pk, "note": "Mean age 45"},
    )
    assert state(waiting.ft) is State.FT_EXCLUDED

    response = client.post(url("conflict-undo", team.review, waiting.ft.pk, "ft"))

    assertRedirects(
        response,
        url("conflict-adjudicate", team.review, waiting.ft.pk, "ft"),
        fetch_redirect_response=False,
    )
    assert state(waiting.ft) is State.FT_CONFLICT
    assert not Adjudication.objects.exists()
    page = client.get(response.url)
    text = page_text(page)
    assert f"The adjudication of record {waiting.ft.pk} at full text is withdrawn" in text
    assert "The note and reason of the adjudication you withdrew are back below." in text
    assertContains(page, "Mean age 45</textarea>")
    assertContains(page, f'<option value="{reasons.design.pk}" selected>')
    assertContains(page, "The two decisions")


def test_undo_by_htmx_answers_with_the_conflict_page(client, team, waiting):
    client.force_login(team.senior)
    client.post(
        url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"),
        {"choice": "exclude", "note": "Adults"},
    )
    page = url("conflict-adjudicate", team.review, waiting.ta.pk, "ta")

    response = client.post(
        url("conflict-undo", team.review, waiting.ta.pk, "ta"),
        headers={"HX-Request": "true"},
        follow=True,
    )

    assert response["HX-Push-Url"] == page
    assertContains(response, "Adults</textarea>")
    assert state(waiting.ta) is State.TA_CONFLICT


def test_undo_is_refused_once_full_text_work_depends_on_it(client, team, waiting):
    services.adjudicate(record=waiting.ta, user=team.senior, stage="ta", choice="include")
    screen(waiting.ta, team.reviewer, "include", stage="ft")
    client.force_login(team.senior)

    page = client.get(url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"))
    assertContains(page, "the title/abstract adjudication is final.")
    assertNotContains(page, "Withdraw this adjudication")

    response = client.post(url("conflict-undo", team.review, waiting.ta.pk, "ta"), follow=True)

    assertContains(response, "This record has been decided at full text")
    assert Adjudication.objects.get().record_id == waiting.ta.pk
    assert state(waiting.ta) is State.FT_ONE


def test_an_adjudicated_record_page_offers_to_withdraw_it(client, team, waiting):
    services.adjudicate(record=waiting.ta, user=team.senior, stage="ta", choice="exclude")
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"))

    assertContains(response, "Withdraw this adjudication")
    assertContains(response, url("conflict-undo", team.review, waiting.ta.pk, "ta"))


@pytest.mark.parametrize("role", [Role.REVIEWER])
def test_a_reviewer_cannot_withdraw_an_adjudication(client, team, waiting, role):
    services.adjudicate(record=waiting.ta, user=team.senior, stage="ta", choice="exclude")
    client.force_login(team.user(role))

    response = client.post(url("conflict-undo", team.review, waiting.ta.pk, "ta"))

    assert response.status_code == 403
    assert Adjudication.objects.get().record_id == waiting.ta.pk
    assert state(waiting.ta) is State.TA_EXCLUDED


# --- skipping keeps the note ---


def test_skip_keeps_the_note_typed_for_when_the_senior_returns(client, team, waiting, reasons):
    client.force_login(team.senior)
    page = url("conflict-adjudicate", team.review, waiting.ft.pk, "ft")

    response = client.post(
        page, {"skip": "1", "note": "Ask Ana about the age range", "reason": reasons.design.pk}
    )

    assertRedirects(
        response,
        url("conflict-adjudicate", team.review, waiting.reason.pk, "ft"),
        fetch_redirect_response=False,
    )
    assert not Adjudication.objects.exists()
    assert "Your note on record" in page_text(client.get(response.url))
    back = client.get(page)
    assertContains(back, "Ask Ana about the age range</textarea>")
    assertContains(back, f'<option value="{reasons.design.pk}" selected>')
    assert "Your note from before you skipped this conflict is back below." in page_text(back)
    # adjudicated, the note is the adjudication's and the draft is gone
    client.post(page, {"choice": "include", "note": "Ask Ana about the age range"})
    client.post(url("conflict-undo", team.review, waiting.ft.pk, "ft"))
    client.post(page, {"skip": "1", "note": ""})
    assertNotContains(client.get(page), "Ask Ana")


def test_skip_is_a_button_of_the_form_with_the_key(client, team, waiting):
    client.force_login(team.senior)

    response = client.get(url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"))

    assertContains(response, 'form="adjudicate-form" name="skip" value="1" formnovalidate')
    assertContains(response, 'id="adjudicate-form"')


def test_skip_without_a_note_says_nothing(client, team, waiting):
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, waiting.ta.pk, "ta"), {"skip": "1"}, follow=True
    )

    assert "Your note on record" not in page_text(response)
    assert state(waiting.ta) is State.TA_CONFLICT


# --- approvals ---


def test_approvals_list_shows_inclusions_waiting(client, team):
    at_full_text(team.review, team.reviewer, team.owner, ("include", "include"), title="Kept IMT")
    client.force_login(team.senior)

    text = page_text(client.get(url("approval-list", team.review)))

    assert "Inclusions waiting for approval (1)" in text
    assert "Kept IMT" in text


def test_bulk_approval_approves_every_ticked_record(client, team):
    records = [
        at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
        for _ in range(3)
    ]
    client.force_login(team.senior)

    response = client.post(
        url("approval-list", team.review), {"records": [r.pk for r in records]}, follow=True
    )

    assert Approval.objects.count() == 3
    assert Study.objects.count() == 3
    assertContains(response, "3 inclusions approved")
    assert all(state(r) is State.APPROVED for r in records)


def test_bulk_approval_with_one_invalid_record_approves_none(client, team):
    good = at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
    conflict = ta_conflict(team.review, team.reviewer, team.owner)
    client.force_login(team.senior)

    response = client.post(
        url("approval-list", team.review), {"records": [good.pk, conflict.pk]}, follow=True
    )

    assertContains(response, f"Record {conflict.pk} is not an inclusion waiting for approval")
    assert not Approval.objects.exists()
    assert state(good) is State.FT_INCLUDED


def test_approving_a_record_of_another_review_approves_nothing(client, team):
    good = at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
    elsewhere = children(make_review(title="Adult IMT"))
    client.force_login(team.senior)

    response = client.post(
        url("approval-list", team.review),
        {"records": [good.pk, elsewhere.conflict.pk]},
        follow=True,
    )

    assertContains(response, "is not in this review; nothing was approved")
    assert not Approval.objects.filter(review=team.review).exists()


def test_one_record_can_be_approved_on_its_own(client, team):
    first = at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
    second = at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
    client.force_login(team.senior)

    client.post(url("approval-list", team.review), {"only": first.pk, "records": [second.pk]})

    assert list(Approval.objects.values_list("record_id", flat=True)) == [first.pk]


def test_approving_nothing_ticked_asks_to_tick(client, team):
    client.force_login(team.senior)

    response = client.post(url("approval-list", team.review), {}, follow=True)

    assertContains(response, "Tick the inclusions to approve.")


def test_approved_reports_are_listed_below_with_their_study(client, team):
    approved(team.review, team.senior, team.reviewer, team.owner, title="Coffin report", year=2007)
    client.force_login(team.senior)

    text = page_text(client.get(url("approval-list", team.review)))

    assert "Approved (1 report of 1 study)" in text
    assert "Coffin report" in text


def test_approvals_list_query_count_does_not_grow_with_records(client, team):
    client.force_login(team.senior)

    def count(n):
        for _ in range(n):
            at_full_text(team.review, team.reviewer, team.owner, ("include", "include"))
            approved(team.review, team.senior, team.reviewer, team.owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("approval-list", team.review))
        assert response.status_code == 200
        return len(queries)

    few = count(3)
    many = count(27)

    assert few == many


# --- studies ---


@pytest.fixture
def two_studies(team):
    return SimpleNamespace(
        a=approved(team.review, team.senior, team.reviewer, team.owner, title="First report"),
        b=approved(team.review, team.senior, team.reviewer, team.owner, title="Second report"),
    )


def test_any_member_sees_the_studies_and_their_reports(client, team, two_studies):
    client.force_login(team.reviewer)

    response = client.get(url("study-list", team.review))

    text = page_text(response)
    assert "Included studies (2)" in text
    assert "First report" in text and "Second report" in text
    assertNotContains(response, "Rename")  # a senior's action


def test_the_move_menu_names_no_study_until_the_senior_chooses_one(client, team, two_studies):
    # walk: "A report of [Second report's study]" was preselected beside the first study's
    # report, which read as a fact about it
    client.force_login(team.senior)

    response = client.get(url("study-list", team.review))

    html = response.content.decode()
    menu = html[html.index(f'id="move-{two_studies.a.pk}"') :]
    menu = menu[: menu.index("</select>")]
    assert "required" in menu.split(">", 1)[0]
    assert '<option value="" selected>— choose a study —</option>' in menu
    assert menu.count(" selected") == 1
    assert "Same study as" in page_text(response)


def test_linking_a_report_merges_two_studies(client, team, two_studies):
    client.force_login(team.senior)
    target = two_studies.b.study

    response = client.post(
        url("report-link", team.review, two_studies.a.pk), {"study": target.pk}, follow=True
    )

    assert Study.objects.count() == 1
    assert set(target.reports.values_list("record_id", flat=True)) == {
        two_studies.a.record_id,
        two_studies.b.record_id,
    }
    assertContains(response, "had no other report and was removed")


def test_linking_to_a_study_of_another_review_is_refused(client, team, two_studies):
    other = children(make_review(title="Adult IMT"))
    client.force_login(team.senior)

    response = client.post(
        url("report-link", team.review, two_studies.a.pk),
        {"study": other.report.study_id},
        follow=True,
    )

    assertContains(response, "Choose the study this report belongs to.")
    assert Approval.objects.get(pk=two_studies.a.pk).study_id == two_studies.a.study_id


def test_renaming_a_study(client, team, two_studies):
    client.force_login(team.senior)

    response = client.post(
        url("study-rename", team.review, two_studies.a.study_id),
        {"label": "Coffin 2007"},
        follow=True,
    )

    assert Study.objects.get(pk=two_studies.a.study_id).label == "Coffin 2007"
    assertContains(response, "is now called “Coffin 2007”")


def test_renaming_to_nothing_is_refused(client, team, two_studies):
    client.force_login(team.senior)

    response = client.post(
        url("study-rename", team.review, two_studies.a.study_id), {"label": " "}, follow=True
    )

    assertContains(response, "A study needs a label")


# --- history ---


def test_history_lists_every_decision_with_withdrawn_ones(client, team):
    record = make_record(team.review, title="Changed minds")
    screen(record, team.reviewer, "maybe")
    services.withdraw(record=record, user=team.reviewer, stage="ta")
    screen(record, team.reviewer, "include")
    screen(record, team.owner, "exclude", note="Adults")
    client.force_login(team.senior)

    text = page_text(client.get(url("decision-history", team.review, record.pk)))

    assert "Withdrawn" in text
    assert "Maybe" in text
    assert "(changed later)" in text
    assert "Adults" in text
    assert "Conflict (title/abstract)" in text


def test_history_shows_the_adjudication(client, team, waiting):
    services.adjudicate(
        record=waiting.ta, user=team.senior, stage="ta", choice="exclude", note="Adult cohort"
    )
    client.force_login(team.senior)

    text = page_text(client.get(url("decision-history", team.review, waiting.ta.pk)))

    assert "Adjudicated by senior" in text
    assert "Adult cohort" in text


# --- release to full text (blinded reviews) ---


def agreed(review, first, second, **fields):
    """A record both reviewers included at title/abstract: it waits for release."""
    record = make_record(review, **fields)
    screen(record, first, "include")
    screen(record, second, "maybe")
    return record


def test_the_senior_releases_the_agreed_records_and_reviewers_then_assess_them(client, team):
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob, title="IMT of the lung")
    liver = agreed(team.review, team.reviewer, bob, title="IMT of the liver")
    ft_queue = reverse("screen-queue", args=[team.review.slug, "ft"])
    client.force_login(team.reviewer)
    assert "nothing waiting for you" in page_text(client.get(ft_queue)).lower()

    client.force_login(team.senior)
    dashboard = page_text(client.get(url("review-dashboard", team.review)))
    assert "2 records passed title/abstract" in dashboard
    page = client.get(url("release-list", team.review))
    assertContains(page, "IMT of the lung")
    assertContains(page, "Release 2 records to full text")
    token = page.context["release"]["token"]
    response = client.post(url("release-list", team.review), {"expected": token}, follow=True)

    assert "2 records released to full text" in page_text(response)
    assert "No record waits for release" in page_text(response)
    log = page_text(response).split("Releases made")[1]
    assert "senior" in log and "2" in log
    assert {state(lung), state(liver)} == {State.FT_SOUGHT}
    client.force_login(team.reviewer)
    response = client.get(ft_queue, follow=True)
    assert "IMT of the lung" in page_text(response)


def test_a_release_of_a_set_that_changed_since_the_page_releases_nothing(client, team):
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob, title="IMT of the lung")
    client.force_login(team.senior)
    token = client.get(url("release-list", team.review)).context["release"]["token"]
    liver = agreed(team.review, team.reviewer, bob, title="IMT of the liver")  # meanwhile

    response = client.post(url("release-list", team.review), {"expected": token}, follow=True)

    assert "changed since the page was shown" in page_text(response)
    assert "2 records wait now" in page_text(response)
    assert {state(lung), state(liver)} == {State.TA_PASSED}


def test_a_reviewer_is_not_offered_the_release_and_may_not_release(client, team):
    bob = add_member(team.review).user
    agreed(team.review, team.reviewer, bob)
    client.force_login(team.reviewer)

    assertNotContains(client.get(url("review-dashboard", team.review)), "to full text</button>")
    assert client.post(url("release-list", team.review), {"expected": "x"}).status_code == 403


def test_adjudicating_the_last_open_record_releases_the_waiting_ones(client, team):
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob, title="IMT of the lung")
    disputed = ta_conflict(team.review, team.reviewer, bob, title="Disputed")
    client.force_login(team.senior)

    response = client.post(
        url("conflict-adjudicate", team.review, disputed.pk, "ta"),
        {"choice": "exclude"},
        follow=True,
    )

    assert "No record is open at title/abstract any more" in page_text(response)
    assert "1 record agreed by the reviewers was released to full text" in page_text(response)
    assert state(lung) is State.FT_SOUGHT
    assert Record.objects.get(pk=lung.pk).released_by == team.senior


def test_an_unblinded_review_has_nothing_to_release(client, team):
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob)
    client.force_login(team.senior)

    assert "reach full text at once" in page_text(client.get(url("release-list", team.review)))
    assert state(lung) is State.FT_SOUGHT


def test_blinding_a_review_again_keeps_its_full_texts_at_full_text(client, team):
    team.review.blinded = False
    team.review.save(update_fields=["blinded"])
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob)
    screen(lung, team.reviewer, "include", stage="ft")
    client.force_login(team.owner)
    settings = client.get(url("review-settings", team.review)).context["form"].initial

    data = {k: v for k, v in settings.items() if v is not None and k != "blinded"}
    data.update(blinded="on", highlight_include="", highlight_exclude="")
    client.post(url("review-settings", team.review), data)

    team.review.refresh_from_db()
    assert team.review.blinded
    assert state(lung) is State.FT_ONE


def test_a_records_history_says_who_released_it(client, team):
    bob = add_member(team.review).user
    lung = agreed(team.review, team.reviewer, bob)
    client.force_login(team.senior)
    history = url("decision-history", team.review, lung.pk)
    assert "waits for a senior to release it" in page_text(client.get(history))

    services.release_to_full_text(review=team.review, user=team.senior, records=[lung])

    assert "Released to full text by senior" in page_text(client.get(history))


def test_a_title_abstract_conflict_shows_the_exclusion_reason_given(client, team):
    reason = make_reason(team.review, "Adults only")
    record = make_record(team.review, title="IgG4 disease in adults")
    screen(record, team.reviewer, "include")
    screen(record, team.owner, "exclude", reason=reason)
    client.force_login(team.senior)

    text = page_text(client.get(url("conflict-adjudicate", team.review, record.pk, "ta")))

    assert "Reason: Adults only" in text
