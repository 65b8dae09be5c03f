"""Relevance ranking in a real browser: the queue shows the likely includes first with their
scores, the order is changed by keyboard, and the ranking page draws its chart."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import RankingJob, RankingTrigger, Record, Review, User
from reviewer.services.ranking import ranking_job_run, ranking_run_now
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


def _trained_on_two() -> tuple[Review, User, list[Record]]:
    """Dan's review "imt" of six records in import order out, in, out, in, out, in; he has
    excluded the first and included the second, and his ranking learnt from them."""
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    reviewer = add_member(review, make_user("dan")).user
    records = [
        make_record(review, title=title) for pair in zip(OUT, IN, strict=True) for title in pair
    ]
    screen(records[0], reviewer, "exclude")
    screen(records[1], reviewer, "include")
    ranking_run_now(review=review, user=reviewer, trigger=RankingTrigger.REQUESTED)
    return review, reviewer, records


def test_reviewer_sees_likely_includes_first_with_their_scores(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    _trained_on_two()

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


def test_the_ranking_page_follows_a_retrain_without_a_reload(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    review, reviewer, records = _trained_on_two()
    screen(records[2], reviewer, "exclude")
    screen(records[3], reviewer, "include")
    # a retrain asked for and not started yet (its worker busy elsewhere)
    waiting = RankingJob.objects.create(
        review=review, reviewer=reviewer, trigger=RankingTrigger.REQUESTED
    )

    log_in(page, live_server.url, "dan")
    page.goto(f"{live_server.url}/reviews/imt/ranking/")
    retrain = page.locator("#ranking-retrain button")
    expect(retrain).to_have_text("Retraining…")
    expect(retrain).to_be_disabled()
    card = page.locator("#ranking-card")
    expect(card).to_contain_text("Trained on 1 relevant and 1 irrelevant records")
    expect(card).to_contain_text("A retrain is waiting to run")
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again

    ranking_job_run(job_id=waiting.pk)  # the worker gets to it

    expect(card).to_contain_text("Trained on 2 relevant and 2 irrelevant records", timeout=10_000)
    expect(card).not_to_contain_text("A retrain is")
    expect(retrain).to_have_text("Retrain my ranking")
    expect(retrain).to_be_enabled()
    assert page.evaluate("window.loadedOnce") is True
    assert card.get_attribute("hx-trigger") is None  # the poll stopped with the retrain
