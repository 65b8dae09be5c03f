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


LONG_ROW = {
    "sex": "not reported",
    "age_months": "84",
    "site": "Abdomen/pelvis",
    "size_cm": "12.5",
    "management": "Non-operative",
    "other_therapy": "Steroids; NSAIDs",
    "outcome": "No evidence of disease",
}

# Every box on the copy page that could cut its text off, measured in the page.
MEASURE = """() => {
  const box = el => el.getBoundingClientRect();
  const data = box(document.querySelector('.xcopy__data'));
  const wrap = document.querySelector('.xtable-wrap');
  const cut = [...document.querySelectorAll('#copy-form input[type=text], .xstudy-fields label')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => (el.value || el.textContent).trim() + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {
    page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
    data: [data.left, data.right],
    wrap: [box(wrap).left, box(wrap).right],
    scrolls: wrap.scrollWidth > wrap.clientWidth,
    overflow: getComputedStyle(wrap).overflowX,
    cut,
  };
}"""


def test_the_patient_table_fits_beside_the_pdf_on_a_laptop(browser_page: Page, live_server) -> None:
    """1366×900 with the PDF open: the table stays in its column, scrolling sideways in its
    own box with the row number and patient kept in view, and no value is cut off."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from extraction.models import Extraction as Copy
    from reviewer.demo.screening import demo_pdf
    from reviewer.services.screening import full_text_attach
    from tests.extraction.helpers import fill
    from tests.factories import make_record, pass_title_abstract

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    owner = make_user("carol")
    review = make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    dan = add_member(review, make_user("dan")).user
    case_series_form(review)
    study = make_study(review, "Smith 2000")
    record = make_record(review, title="Inflammatory myofibroblastic tumour in 60 children")
    pass_title_abstract(record, dan, owner)
    pdf = demo_pdf(record.title)
    full_text_attach(
        record=record, user=owner, upload=SimpleUploadedFile("s.pdf", pdf, "application/pdf")
    )
    study.reports.create(review=review, record=record, approved_by=owner)
    copy = fill(
        study,
        dan,
        study_values={"design": "Retrospective case series", "period_start": "2003"},
        patients=[{"label": f"Case {n}", **LONG_ROW} for n in range(1, 4)],
    )
    assert isinstance(copy, Copy)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/extraction/copies/{copy.pk}/")
    expect(page.locator(".xcopy__pdf iframe")).to_be_visible()
    expect(page.get_by_label("Sex, row 1")).to_have_value("not reported")

    seen = page.evaluate(MEASURE)
    assert seen["page"][0] <= seen["page"][1], "the page itself scrolls sideways"
    assert seen["data"][0] - 1 <= seen["wrap"][0] and seen["wrap"][1] <= seen["data"][1] + 1
    assert seen["cut"] == [], "text cut off at the edge of its box"
    assert seen["scrolls"] and seen["overflow"] == "auto"

    # scrolled to the far right: the row actions show, the row's number and patient stay
    wrap = page.locator(".xtable-wrap")
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    inside = wrap.bounding_box()
    assert inside is not None
    for cell in (
        page.get_by_text("Delete row 1"),
        page.get_by_label("Patient name in the paper, row 1"),
        page.locator("tbody .xrow__n").first,
    ):
        where = cell.bounding_box()
        assert where is not None
        assert (
            inside["x"] <= where["x"]
            and where["x"] + where["width"] <= inside["x"] + inside["width"] + 1
        ), cell
    number, name = (
        page.locator("tbody .xrow__n").first.bounding_box(),
        page.get_by_label("Patient name in the paper, row 1").bounding_box(),
    )
    assert number and name and abs(number["x"] - inside["x"]) <= 2
    assert name["x"] >= number["x"] + number["width"] - 1


def test_a_large_sheet_read_by_a_worker_appears_on_the_polling_preview(
    browser_page: Page, live_server
) -> None:
    """The preview waits for the worker and swaps the check in when it is done."""
    from django.core.files.base import ContentFile

    from extraction.models import PendingImport
    from extraction.services.uploads import pending_import_read
    from tests.extraction.test_pending_imports import rows
    from tests.extraction.test_transfer_views import sheet

    page = browser_page
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    dan = make_user("dan")
    add_member(review, dan)
    spec = case_series_form(review)
    study = make_study(review, "Coffin 2007")
    pending = PendingImport(
        review=review,
        created_by=dan,
        token="big-sheet",
        name="patients.csv",
        size=2_000_000,
        kind="patients",
        target="mine",
    )
    pending.file.save("patients.csv", ContentFile(sheet(spec, rows(study, 30))), save=False)
    pending.save()  # waiting: its task is with a worker

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/extraction/transfer/import/preview/?token=big-sheet")
    expect(page.get_by_text("Waiting for a worker to read the file…")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel this import")).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path="/tmp/extraction-preview-waiting.png")

    pending_import_read(pending_id=pending.pk)  # the worker reads it

    expect(page.get_by_text("Every row is valid.")).to_be_visible()
    expect(page.get_by_role("button", name="Import 30 rows into 1 study")).to_be_visible()
    page.screenshot(path="/tmp/extraction-preview-read.png")
