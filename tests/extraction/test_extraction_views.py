"""Extraction pages (extraction.views.entry, forms, consensus): permissions and behaviour."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from extraction.models import Extraction, Field, FieldChoice
from extraction.templates_catalog import CASE_SERIES
from reviewer.models import Role
from reviewer.services.screening import full_text_attach
from tests.extraction.helpers import case_series_form, field_of, fill, make_study
from tests.factories import (
    Endpoint,
    add_member,
    make_record,
    make_user,
    page_text,
    pass_title_abstract,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


def children(review):
    """A study with two done copies and a consensus, a field, a choice, a spare field."""
    case_series_form(review)
    study = make_study(review)
    people = [m.user for m in review.memberships.order_by("pk")[:2]]
    for person in people:
        fill(study, person, study_values={"country": person.username}, done=True)
    consensus = fill(study, None, study_values={"design": "Other", "patients": "3", "ipd": "yes"})
    return SimpleNamespace(
        study=study,
        consensus=consensus,
        field=field_of(review, "country"),
        spare=field_of(review, "myogenin"),
        choice=FieldChoice.objects.get(field__review=review, label="Thorax"),
    )


def study(c):
    return {"pk": c.study.pk}


def consensus(c):
    return {"pk": c.consensus.pk}


def field(c):
    return {"pk": c.field.pk}


ENDPOINTS = [
    Endpoint("extraction-overview", "get", Role.REVIEWER, 200),
    Endpoint("extraction-study", "get", Role.REVIEWER, 200, study),
    Endpoint("extraction-start", "post", Role.REVIEWER, 302, study),
    Endpoint("extraction-copy", "get", Role.REVIEWER, 200, consensus),
    Endpoint("extraction-copy", "post", Role.SENIOR, 302, consensus),
    Endpoint("extraction-done", "post", Role.SENIOR, 302, consensus),
    Endpoint("extraction-reopen", "post", Role.SENIOR, 302, consensus),
    Endpoint("extraction-compare", "get", Role.SENIOR, 200, study),
    Endpoint("extraction-consensus-start", "post", Role.SENIOR, 302, study),
    Endpoint(
        "extraction-take",
        "post",
        Role.SENIOR,
        302,
        consensus,
        lambda c: {"side": "a", "field": c.field.pk},
    ),
    Endpoint("extraction-form", "get", Role.OWNER, 200),
    Endpoint("extraction-form-setup", "post", Role.OWNER, 302, data=lambda c: {"dual": "on"}),
    Endpoint(
        "extraction-form-template",
        "post",
        Role.OWNER,
        302,
        data=lambda c: {"template": "case-series"},
    ),
    Endpoint(
        "extraction-field-add",
        "post",
        Role.OWNER,
        302,
        data=lambda c: {"level": "study", "label": "Funding", "type": "text"},
    ),
    Endpoint(
        "extraction-field-edit",
        "post",
        Role.OWNER,
        302,
        field,
        lambda c: {"label": "Country of care"},
    ),
    Endpoint(
        "extraction-field-move", "post", Role.OWNER, 302, field, lambda c: {"direction": "up"}
    ),
    Endpoint("extraction-field-retire", "post", Role.OWNER, 302, field, lambda c: {"retired": "1"}),
    Endpoint("extraction-field-delete", "post", Role.OWNER, 302, lambda c: {"pk": c.spare.pk}),
    Endpoint(
        "extraction-choice-add",
        "post",
        Role.OWNER,
        302,
        lambda c: {"pk": c.choice.field_id},
        lambda c: {"label": "Pelvis"},
    ),
    Endpoint(
        "extraction-choice-change",
        "post",
        Role.OWNER,
        302,
        lambda c: {"pk": c.choice.pk},
        lambda c: {"action": "rename", "label": "Chest"},
    ),
]

WRONG_METHODS = [
    Endpoint("extraction-overview", "post", Role.OWNER, 405),
    Endpoint("extraction-start", "get", Role.OWNER, 405, study),
    Endpoint("extraction-done", "get", Role.OWNER, 405, consensus),
    Endpoint("extraction-take", "get", Role.OWNER, 405, consensus),
    Endpoint("extraction-form", "post", Role.OWNER, 405),
    Endpoint("extraction-field-delete", "get", Role.OWNER, 405, field),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


# --- the studies page ---


def test_the_studies_page_shows_each_studys_progress(client, team):
    case_series_form(team.review)
    fill(make_study(team.review, "Coffin 2007"), team.reviewer, done=True)
    make_study(team.review, "Zhang 2019")
    client.force_login(team.reviewer)

    text = page_text(client.get(reverse("extraction-overview", args=[team.review.slug])))

    assert "Coffin 2007 Your copy started reviewer (you): done" in text
    assert "Zhang 2019 Not started by you not you yet" in text


def test_a_colleagues_copy_and_its_rows_are_hidden_from_a_blinded_reviewer(client, team):
    # issue 21, item 5: "Bob Reviewer: in progress 2", then 7
    case_series_form(team.review)
    bob = add_member(team.review, make_user("bob"), Role.REVIEWER).user
    coffin, zhang = make_study(team.review, "Coffin 2007"), make_study(team.review, "Zhang 2019")
    fill(coffin, bob, patients=[{"label": "1"}, {"label": "2"}])
    fill(zhang, bob, patients=[{"label": "1"}], done=True)
    fill(zhang, team.reviewer, patients=[{"label": "1"}, {"label": "2"}, {"label": "3"}])
    client.force_login(team.reviewer)

    text = page_text(client.get(reverse("extraction-overview", args=[team.review.slug])))

    assert "bob" not in text
    assert "Coffin 2007 Not started by you not you yet —" in text
    assert "Zhang 2019 Your copy started reviewer (you): in progress 3" in text
    assert "each study shows your own copy only" in text
    client.force_login(team.senior)
    by_senior = page_text(client.get(reverse("extraction-overview", args=[team.review.slug])))
    assert "Coffin 2007 In progress bob: in progress 2" in by_senior


def test_without_a_form_the_owner_is_pointed_to_the_form_page(client, team):
    make_study(team.review)
    client.force_login(team.owner)

    response = client.get(reverse("extraction-overview", args=[team.review.slug]))

    assert "No extraction form yet" in page_text(response)
    assert reverse("extraction-form", args=[team.review.slug]) in response.content.decode()


# --- entering data ---


def post_copy(client, copy, data):
    return client.post(reverse("extraction-copy", args=[copy.review.slug, copy.pk]), data)


def test_a_save_with_a_bad_cell_keeps_what_was_typed_and_marks_the_cell(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    client.force_login(team.reviewer)
    client.post(reverse("extraction-start", args=[team.review.slug, study.pk]))
    copy = Extraction.objects.get(extractor=team.reviewer)
    age, site = field_of(team.review, "age_months"), field_of(team.review, "site")

    response = post_copy(
        client,
        copy,
        {
            f"s-f{field_of(team.review, 'country').pk}": "Italy",
            "p-0-label": "Case 1",
            f"p-0-f{age.pk}": "84",
            "p-1-label": "Case 2",
            f"p-1-f{age.pk}": "seven",
            f"p-1-f{site.pk}": "Lung",
        },
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "Nothing was saved: 2 cells to correct" in text
    assert "“seven” is not a whole number." in text
    assert "“Lung” is not one of the choices" in text
    html = response.content.decode()
    assert 'value="seven"' in html and 'value="Italy"' in html and 'value="Case 2"' in html
    copy.refresh_from_db()
    assert copy.values == {} and not copy.patients.exists()


def test_a_refused_save_counts_only_the_rows_typed_in(client, team):
    # walk: after a refused save the page said "Patients (5)" for 3 typed rows, and showed
    # the two blank rows it had offered as patients 4 and 5, then three more blank ones
    case_series_form(team.review)
    study = make_study(team.review)
    client.force_login(team.reviewer)
    client.post(reverse("extraction-start", args=[team.review.slug, study.pk]))
    copy = Extraction.objects.get(extractor=team.reviewer)
    age = field_of(team.review, "age_months")
    typed = {f"p-{i}-label": f"Case {i + 1}" for i in range(3)}
    blank = {f"p-{i}-label": "" for i in range(3, 5)} | {
        f"p-{i}-f{age.pk}": "" for i in range(3, 5)
    }

    response = post_copy(client, copy, typed | blank | {f"p-2-f{age.pk}": "abc"})

    assert response.status_code == 400
    assert "Patients ( 3 )" in page_text(response)
    rows = response.context["rows"]
    assert [row.label for row in rows] == ["Case 1", "Case 2", "Case 3"]
    assert rows[2].cells[[c.field.pk for c in rows[2].cells].index(age.pk)].error
    assert len(response.context["blank_rows"]) == 3  # the page's usual offer, once


def test_a_done_copy_s_wide_table_can_be_scrolled_from_the_keyboard(client, team):
    # walk (axe, scrollable-region-focusable): the read-only patient table scrolls sideways
    # but could not be reached with Tab; and it pointed at editing hints it did not show
    case_series_form(team.review)
    study = make_study(team.review)
    copy = fill(study, team.reviewer, patients=[{"label": "Case 1"}], done=True)
    client.force_login(team.reviewer)

    html = client.get(reverse("extraction-copy", args=[team.review.slug, copy.pk])).content
    html = html.decode()

    assert 'tabindex="0" role="region" aria-labelledby="patients-heading"' in html
    assert '<h3 id="patients-heading">Patients' in html
    assert 'aria-describedby="table-hints"' not in html


def test_a_good_save_stores_rows_and_a_ticked_row_is_deleted(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    copy = fill(study, team.reviewer, patients=[{"label": "Old"}])
    old = copy.patients.get()
    age = field_of(team.review, "age_months")
    client.force_login(team.reviewer)

    response = post_copy(
        client,
        copy,
        {
            "p-0-id": old.pk,
            "p-0-label": "Old",
            "p-0-delete": "1",
            "p-1-label": "Case 1",
            f"p-1-f{age.pk}": "NR",
            "p-2-label": "",  # a blank row offered by the page
        },
    )

    assert response.status_code == 302
    assert [(r.label, r.values) for r in copy.patients.all()] == [
        ("Case 1", {str(age.pk): {"nr": True}})
    ]
    page = client.get(response["Location"])
    assert "Saved, with 1 patient row." in page_text(page)


def test_extractors_cannot_open_each_others_copy_but_a_senior_outside_it_can(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    mine = fill(study, team.reviewer)
    url = reverse("extraction-copy", args=[team.review.slug, mine.pk])
    client.force_login(team.senior)
    # while the study still needs a second extractor, a senior could become it: no peeking
    assert client.get(url).status_code == 404
    theirs = fill(study, team.owner)

    assert client.get(url).status_code == 200
    assert post_copy(client, mine, {}).status_code == 403
    client.force_login(team.reviewer)
    assert (
        client.get(reverse("extraction-copy", args=[team.review.slug, theirs.pk])).status_code
        == 404
    )


def test_the_study_page_shows_my_copy_beside_the_pdf(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    record = make_record(team.review, title="IMT in 12 children")
    pass_title_abstract(record, team.reviewer, team.senior)
    full_text_attach(
        record=record,
        user=team.owner,
        upload=SimpleUploadedFile("x.pdf", b"%PDF-1.4 demo", "application/pdf"),
    )
    study.reports.create(review=team.review, record=record, approved_by=team.owner)
    fill(study, team.reviewer)
    client.force_login(team.reviewer)

    response = client.get(reverse("extraction-study", args=[team.review.slug, study.pk]))

    html = response.content.decode()
    assert "<iframe" in html and reverse("fulltext-pdf", args=[team.review.slug, record.pk]) in html
    assert 'name="p-0-label"' in html  # three blank rows to type into


# --- comparison ---


def test_the_comparison_shows_disagreements_and_take_a_fills_the_consensus(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    fill(study, team.reviewer, study_values={"country": "Italy", "design": "Other"}, done=True)
    fill(study, team.owner, study_values={"country": "Spain", "design": "Other"}, done=True)
    client.force_login(team.senior)
    compare_url = reverse("extraction-compare", args=[team.review.slug, study.pk])

    text = page_text(client.get(compare_url))
    assert "Coffin 2007: 1 disagreement" in text
    assert "Country Italy Spain" in text and "Study design" not in text
    client.post(reverse("extraction-consensus-start", args=[team.review.slug, study.pk]))
    consensus = Extraction.objects.get(study=study, extractor=None)
    client.post(
        reverse("extraction-take", args=[team.review.slug, consensus.pk]),
        {"side": "b", "field": field_of(team.review, "country").pk},
    )

    assert "Country Italy Spain Spain" in page_text(client.get(compare_url))


def test_copies_that_agree_are_said_to_agree_instead_of_empty_tables(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    same = {"study_values": {"country": "Italy"}, "patients": [{"sex": "Male"}], "done": True}
    fill(study, team.reviewer, **same)
    fill(study, team.owner, **same)
    client.force_login(team.senior)
    compare_url = reverse("extraction-compare", args=[team.review.slug, study.pk])

    text = page_text(client.get(compare_url))

    assert "Coffin 2007: 0 disagreements" in text
    assert "The two copies agree on every study value." in text
    assert "The two copies agree on every patient" in text
    assert "Field A B" not in text  # no table of headers only
    every = page_text(client.get(compare_url + "?all=1"))
    assert "agree on every" not in every and "Country Italy Italy" in every


def test_only_the_part_that_agrees_is_said_to_agree(client, team):
    case_series_form(team.review)
    study = make_study(team.review)
    fill(
        study,
        team.reviewer,
        study_values={"country": "Italy"},
        patients=[{"sex": "Male"}],
        done=True,
    )
    fill(
        study,
        team.owner,
        study_values={"country": "Italy"},
        patients=[{"sex": "Female"}],
        done=True,
    )
    client.force_login(team.senior)

    text = page_text(client.get(reverse("extraction-compare", args=[team.review.slug, study.pk])))

    assert "The two copies agree on every study value." in text
    assert "agree on every patient" not in text and "Sex Male Female" in text


# --- the form builder ---


def test_the_add_a_field_form_says_what_the_unit_is_for(client, team):
    # walk: "Unit — Numbers only, e.g. cm." read as "type a number here"
    client.force_login(team.owner)

    response = client.get(reverse("extraction-form", args=[team.review.slug]))

    text = page_text(response)
    assert "Unit Number fields only: the unit their values are in, e.g. cm." in text
    assert "Numbers only" not in text
    assert 'class="form-row xfield-add"' in response.content.decode()


def test_deleting_a_field_with_values_is_refused_with_the_reason(client, team):
    case_series_form(team.review)
    fill(make_study(team.review), team.reviewer, study_values={"country": "Italy"})
    country = field_of(team.review, "country")
    client.force_login(team.owner)

    response = client.post(
        reverse("extraction-field-delete", args=[team.review.slug, country.pk]), follow=True
    )

    assert "“Country” holds 1 value(s). Retire it instead" in page_text(response)
    assert Field.objects.filter(pk=country.pk).exists()


def test_loading_the_template_twice_adds_nothing_the_second_time(client, team):
    client.force_login(team.owner)
    url = reverse("extraction-form-template", args=[team.review.slug])

    first = page_text(client.post(url, {"template": "case-series"}, follow=True))
    second = page_text(client.post(url, {"template": "case-series"}, follow=True))

    assert f"{len(CASE_SERIES)} field(s) added" in first
    assert "0 field(s) added" in second and "Already in the form" in second
    assert Field.objects.filter(review=team.review).count() == len(CASE_SERIES) == 27


def test_the_owner_names_what_a_patient_level_row_is(client, team):
    client.force_login(team.owner)
    url = reverse("extraction-form-setup", args=[team.review.slug])

    saved = page_text(
        client.post(
            url, {"dual": "on", "row_noun": "site", "row_noun_plural": "sites"}, follow=True
        )
    )
    refused = page_text(
        client.post(url, {"dual": "on", "row_noun": "  ", "row_noun_plural": "sites"}, follow=True)
    )

    assert "Dual extraction is on. Each patient-level row is one site." in saved
    assert "The word for a row must be 1 to 30 characters" in refused
    setup = team.review.extraction_setup
    setup.refresh_from_db()
    assert (setup.row_noun, setup.row_noun_plural) == ("site", "sites")
