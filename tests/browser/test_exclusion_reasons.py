"""The owner keeps the exclusion reasons, in a real browser: every change is
confirmed on screen, where the owner is looking."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_import_flow import log_in
from tests.factories import make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_retires_and_moves_a_reason_and_is_told_each_time(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/settings/")
    page.get_by_role("link", name="exclusion reasons", exact=True).click()

    page.get_by_label("Reason", exact=True).fill("Animal study")
    page.get_by_role("button", name="Add reason").click()
    added = page.get_by_role("status").filter(has_text="Reason “Animal study” added")
    expect(added).to_be_in_viewport()
    last = review.exclusion_reasons.order_by("position").last()
    assert last is not None and last.label == "Animal study" and last.is_active
    row = page.locator(f"#reason-{last.pk}")
    expect(row.get_by_role("textbox")).to_have_value("Animal study")

    row.get_by_label("Offered to reviewers").uncheck()
    row.get_by_role("button", name="Save").click()
    saved = page.get_by_role("status").filter(has_text="Reason saved. “Animal study” is retired")
    expect(saved).to_be_in_viewport()
    last.refresh_from_db()
    assert not last.is_active

    count = review.exclusion_reasons.count()
    page.get_by_role("button", name="Move “Animal study” up").click()
    moved = page.get_by_role("status").filter(
        has_text=f"Reason moved: now number {count - 1} of {count}."
    )
    expect(moved).to_be_in_viewport()
