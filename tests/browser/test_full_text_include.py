"""Including a full text that is not on file, in a real browser: the reviewer is asked
first, and the study says so afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Decision
from reviewer.services import screening as services
from tests.browser.test_import_flow import log_in
from tests.factories import make_record, make_team, pass_title_abstract, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_including_without_a_pdf_is_confirmed_and_shown_on_the_study(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    team = make_team()
    review = team.review
    record = pass_title_abstract(
        make_record(review, title="ALK-positive IMT in 34 children", year=2021),
        team.reviewer,
        team.owner,
    )
    base = f"{live_server.url}/reviews/{review.slug}"

    log_in(page, live_server.url, "reviewer")
    page.goto(f"{base}/screen/ft/{record.pk}/")
    expect(page.locator("#record-title")).to_have_text("ALK-positive IMT in 34 children")
    page.keyboard.press("i")  # asks first: nothing is stored yet
    confirm = page.get_by_role("button", name="Include without a full text on file")
    expect(confirm).to_be_visible()
    expect(page.get_by_text("No full text is on file for this record.")).to_be_visible()
    assert not Decision.objects.filter(record=record, stage="ft").exists()

    confirm.click()
    expect(page.locator("#main")).not_to_contain_text("No full text is on file")
    decision = Decision.objects.get(record=record, stage="ft")
    assert (decision.reviewer_id, decision.choice) == (team.reviewer.pk, "include")

    screen(record, team.owner, "include", stage="ft")
    services.approve(review=review, records=[record], user=team.senior)
    page.goto(f"{base}/studies/")
    report = page.locator(".report").filter(has_text="ALK-positive IMT in 34 children")
    expect(report).to_contain_text(re.compile("included without a full text on file"))
