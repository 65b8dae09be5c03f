"""Risk of bias in a real browser: two assessors appraise a study with the JBI checklist,
blind to each other, disagree on two questions; the senior settles them, and the
traffic-light plot shows the consensus."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from extraction.appraisal.models import Appraisal
from reviewer.models import Role
from tests.browser.test_import_flow import log_in
from tests.extraction.helpers import make_study
from tests.factories import add_member, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = {str(n): "Yes" for n in range(1, 11)}
BOB = {**ALICE, "4": "Unclear", "10": "Not applicable"}
SHOTS = os.environ.get("SHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def appraise(page: Page, base: str, answers: dict[str, str], note: str) -> None:
    page.goto(f"{base}/reviews/imt/extraction/appraisal/")
    page.get_by_role("link", name="Coffin 2007").first.click()
    page.get_by_role("button", name="Start appraising").click()
    expect(page.get_by_text("Were participants included consecutively?")).to_be_visible()
    for key, answer in answers.items():
        page.get_by_role("radiogroup", name=key, exact=True).get_by_label(answer).check()
    page.get_by_label("Justification or quote for 4").fill(note)
    page.get_by_label("Overall judgement", exact=True).select_option(label="Include")
    page.get_by_role("button", name="Save and mark done").click()
    expect(page.locator("#appraisal-status")).to_have_text("Done")


@pytest.mark.allow_http_errors(404)  # bob asks for alice's appraisal by its address
def test_two_assessors_disagree_on_two_questions_and_the_senior_settles_them(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    base = live_server.url
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    for name in ("alice", "bob"):
        add_member(review, make_user(name, first_name=name.title()), Role.REVIEWER)
    make_study(review, "Coffin 2007")

    log_in(page, base, "alice")
    appraise(page, base, ALICE, "“All consecutive patients treated 1990-2005.”")
    shot(page, "appraisal-alice")

    page.context.clear_cookies()
    log_in(page, base, "bob")
    page.goto(f"{base}/reviews/imt/extraction/appraisal/")
    row = page.locator("tr", has_text="Coffin 2007")
    expect(row).to_contain_text("Not started by you")  # alice's done appraisal is not shown
    expect(row).not_to_contain_text("Alice")
    appraise(page, base, BOB, "Selection of patients not described.")
    alices = Appraisal.objects.get(assessor__username="alice")
    assert page.goto(f"{base}/reviews/imt/extraction/appraisal/{alices.pk}/").status == 404

    page.context.clear_cookies()
    log_in(page, base, "carol")
    page.goto(f"{base}/reviews/imt/extraction/appraisal/")
    expect(page.locator("tr", has_text="Coffin 2007")).to_contain_text("Needs consensus")
    page.get_by_role("link", name="Compare Coffin 2007").click()
    expect(page.get_by_role("heading", name="Coffin 2007: 2 disagreements")).to_be_visible()
    expect(page.get_by_text("Selection of patients not described.")).to_be_visible()
    page.get_by_role("button", name="Start the consensus").click()
    page.get_by_role("button", name="Take A for 4").click()
    page.get_by_role("button", name="Take B for 10").click()
    shot(page, "appraisal-compare")
    page.get_by_role("link", name="Open the consensus to check and mark final").click()
    page.get_by_role("button", name="Save and mark final").click()
    expect(page.locator("#appraisal-status")).to_have_text("Final")

    consensus = Appraisal.objects.get(assessor__isnull=True)
    assert consensus.answers["4"]["a"] == "yes" and consensus.answers["10"]["a"] == "na"

    page.goto(f"{base}/reviews/imt/extraction/appraisal/results/")
    figure = page.get_by_role("img", name="Traffic-light plot of JBI case series judgements")
    expect(figure).to_be_visible()
    assert figure.evaluate("img => img.naturalWidth") > 300
    svg = page.request.get(base + (figure.get_attribute("src") or "")).text()
    assert "Coffin 2007" in svg and svg.count("<text") > 20
    # robvis's grey (not applicable) for Q10, green (low) for the rest and Q4
    assert "#cccccc" in svg.lower() and "#02c100" in svg.lower()
    row = page.locator("tr", has_text="Coffin 2007")
    expect(row).to_contain_text("Not applicable")
    expect(row).to_contain_text("Include")
    expect(page.locator("#rob-methods")).to_contain_text("(1 study) were resolved by a senior")
    shot(page, "appraisal-results")


@pytest.mark.parametrize("studies", [42, 150])
def test_the_results_page_stays_legible_at_42_and_150_studies(
    browser_page: Page, live_server, studies: int
) -> None:
    page = browser_page
    carol = make_user("carol")
    review = make_review(owner=carol, title="Pediatric IMT outcomes", slug="imt")
    levels = ["yes"] * 6 + ["unclear", "unclear", "no", "na"]
    rows = []
    for n in range(studies):
        study = make_study(review, f"Author{n:03d} {1990 + n % 30}")
        answers = {str(q): {"a": levels[(n * 7 + q * 3) % 10], "note": ""} for q in range(1, 11)}
        rows.append(
            Appraisal(
                review=review,
                study=study,
                assessor=None,
                tool="jbi-case-series",
                answers=answers,
                judgements={"overall": {"level": ("low", "some", "high")[n % 3], "reason": ""}},
                updated_by=carol,
                status="done",
            )
        )
    Appraisal.objects.bulk_create(rows)

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/extraction/appraisal/results/")

    figure = page.get_by_role("img", name="Traffic-light plot of JBI case series judgements")
    expect(figure).to_be_visible()
    width, height = figure.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert height > width > 300 and height > studies * 20
    shown = figure.bounding_box()
    assert shown is not None and shown["width"] <= 1366  # no sideways scrolling
    expect(page.locator(".rob-table tbody tr")).to_have_count(studies)
    expect(page.locator("#rob-methods")).to_contain_text(f"of the {studies} included studies")
    shot(page, f"appraisal-results-{studies}")


def test_the_checklist_sits_beside_the_pdf_on_a_laptop(browser_page: Page, live_server) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviewer.demo.screening import demo_pdf
    from reviewer.services.screening import full_text_attach
    from tests.factories import make_record, pass_title_abstract

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    owner = make_user("carol")
    review = make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    dan = add_member(review, make_user("dan")).user
    study = make_study(review, "Smith 2000")
    record = make_record(review, title="Inflammatory myofibroblastic tumour in 60 children")
    pass_title_abstract(record, dan, owner)
    full_text_attach(
        record=record,
        user=owner,
        upload=SimpleUploadedFile("s.pdf", demo_pdf(record.title), "application/pdf"),
    )
    study.reports.create(review=review, record=record, approved_by=owner)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/extraction/appraisal/studies/{study.pk}/")
    page.get_by_role("button", name="Start appraising").click()

    expect(page.locator(".xcopy__pdf iframe")).to_be_visible()
    pdf, form = (
        page.locator(".xcopy__pdf").bounding_box(),
        page.locator(".xcopy__data").bounding_box(),
    )
    assert pdf is not None and form is not None
    assert pdf["x"] + pdf["width"] <= form["x"], "the checklist is beside the PDF"
    width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= viewport, "the page scrolls sideways"
    expect(page.get_by_role("radiogroup", name="1", exact=True)).to_be_in_viewport()
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, "appraisal-beside-pdf.png"))
