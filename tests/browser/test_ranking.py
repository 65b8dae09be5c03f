"""Relevance ranking in a real browser: the queue shows the likely includes first with their
scores, the order is changed by keyboard, and the ranking page draws its chart."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import RankingTrigger
from reviewer.services.ranking import ranking_run_now
from tests.browser.test_import_flow import log_in
from tests.factories import add_member, make_record, make_review, make_user, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IN = [
    "Inflammatory myofibroblastic tumour of the bladder in children",
    "Paediatric inflammatory myofibroblastic tumour: outcomes after resection",
    "Recurrence of inflammatory myofibroblastic tumour in children after surgery",
]
OUT = [
    "Statin therapy and cardiovascular events in elderly adults",
    "Blood pressure control with statin therapy in adults",
    "Cardiovascular risk of statin therapy in older adults with diabetes",
]


def test_reviewer_sees_likely_includes_first_with_their_scores(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    reviewer = add_member(review, make_user("dan")).user
    # import order: out, in, out, in, out, in
    records = [
        make_record(review, title=title) for pair in zip(OUT, IN, strict=True) for title in pair
    ]
    screen(records[0], reviewer, "exclude")
    screen(records[1], reviewer, "include")
    ranking_run_now(review=review, user=reviewer, trigger=RankingTrigger.REQUESTED)

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/screen/ta/")

    heading = page.locator("#record-title")
    expect(heading).to_have_text(re.compile("inflammatory myofibroblastic", re.I))
    expect(page.locator(".screen-relevance")).to_have_text(
        re.compile(r"Relevance 0\.\d\d · rank [12] of 6")
    )
    expect(page.get_by_label("Order", exact=True)).to_have_value("relevance")

    first = heading.inner_text()
    page.keyboard.press("j")  # the next record in relevance order: the other likely include
    expect(heading).not_to_have_text(first)  # the swap is done before the order is changed
    expect(heading).to_have_text(re.compile("inflammatory myofibroblastic", re.I))

    # the order, by keyboard: focus the selector, pick "Import order", apply
    page.get_by_label("Order", exact=True).focus()
    page.keyboard.press("End")  # the last option: import order
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Order", exact=True)).to_have_value("import")
    expect(heading).to_have_text(OUT[1])  # the first record waiting, in import order
    assert "order=import" in page.url

    page.keyboard.press("g")
    page.keyboard.press("o")
    expect(page.get_by_role("heading", name="Ranking and stopping")).to_be_visible()
    expect(page.locator(".ranking-chart svg polyline.line--mine")).to_be_visible()
    expect(page.locator("#ranking-title + p")).to_contain_text(
        "Trained on 1 relevant and 1 irrelevant records"
    )
