"""Data extraction in a real browser: two patient rows typed, three pasted from a
spreadsheet, a bad cell shown where it is, and everything saved once corrected."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from extraction.models import Extraction
from extraction.values import form_spec, show
from tests.browser.test_import_flow import log_in
from tests.extraction.helpers import case_series_form, make_study
from tests.factories import add_member, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASTED = (
    "Case 3\tFemale\t36\tThorax\n"
    "Case 4\tMale\t120\tAbdomen/pelvis\n"
    "Case 5\tFemale\tseven\tHead/neck\n"
)


@pytest.mark.allow_http_errors(400)  # the bad cell is refused with 400 and the form again
def test_reviewer_types_two_patients_pastes_three_and_saves(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    add_member(review, make_user("dan"))
    case_series_form(review)
    study = make_study(review, "Coffin 2007")

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/extraction/")
    page.get_by_role("link", name="Coffin 2007").first.click()
    page.get_by_role("button", name="Start extracting").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    expect(page.get_by_text("paste a block of cells copied from a spreadsheet")).to_be_visible()

    # two rows typed, moving down a column with the arrow key
    page.get_by_label("Patient name in the paper, row 1").fill("Case 1")
    page.get_by_label("Sex, row 1").fill("Male")
    page.get_by_label("Age at diagnosis, row 1").fill("84")
    page.get_by_label("Age at diagnosis, row 1").press("ArrowDown")
    expect(page.get_by_label("Age at diagnosis, row 2")).to_be_focused()
    page.keyboard.type("96")
    page.get_by_label("Patient name in the paper, row 2").fill("Case 2")
    page.get_by_label("Sex, row 2").fill("female")

    # three more pasted from a spreadsheet into row 3: the table grows to fit
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.evaluate("text => navigator.clipboard.writeText(text)", PASTED)
    page.get_by_label("Patient name in the paper, row 3").focus()
    page.keyboard.press("Control+V")
    expect(page.get_by_label("Site, row 5")).to_have_value("Head/neck")
    expect(page.get_by_label("Age at diagnosis, row 4")).to_have_value("120")
    expect(page.locator("[data-row-count]")).to_have_text("5")

    # a bad cell: nothing saved, the message at the cell, what was typed still there
    page.keyboard.press("Control+S")
    expect(page.get_by_text("Nothing was saved: 1 cell to correct")).to_be_visible()
    bad = page.get_by_label("Age at diagnosis, row 5")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("“seven” is not a whole number.")).to_be_visible()
    expect(page.get_by_label("Sex, row 4")).to_have_value("Male")
    assert not Extraction.objects.get(study=study).patients.exists()

    bad.fill("7")
    page.get_by_role("button", name="Save", exact=False).first.click()
    expect(page.get_by_text("Saved, with 5 patient rows.")).to_be_visible()

    copy = Extraction.objects.get(study=study)
    spec = form_spec(review)
    fields = spec.by_key()
    saved = [
        (
            row.label,
            show(spec, fields["sex"], row.values.get(str(fields["sex"].pk))),
            show(spec, fields["age_months"], row.values.get(str(fields["age_months"].pk))),
            show(spec, fields["site"], row.values.get(str(fields["site"].pk))),
        )
        for row in copy.patients.order_by("position")
    ]
    assert saved == [
        ("Case 1", "Male", "84", ""),
        ("Case 2", "Female", "96", ""),
        ("Case 3", "Female", "36", "Thorax"),
        ("Case 4", "Male", "120", "Abdomen/pelvis"),
        ("Case 5", "Female", "7", "Head/neck"),
    ]
    page.screenshot(path="/tmp/shots/extraction_copy.png", full_page=False)
