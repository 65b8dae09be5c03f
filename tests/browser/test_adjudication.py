"""A senior author's round, in a real browser: open the conflicts, adjudicate one with the
keyboard, approve an inclusion. Set SCREENSHOTS_DIR to keep a picture of each page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Adjudication, Approval
from reviewer.services import screening as services
from tests.browser.test_import_flow import log_in
from tests.factories import make_reason, make_record, make_team, pass_title_abstract, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def snapshot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_senior_adjudicates_with_the_keyboard_and_approves(browser_page: Page, live_server):
    page = browser_page
    team = make_team()
    review = team.review
    first, second = team.reviewer, team.owner
    adults = make_reason(review, "Adults only")
    conflict = make_record(
        review,
        title="Inflammatory myofibroblastic tumour of the lung in a 9-year-old girl",
        authors=["Coffin, Cheryl M", "Hornick, Jason L"],
        journal="Pediatric Blood & Cancer",
        year=2007,
        doi="10.1002/pbc.21000",
        abstract="We describe a girl with an IMT of the lung treated by resection.",
    )
    screen(conflict, first, "include", note="Child, lung: in scope.")
    screen(conflict, second, "exclude", note="Looks like a case report of an adult.")
    reason_pick = pass_title_abstract(
        make_record(review, title="Bladder IMT: a review of 40 cases", year=2015), first, second
    )
    screen(reason_pick, first, "exclude", stage="ft", reason=adults)
    screen(reason_pick, second, "exclude", stage="ft", reason=make_reason(review, "Review"))
    inclusion = pass_title_abstract(
        make_record(review, title="ALK-positive IMT in 34 children", year=2021), first, second
    )
    screen(inclusion, first, "include", stage="ft")
    screen(inclusion, second, "include", stage="ft")
    base = f"{live_server.url}/reviews/{review.slug}"

    log_in(page, live_server.url, "senior")
    page.goto(f"{base}/conflicts/")
    expect(page.get_by_role("heading", name=re.compile("Waiting for a senior"))).to_contain_text(
        "(2)"
    )
    snapshot(page, "conflicts")

    page.keyboard.press("j")
    expect(page.get_by_role("heading", name=re.compile("Conflict 1 of 2"))).to_be_visible()
    expect(page.locator(".decision-pair")).to_contain_text("Looks like a case report of an adult.")
    snapshot(page, "adjudicate-ta")
    page.keyboard.press("i")

    expect(page.locator("#main")).to_contain_text(
        f"Record {conflict.pk} included at title/abstract"
    )
    expect(page).to_have_url(re.compile(rf"/conflicts/{reason_pick.pk}/ft/$"))
    snapshot(page, "adjudicate-ft")
    assert Adjudication.objects.get().record_id == conflict.pk

    page.goto(f"{base}/approvals/")
    page.get_by_label("ALK-positive IMT in 34 children").check()
    snapshot(page, "approvals")
    page.get_by_role("button", name="Approve the ticked inclusions").click()

    expect(page.locator("#main")).to_contain_text("1 inclusion approved")
    assert Approval.objects.get().record_id == inclusion.pk

    if os.environ.get("SCREENSHOTS_DIR"):
        services.approve(
            review=review,
            records=[
                pass_title_and_include(make_record(review, title="IMT follow-up", year=2009), team)
            ],
            user=team.senior,
        )
        page.goto(f"{base}/studies/")
        snapshot(page, "studies")
        page.goto(f"{base}/screening/history/{conflict.pk}/")
        snapshot(page, "history")
        make_record(review, title="Tumeur myofibroblastique", year=1984, language="fre")
        team_owner_page(page, live_server.url, base)


def pass_title_and_include(record, team):  # type: ignore[no-untyped-def]
    pass_title_abstract(record, team.reviewer, team.owner)
    screen(record, team.reviewer, "include", stage="ft")
    screen(record, team.owner, "include", stage="ft")
    return record


def team_owner_page(page: Page, root: str, base: str) -> None:
    page.context.clear_cookies()
    log_in(page, root, "owner")
    page.goto(f"{base}/removals/")
    page.get_by_label("Published before").fill("1990")
    page.get_by_role("button", name="Preview").click()
    snapshot(page, "removals-preview")


def test_the_decisions_and_buttons_are_in_view_beside_a_long_abstract(
    browser_page: Page, live_server
) -> None:
    """1366×900: a long abstract does not push the two decisions and the senior's buttons
    out of sight, and the review's terms are marked as on the screening page."""
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    team = make_team()
    review = team.review
    review.highlight_include = ["inflammatory myofibroblastic", "child*"]
    review.highlight_exclude = ["adults"]
    review.save()
    sentence = (
        "Inflammatory myofibroblastic tumour is a rare neoplasm seen in children and in "
        "young adults; we reviewed the treatment and outcome of every patient in detail. "
    )
    record = make_record(
        review, title="Inflammatory myofibroblastic tumour in 40 children", abstract=sentence * 14
    )
    screen(record, team.reviewer, "include", note="Children only: in scope.")
    screen(record, team.owner, "exclude", note="Mostly adults.")

    log_in(page, live_server.url, "senior")
    page.goto(f"{live_server.url}/reviews/{review.slug}/conflicts/{record.pk}/ta/")

    expect(page.get_by_role("heading", name=re.compile("Conflict 1 of 1"))).to_be_visible()
    for shown in (
        page.locator(".decision-card").filter(has_text="Children only: in scope."),
        page.locator(".decision-card").filter(has_text="Mostly adults."),
        page.get_by_role("button", name="Include"),
        page.get_by_role("button", name="Exclude"),
    ):
        expect(shown).to_be_in_viewport(ratio=1)
    abstract = page.locator(".adjudicate-abstract .abstract")
    expect(abstract.locator("mark.hl-include").first).to_have_text(
        re.compile("Inflammatory myofibroblastic", re.I)
    )
    expect(abstract.locator("mark.hl-exclude").first).to_have_text("adults")
    expect(page.locator("#record-title mark.hl-include").first).to_be_visible()


