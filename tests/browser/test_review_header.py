"""The review's header on a laptop screen: its sections, key hints included, on one line."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.test_import_flow import log_in
from tests.factories import make_review, make_user

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
