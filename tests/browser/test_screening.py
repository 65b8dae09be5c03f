"""Title/abstract screening in a real browser, by keyboard: three decisions without a page
reload, an undo, and the end of the queue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Decision
from tests.browser.test_import_flow import log_in
from tests.factories import add_member, make_record, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_screens_three_records_by_keyboard(browser_page: Page, live_server) -> None:
    page = browser_page
    owner = make_user("carol")
    review = make_review(
        owner=owner,
        title="Pediatric IMT outcomes",
        slug="imt",
        criteria="Include: patients under 18 with IMT.",
        highlight_include=["child*"],
    )
    reviewer = add_member(review, make_user("dan")).user
    titles = [
        "ALK-positive IMT of the bladder in children",
        "Inflammatory myofibroblastic tumour of the lung in adults",
        "Crizotinib for unresectable IMT",
    ]
    records = [
        make_record(review, title=title, abstract=f"We describe {n + 2} children treated.")
        for n, title in enumerate(titles)
    ]

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/screen/ta/")
    expect(page.get_by_role("heading", name=titles[0])).to_be_visible()
    expect(page.locator("mark.hl-include").first).to_be_visible()
    page.evaluate("window.__marker = 'still here'")
    # htmx makes swapped-in forms its own as the swap settles: wait for that before a key
    page.evaluate(
        "window.__settled = 0;"
        "document.body.addEventListener('htmx:afterSettle', () => window.__settled++)"
    )
    swaps = 0

    def settled() -> None:
        nonlocal swaps
        swaps += 1
        page.wait_for_function("n => window.__settled >= n", arg=swaps)

    for key, choice, record, following in (
        ("i", "include", records[0], records[1]),
        ("x", "exclude", records[1], records[2]),
    ):
        page.keyboard.press(key)
        settled()
        expect(page.get_by_role("heading", name=following.title)).to_be_visible()
        expect(page.locator(".screen-undo")).to_contain_text(f"record {record.pk}")
        assert re.search(rf"/screen/ta/{following.pk}/\?last={record.pk}$", page.url)
        assert Decision.objects.get(record=record, reviewer=reviewer).choice == choice

    page.keyboard.press("m")
    settled()
    expect(page.get_by_role("heading", name="Nothing waiting for you")).to_be_visible()
    assert page.url.endswith(f"/screen/ta/?last={records[2].pk}")
    assert Decision.objects.get(record=records[2]).choice == "maybe"
    expect(page.locator(".screen-progress")).to_contain_text("3 of 3")

    page.keyboard.press("u")  # undo the maybe: back to that record, undecided
    settled()
    expect(page.get_by_role("heading", name=titles[2])).to_be_visible()
    expect(page.locator("#screen")).to_contain_text("is withdrawn")
    assert not Decision.objects.filter(record=records[2]).exists()
    assert page.url.endswith(f"/screen/ta/{records[2].pk}/")

    page.keyboard.press("n")  # the note field, then out of it again
    page.keyboard.type("Adult and paediatric cases mixed")
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    expect(page.get_by_role("heading", name="Nothing waiting for you")).to_be_visible()
    decision = Decision.objects.get(record=records[2])
    assert (decision.choice, decision.note) == ("include", "Adult and paediatric cases mixed")

    assert page.evaluate("window.__marker") == "still here", "the page was never reloaded"
    assert Decision.objects.filter(reviewer=reviewer).count() == 3
