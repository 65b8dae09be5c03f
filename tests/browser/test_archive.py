"""The review archive in a real browser: the owner downloads it from the review's Archive
page, and a colleague restores it from "Restore a review" and lands in the copy, under the
Content-Security-Policy without a violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import Membership, Review, Role
from tests.browser.test_content_security_policy import VIOLATIONS_SCRIPT
from tests.browser.test_import_flow import log_in
from tests.factories import make_user
from tests.reviewer.archive.small import small_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_downloads_the_archive_and_a_colleague_restores_it(
    browser_page: Page, live_server, tmp_path
) -> None:
    page = browser_page
    page.add_init_script(VIOLATIONS_SCRIPT)
    review = small_review()
    make_user("nina")

    log_in(page, live_server.url, "olga")
    page.goto(f"{live_server.url}/reviews/{review.slug}/settings/")
    page.get_by_role("link", name="archive of the whole review (backup)").click()
    expect(page.get_by_text("Not downloaded yet.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the archive (ZIP)").click()
    download = download_info.value
    assert re.fullmatch(r"adult-imt-archive-\d{4}-\d\d-\d\d\.zip", download.suggested_filename)
    archive = tmp_path / download.suggested_filename
    download.save_as(archive)
    assert page.evaluate("window.__csp") == []

    page.context.clear_cookies()
    log_in(page, live_server.url, "nina")
    page.get_by_role("link", name="Restore a review").click()
    page.get_by_label("Review archive (.zip)").set_input_files(str(archive))
    page.get_by_label("Address of the restored review").fill("adult-imt-copy")
    page.get_by_role("button", name="Check the archive").click()

    # Before anything is written: who becomes whom here.
    expect(page.get_by_role("heading", name="Restore “Adult IMT”?")).to_be_visible()
    people = page.locator("#restore-people")
    expect(people).to_contain_text("The existing account olga")
    expect(people).to_contain_text("The existing account rita")
    expect(page.locator("#restore-existing-accounts")).to_contain_text("2 existing accounts")
    page.get_by_role("button", name="Restore the review").click()

    page.wait_for_url(re.compile(r"/reviews/adult-imt-copy/$"))
    expect(page.get_by_text("Restored “Adult IMT” with its 2 people")).to_be_visible()
    expect(page.get_by_text("olga@example.org → existing account olga")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    copy = Review.objects.get(slug="adult-imt-copy")
    assert Membership.objects.get(review=copy, user__username="nina").role == Role.OWNER
    assert copy.records.count() == 2