def test_senior_undoes_a_mistyped_adjudication_by_key_and_keeps_a_skipped_note(
    browser_page: Page, live_server
) -> None:
    """The senior means "exclude", presses i: the next conflict offers Undo (u), which puts
    the record back with her note; a note typed before Skip is there when she returns."""
    page = browser_page
    team = make_team()
    review = team.review
    first, second = team.reviewer, team.owner
    mistyped = make_record(review, title="IMT of the lung in a 52-year-old man", year=2011)
    screen(mistyped, first, "include")
    screen(mistyped, second, "exclude")
    other = make_record(review, title="Bladder IMT in a boy", year=2016)
    screen(other, first, "include")
    screen(other, second, "exclude")
    third = make_record(review, title="IMT of the orbit", year=2019)
    screen(third, first, "exclude")
    screen(third, second, "include")
    base = f"{live_server.url}/reviews/{review.slug}"

    log_in(page, live_server.url, "senior")
    page.goto(f"{base}/conflicts/{mistyped.pk}/ta/")
    page.get_by_label("Note").fill("Adult patient: out of scope.")
    page.get_by_label("Note").blur()  # keys typed into a field are left alone
    page.keyboard.press("i")

    expect(page).to_have_url(re.compile(rf"/conflicts/{other.pk}/ta/$"))
    bar = page.locator("#adjudication-undo")
    expect(bar).to_contain_text(f"You decided Include for record {mistyped.pk}")
    expect(bar.get_by_role("link", name="History")).to_be_visible()
    expect(bar.locator("kbd")).to_have_text("u")
    snapshot(page, "adjudication-undo")
    page.keyboard.press("u")

    expect(page).to_have_url(re.compile(rf"/conflicts/{mistyped.pk}/ta/$"))
    expect(page.locator("#main")).to_contain_text("withdrawn: the record waits for a senior again")
    expect(page.get_by_label("Note")).to_have_value("Adult patient: out of scope.")
    assert not Adjudication.objects.exists()
    page.keyboard.press("x")
    expect(page).to_have_url(re.compile(rf"/conflicts/{other.pk}/ta/$"))
    assert Adjudication.objects.get().choice == "exclude"

    page.get_by_label("Note").fill("Ask Ana: boy or adolescent?")
    page.get_by_role("button", name=re.compile("Skip")).click()
    expect(page.locator("#main")).to_contain_text(f"Your note on record {other.pk} is kept")
    expect(page).to_have_url(re.compile(rf"/conflicts/{third.pk}/ta/$"))
    page.goto(f"{base}/conflicts/{other.pk}/ta/")
    expect(page.get_by_label("Note")).to_have_value("Ask Ana: boy or adolescent?")
