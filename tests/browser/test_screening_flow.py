"""The whole screening of a small review in a real browser: two reviewers screen titles and
abstracts by keyboard, a conflict appears and the senior adjudicates it, the full-text stage
runs with one PDF and one "not retrieved", the senior approves the inclusion, and the
dashboard counts add up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Approval, FullText, Role
from reviewer.screening.queries import state_of
from reviewer.screening.rules import State
from tests.browser.test_import_flow import log_in
from tests.factories import add_member, make_record, make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()


def settle_after(page: Page, key: str) -> None:
    """Press a key that makes an htmx swap, and wait until the new page is live."""
    page.evaluate(
        "window.__settled = false;"
        "document.body.addEventListener('htmx:afterSettle', () => window.__settled = true,"
        " {once: true})"
    )
    page.keyboard.press(key)
    page.wait_for_function("() => window.__settled === true")


def screen_all(page: Page, base: str, keys: list[str]) -> None:
    page.goto(f"{base}/screen/ta/")
    for key in keys:
        settle_after(page, key)
    expect(page.get_by_role("heading", name="Nothing waiting for you")).to_be_visible()


def test_a_small_review_from_screening_to_approved_study(
    browser_page: Page, live_server, tmp_path: Path
) -> None:
    page = browser_page
    carol = make_user("carol", first_name="Carol", last_name="Senior")
    review = make_review(owner=carol, title="Pediatric IMT outcomes", slug="imt")
    add_member(review, make_user("alice"), Role.REVIEWER)
    add_member(review, make_user("bob"), Role.REVIEWER)
    agreed = make_record(review, title="ALK-positive IMT of the bladder in 12 children")
    disputed = make_record(review, title="IMT of the lung: a case and the literature")
    excluded = make_record(review, title="IgG4-related disease of the orbit in adults")
    base = f"{live_server.url}/reviews/imt"

    # Title/abstract: alice includes, includes, excludes; bob includes, excludes, excludes.
    log_in(page, live_server.url, "alice")
    screen_all(page, base, ["i", "i", "x"])
    log_out(page)
    log_in(page, live_server.url, "bob")
    screen_all(page, base, ["i", "x", "x"])
    log_out(page)
    assert state_of(disputed).state is State.TA_CONFLICT
    assert state_of(excluded).state is State.TA_EXCLUDED

    # The senior sees the conflict and includes the record with the keyboard.
    log_in(page, live_server.url, "carol")
    page.goto(f"{base}/")
    page.keyboard.press("g")
    page.keyboard.press("x")
    expect(page.get_by_text(disputed.title)).to_be_visible()
    page.get_by_role("link", name=re.compile("Adjudicate")).first.click()
    expect(page.locator("body")).to_contain_text("alice")
    expect(page.locator("body")).to_contain_text("bob")
    page.keyboard.press("i")
    expect(page.locator("body")).to_contain_text("No more records wait for a senior")
    assert state_of(disputed).state is State.FT_SOUGHT
    log_out(page)

    # Full text: alice uploads the PDF of one and marks the other "not retrieved".
    pdf = tmp_path / "alk-bladder.pdf"
    pdf.write_bytes(PDF)
    log_in(page, live_server.url, "alice")
    page.goto(f"{base}/screen/ft/{agreed.pk}/")
    page.get_by_label("PDF of the full text").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("iframe.screen-pdf")).to_be_visible()
    page.goto(f"{base}/screen/ft/{disputed.pk}/")
    page.get_by_label("What was tried").fill("Library, inter-library loan and the authors")
    page.get_by_role("button", name=re.compile("not retrieved")).click()
    expect(page.locator("body")).to_contain_text("Not retrieved")
    assert FullText.objects.get(record=disputed).not_retrieved

    # Both reviewers include the full text.
    page.goto(f"{base}/screen/ft/{agreed.pk}/")
    settle_after(page, "i")
    log_out(page)
    log_in(page, live_server.url, "bob")
    page.goto(f"{base}/screen/ft/")
    expect(page.get_by_role("heading", name=agreed.title)).to_be_visible()
    settle_after(page, "i")
    log_out(page)
    assert state_of(agreed).state is State.FT_INCLUDED

    # The senior approves it: it becomes a study.
    log_in(page, live_server.url, "carol")
    page.goto(f"{base}/approvals/")
    page.get_by_role("button", name=re.compile(f"Approve record {agreed.pk}")).click()
    expect(page.locator("body")).to_contain_text(agreed.title)
    assert Approval.objects.get().record == agreed

    # The dashboard adds it all up.
    page.goto(f"{base}/")
    counts = page.locator("#screening-counts")
    expect(counts.locator(f"#count-{State.TA_EXCLUDED.value}")).to_contain_text("1")
    expect(counts.locator(f"#count-{State.FT_NOT_RETRIEVED.value}")).to_contain_text("1")
    expect(counts.locator(f"#count-{State.APPROVED.value}")).to_contain_text("1")
