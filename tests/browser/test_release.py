"""Releasing agreed records to full text, in a real browser (a blinded review): the
reviewer's full-text queue is empty until the senior releases the records both reviewers
included, then it holds them. Set SCREENSHOTS_DIR to keep a picture of each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Record
from tests.browser.test_adjudication import snapshot
from tests.browser.test_import_flow import log_in
from tests.factories import make_record, make_team, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_senior_releases_agreed_records_and_the_reviewer_assesses_them(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    team = make_team()
    review = team.review
    titles = ["ALK-positive IMT in 34 children", "IMT of the bladder: 12 paediatric cases"]
    for title in titles:
        record = make_record(review, title=title, year=2021)
        screen(record, team.reviewer, "include")
        screen(record, team.owner, "include")
    base = f"{live_server.url}/reviews/{review.slug}"

    log_in(page, live_server.url, "reviewer")
    page.goto(f"{base}/screen/ft/")
    expect(page.locator("#main")).to_contain_text("No full texts to screen yet")
    expect(page.locator("#main")).to_contain_text("a senior author releases them")
    page.goto(f"{base}/")
    expect(page.locator("#my-queue")).to_contain_text("0 full texts to assess")
    expect(page.locator("#release-offer")).to_have_count(0)
    page.get_by_role("button", name=re.compile("log out", re.I)).click()

    log_in(page, live_server.url, "senior")
    page.goto(f"{base}/")
    offer = page.locator("#release-offer")
    expect(offer).to_contain_text("2 records passed title/abstract")
    snapshot(page, "release-dashboard")
    offer.get_by_role("link", name="See them").click()
    expect(page.locator("#release-waiting")).to_contain_text(titles[0])
    snapshot(page, "release-list")
    page.get_by_role("button", name="Release 2 records to full text").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text(
        "2 records released to full text"
    )
    expect(page.locator("#release-log")).to_contain_text("2")
    assert Record.objects.filter(review=review, released_at__isnull=False).count() == 2
    page.get_by_role("button", name=re.compile("log out", re.I)).click()

    log_in(page, live_server.url, "reviewer")
    page.goto(f"{base}/")
    expect(page.locator("#my-queue")).to_contain_text("2 full texts to assess")
    page.get_by_role("link", name="2 full texts to assess").click()
    expect(page.locator("#record-title")).to_have_text(titles[0])
