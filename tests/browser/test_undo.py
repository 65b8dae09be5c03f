"""Undoing mistakes in a real browser: an owner deletes a search nobody screened, hides one
that was screened, archives the review and restores it; the pages break no CSP rule."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Review, Source
from reviewer.prisma.counts import prisma_counts
from tests.browser.test_import_flow import log_in
from tests.factories import make_record, make_review, make_source, make_user, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_deletes_hides_archives_and_restores(browser_page: Page, live_server) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    carol = make_user("carol", first_name="Carol", last_name="Senior")
    review = make_review(owner=carol, title="Pediatric IMT outcomes", slug="imt")
    pubmed = make_source(review, name="PubMed")
    screened = make_record(review, pubmed, title="IMT of the bladder in 12 children")
    screen(screened, carol, "include")
    scopus = make_source(review, name="Scopus")
    for n in range(3):
        make_record(review, scopus, title=f"Scopus paper {n}")
    base = f"{live_server.url}/reviews/imt"
    log_in(page, live_server.url, "carol")

    # The Scopus search was never screened: it can go, with its records.
    page.goto(f"{base}/sources/{scopus.pk}/")
    page.get_by_role("link", name="Delete or hide").click()
    page.get_by_role("button", name="Delete this search and its 3 records").click()
    expect(page.get_by_text("Search “Scopus” deleted, with its 3 records.")).to_be_visible()
    assert not Source.objects.filter(pk=scopus.pk).exists()
    assert prisma_counts(review).database_results == 1

    # PubMed has a decision on it: only hiding is offered.
    page.goto(f"{base}/sources/{pubmed.pk}/remove/")
    expect(page.get_by_role("heading", name="It cannot be deleted")).to_be_visible()
    expect(page.get_by_role("button", name="Delete this search")).to_have_count(0)
    page.get_by_label("Why hide it").fill("Searched with the wrong date limits")
    page.get_by_role("button", name="Hide this search").click()
    expect(page.get_by_role("heading", name="Hidden searches")).to_be_visible()
    expect(page.get_by_text("Searched with the wrong date limits")).to_be_visible()
    assert prisma_counts(review).database_results == 1

    # Archive: read-only, out of the list; then restore.
    page.goto(f"{base}/settings/")
    page.get_by_role("link", name="archive or delete the review").click()
    page.get_by_role("button", name="Archive the review").click()
    expect(page.get_by_role("heading", name="Archived reviews")).to_be_visible()
    expect(page.get_by_role("heading", name="No reviews yet")).to_be_visible()
    page.get_by_role("link", name="Pediatric IMT outcomes").click()
    expect(page.get_by_text("This review is archived: read-only for everyone.")).to_be_visible()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Restore Pediatric IMT outcomes").click()
    expect(page.get_by_text("“Pediatric IMT outcomes” is restored")).to_be_visible()
    assert Review.objects.get().archived_at is None
    assert errors == []
