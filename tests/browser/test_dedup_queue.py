"""Checking possible duplicates in a real browser, by keyboard: open the queue, decide,
undo, decide again; the decisions land without a page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import DuplicatePair, PairStatus, Record
from reviewer.services.duplicates import dedup_run_now
from tests.browser.test_import_flow import log_in
from tests.factories import make_review, make_source, make_user
from tests.reviewer.dedup_cases import MAYBE_LEFT, MAYBE_RIGHT, PAPER, PAPER_ELSEWHERE, add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECOND_LEFT = {
    "title": "Imaging features of inflammatory pseudotumour of the orbit in children",
    "authors": ["Okafor, Chidi", "Lindqvist, Erik"],
    "year": 2012,
    "journal": "Pediatric Radiology",
}
SECOND_RIGHT = {
    "title": "Imaging features of inflammatory pseudotumor of the orbit in children",
    "authors": ["Okafor C", "Lindqvist E"],
    "year": 2013,
    "journal": "European Journal of Radiology",
}


def test_reviewer_works_through_the_queue_by_keyboard(browser_page: Page, live_server) -> None:
    page = browser_page
    owner = make_user("carol")
    review = make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    pubmed, embase = make_source(review, "PubMed"), make_source(review, "Embase")
    add(review, pubmed, PAPER)
    add(review, embase, PAPER_ELSEWHERE)
    add(review, pubmed, MAYBE_LEFT)
    add(review, embase, MAYBE_RIGHT)
    add(review, pubmed, SECOND_LEFT)
    add(review, embase, SECOND_RIGHT)
    dedup_run_now(review=review, user=owner)
    assert DuplicatePair.objects.filter(status=PairStatus.PENDING).count() == 2

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/")
    page.keyboard.press("g")
    page.keyboard.press("u")
    expect(page.get_by_role("heading", name="Duplicates", exact=True)).to_be_visible()
    expect(page.locator(".stats")).to_contain_text("1 duplicate removed")

    page.keyboard.press("q")
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 1 of 2"))
    ).to_be_visible()
    expect(page.locator("mark.diff").first).to_be_visible()
    first_url = page.url
    shown = DuplicatePair.objects.get(pk=int(re.findall(r"/pairs/(\d+)/", first_url)[0]))

    page.keyboard.press("d")  # duplicate: on to the next pair, without a reload
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 1 of 1"))
    ).to_be_visible()
    expect(page.locator(".undo-bar")).to_contain_text("duplicate (decided)")
    assert page.url != first_url, "the address follows the pair on screen"
    assert Record.objects.get(pk=shown.second_id).duplicate_of_id == shown.first_id

    page.keyboard.press("u")  # undo: the pair is back, and its record out of the group
    expect(page.locator("body")).to_contain_text("back in the queue")
    assert Record.objects.get(pk=shown.second_id).duplicate_of is None

    page.keyboard.press("n")  # not a duplicate this time
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 1 of 1"))
    ).to_be_visible()
    page.keyboard.press("n")
    expect(
        page.get_by_role("heading", name="No possible duplicates wait for a decision")
    ).to_be_visible()
    assert DuplicatePair.objects.filter(status=PairStatus.DISTINCT).count() == 2
    assert Record.objects.get(pk=shown.second_id).duplicate_of is None


def test_after_a_decision_the_queue_goes_on_past_the_pairs_skipped(
    browser_page: Page, live_server
) -> None:
    """Skip the first pair, decide the second: the third comes next, not the skipped one,
    which waits until the end of the queue."""
    from reviewer.models import Band

    page = browser_page
    review = make_review(owner=make_user("carol"), title="Pediatric IMT outcomes", slug="imt")
    source = make_source(review, "PubMed")
    pairs = []
    for n, score in enumerate((0.9, 0.8, 0.7), start=1):
        left = add(review, source, {**MAYBE_LEFT, "title": f"{MAYBE_LEFT['title']} ({n})"})
        right = add(review, source, {**MAYBE_RIGHT, "title": f"{MAYBE_RIGHT['title']} ({n})"})
        pairs.append(
            DuplicatePair.objects.create(
                review=review,
                first=left,
                second=right,
                band=Band.POSSIBLE,
                score=score,
                status=PairStatus.PENDING,
            )
        )

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/duplicates/queue/")
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 1 of 3"))
    ).to_be_visible()
    page.keyboard.press("j")  # skip the first
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 2 of 3"))
    ).to_be_visible()
    assert f"/pairs/{pairs[1].pk}/" in page.url

    page.keyboard.press("n")  # decide the second: on to the third
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 2 of 2"))
    ).to_be_visible()
    assert f"/pairs/{pairs[2].pk}/" in page.url

    page.keyboard.press("n")  # the last one decided: back to the one skipped
    expect(
        page.get_by_role("heading", name=re.compile("Possible duplicate 1 of 1"))
    ).to_be_visible()
    assert f"/pairs/{pairs[0].pk}/" in page.url
    assert [p.status for p in DuplicatePair.objects.order_by("-score")] == [
        PairStatus.PENDING,
        PairStatus.DISTINCT,
        PairStatus.DISTINCT,
    ]
