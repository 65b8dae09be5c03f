"""Title/abstract screening in a real browser: an exclusion with its reason by two keys
("x" then the reason's number), and a label added by keyboard and then filtered on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Decision, RecordLabel
from tests.browser.test_import_flow import log_in
from tests.factories import add_member, make_record, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screening(page: Page, live_server: object) -> tuple[object, list[object]]:
    review = make_review(owner=make_user("carol"), title="Pediatric IMT", slug="imt")
    add_member(review, make_user("dan"))
    records = [
        make_record(review, title=title, abstract="We describe children treated.")
        for title in (
            "IMT of the lung in adults",
            "ALK-positive IMT of the bladder in children",
            "Crizotinib for unresectable IMT",
        )
    ]
    log_in(page, live_server.url, "dan")  # type: ignore[attr-defined]
    page.goto(f"{live_server.url}/reviews/imt/screen/ta/")  # type: ignore[attr-defined]
    expect(page.get_by_role("heading", name=records[0].title)).to_be_visible()
    return review, records


def test_an_exclusion_with_its_reason_by_two_keys(browser_page: Page, live_server) -> None:
    page = browser_page
    review, records = screening(page, live_server)
    second = review.exclusion_reasons.filter(is_active=True).order_by("position")[1]
    folded = page.locator(".screen-decide__reasons summary")
    expect(folded).to_contain_text("Exclude with a reason (optional): x then 1–9")  # the keys
    folded.click()
    reasons = page.get_by_role("group", name="Exclude with a reason")
    expect(reasons.get_by_role("button", name=f"2 {second.label}")).to_be_visible()

    page.keyboard.press("x")
    page.keyboard.press("2")

    expect(page.get_by_role("heading", name=records[1].title)).to_be_visible()
    expect(page.locator(".screen-undo")).to_contain_text(f"Exclude ({second.label})")
    decision = Decision.objects.get(record=records[0])
    assert (decision.choice, decision.reason) == ("exclude", second)


def test_a_label_added_by_keyboard_and_the_queue_filtered_on_it(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    review, records = screening(page, live_server)
    review.labels = ["case series"]
    review.save()
    page.goto(f"{live_server.url}/reviews/imt/screen/ta/{records[2].pk}/")
    expect(page.get_by_role("heading", name=records[2].title)).to_be_visible()
    expect(page.locator("#screen-labels")).to_contain_text("+ case series")

    page.keyboard.press("l")
    expect(page.locator("#label-name")).to_be_focused()
    page.keyboard.type("ask Ana")
    page.keyboard.press("Enter")
    expect(page.locator(".label-chip")).to_have_text(["ask Ana ×"])
    assert RecordLabel.objects.get().record == records[2]

    page.get_by_text("Filter the queue").click()
    page.get_by_label("Label", exact=True).select_option("ask Ana")
    page.get_by_role("button", name="Filter", exact=True).click()

    expect(page.get_by_role("heading", name=records[2].title)).to_be_visible()
    expect(page.locator(".screen-filter-box summary")).to_contain_text("filtered")
    assert "label=ask+Ana" in page.url
    page.keyboard.press("i")
    expect(
        page.get_by_role("heading", name="Nothing waiting for you matches these filters")
    ).to_be_visible()
