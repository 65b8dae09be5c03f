"""Title/abstract screening in a real browser: an exclusion with its reason by one key (the
reason's digit), "x" excluding at once without one, and a label added by keyboard and then
filtered on."""

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


def test_an_exclusion_with_its_reason_by_its_digit(browser_page: Page, live_server) -> None:
    page = browser_page
    review, records = screening(page, live_server)
    second = review.exclusion_reasons.filter(is_active=True).order_by("position")[1]
    reasons = page.get_by_role("group", name="Exclude with a reason")
    button = reasons.get_by_role("button", name=second.label)
    expect(button).to_be_visible()  # beside the record, unfolded
    expect(button.locator("kbd")).to_have_text("2")  # its key, in sight
    expect(button).to_have_attribute("aria-keyshortcuts", "2")

    page.keyboard.press("2")

    expect(page.get_by_role("heading", name=records[1].title)).to_be_visible()
    expect(page.locator(".screen-undo")).to_contain_text(f"Exclude ({second.label})")
    decision = Decision.objects.get(record=records[0])
    assert (decision.choice, decision.reason) == ("exclude", second)

    # undo brings the reason back: marked in the list, and its key said
    page.keyboard.press("u")
    expect(page.get_by_role("heading", name=records[0].title)).to_be_visible()
    expect(page.locator("#reason-withdrawn")).to_have_text(
        f"Before the undo: Exclude ({second.label}); 2 gives it again."
    )
    expect(button).to_have_class("choice--reason choice--reason-withdrawn")
    assert not Decision.objects.exists()


def test_x_excludes_at_once_without_a_reason_when_the_review_has_reasons(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    review, records = screening(page, live_server)
    first = review.exclusion_reasons.filter(is_active=True).order_by("position")[0]

    page.keyboard.press("x")

    # nothing waits for a second key (before, "x" showed "waiting for the next key")
    assert page.locator("#key-pending").is_hidden()
    expect(page.get_by_role("heading", name=records[1].title)).to_be_visible()
    expect(page.locator(".screen-undo")).to_contain_text("You chose Exclude for record")
    decision = Decision.objects.get(record=records[0])
    assert (decision.choice, decision.reason) == ("exclude", None)

    page.keyboard.press("1")  # a digit alone: that reason, on the record now shown

    expect(page.get_by_role("heading", name=records[2].title)).to_be_visible()
    decision = Decision.objects.get(record=records[1])
    assert (decision.choice, decision.reason) == ("exclude", first)
    assert Decision.objects.count() == 2


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


#: Eligibility criteria as long as a real review's (the demo's), which sit in the same
#: column as the reasons.
CRITERIA = (
    "Include\n- Original articles reporting outcomes of pediatric IMT (0-18 years)\n"
    "- At least 3 pediatric IMT patients\n\nExclude\n- Non-English language papers\n"
    "- Case reports (fewer than 3 patients)\n"
    "- Pediatric patients not analysable separately from adults\n"
    "- IMT not analysable separately from other diagnoses"
)


def test_the_reasons_and_their_keys_are_in_sight_beside_the_record_on_a_laptop(
    browser_page: Page, live_server
) -> None:
    """The ten default reasons, the first nine with their digit, beside the record (not
    below it) at 1,024 to 1,440 px wide: all in the window on a 1,280 x 800 laptop as
    the record opens, and at 1,024 x 768 once the page is scrolled to read the record,
    to its end (the column stays in view, its top first)."""
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    review, records = screening(page, live_server)
    review.criteria = CRITERIA
    review.save()
    page.reload()
    keyed = page.get_by_role("group", name="Exclude with a reason").locator("[data-key]")
    expect(keyed).to_have_count(9)

    def beside_and_in_view() -> None:
        title = page.get_by_role("heading", name=records[0].title).bounding_box()
        assert title is not None
        for n in range(9):
            button = keyed.nth(n)
            expect(button).to_be_in_viewport(ratio=1)
            box = button.bounding_box()
            assert box is not None and box["x"] >= title["x"] + title["width"]

    beside_and_in_view()
    page.set_viewport_size({"width": 1440, "height": 900})
    beside_and_in_view()
    page.set_viewport_size({"width": 1024, "height": 768})
    expect(keyed.first).to_be_in_viewport(ratio=1)  # beside the title as it opens
    page.get_by_role("heading", name=records[0].title).evaluate("title => title.scrollIntoView()")
    beside_and_in_view()
