"""A review's pages on a laptop screen: the header's sections, key hints included, on one
line; the dashboard's screening stages set apart from the rows they group."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.test_import_flow import log_in
from tests.factories import make_record, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_sees_every_section_of_the_review_on_one_line_at_1280(
    browser_page: Page, live_server
) -> None:
    # walk: at 1280x800 the eleven sections an owner has wrapped onto a second line, so the
    # header took 210px of an 800px screen on every page (screening included)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    make_review(
        owner=make_user("carol"),
        title="Outcomes of pediatric inflammatory myofibroblastic tumor (demo)",
        slug="imt",
    )

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/")
    page.wait_for_load_state("networkidle")  # the diagram the dashboard loads after itself

    items = page.locator("nav.subnav li")
    assert items.count() == 11  # the owner's sections: the most anyone has
    tops = set()
    for i in range(items.count()):
        box = items.nth(i).bounding_box()
        assert box
        tops.add(round(box["y"]))
    assert len(tops) == 1, "the sections wrap onto a second line"
    hints = page.locator("nav.subnav .key-hint kbd")
    assert hints.count() == 20  # g + a letter for each section but the settings
    assert hints.first.is_visible()


def test_the_dashboard_sets_its_screening_stages_apart_from_the_counted_rows(
    browser_page: Page, live_server
) -> None:
    # walk: "Title and abstract" and "Full text" looked like two more counted rows, each
    # with its number missing
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    review = make_review(owner=make_user("carol"), title="Pediatric IMT", slug="imt")
    make_record(review)

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/")
    page.wait_for_load_state("networkidle")  # the diagram the dashboard loads after itself

    table = page.locator("#screening-counts")
    stage = table.locator('th[scope="rowgroup"]', has_text="Title and abstract")
    row = table.locator('th[scope="row"]', has_text="Not screened yet")

    def background(locator):
        return locator.evaluate("el => getComputedStyle(el).backgroundColor")

    assert background(stage) != background(row)
    assert stage.evaluate("el => getComputedStyle(el).textTransform") == "uppercase"
