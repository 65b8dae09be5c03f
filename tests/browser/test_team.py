"""A newcomer on a fresh install, in a real browser, without the admin or a shell: creates
the first account and a review, invites two reviewers by email, and each accepts their
link, sets a name and password, and lands in the review. No page breaks the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from reviewer.models import Invitation, Review, Role, User
from tests.browser.test_content_security_policy import VIOLATIONS_SCRIPT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "margins and recurrence 2024"


def fill_account(page: Page, name: str, username: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)


@pytest.mark.allow_http_errors(410)  # a used invitation link is refused with 410 Gone
def test_a_newcomer_sets_up_the_team_without_the_admin(browser_page: Page, live_server) -> None:
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: _keep_error(m, problems))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.add_init_script(VIOLATIONS_SCRIPT)
    assert not User.objects.exists()

    # The first visit to a fresh install offers the first account.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Create the first account")).to_be_visible()
    fill_account(page, "Carol Senior", "carol")
    page.get_by_label("Email address").fill("carol@example.org")
    page.get_by_role("button", name="Create the first account").click()
    expect(page.get_by_text("Your account is ready.")).to_be_visible()

    # A review, then its Members page through Settings.
    page.get_by_role("link", name="New review").first.click()
    page.get_by_label("Title").fill("Pediatric IMT outcomes")
    page.get_by_role("button", name=re.compile("create", re.I)).click()
    expect(page.get_by_text("Review created.")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="members and roles").click()

    links = {}
    for email in ("alice@example.org", "bob@example.org"):
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Role", exact=True).select_option(Role.REVIEWER)
        page.get_by_role("button", name="Invite").click()
        expect(
            page.get_by_text(f"Invitation for {email} as Reviewer made and mailed.")
        ).to_be_visible()
        field = page.get_by_label(f"Invitation link for {email}")
        links[email] = field.input_value()
        assert links[email].startswith(f"{live_server.url}/invitations/")
    page.get_by_role("button", name="Copy link").first.click()
    expect(page.locator("#invitation-list")).to_contain_text("Waiting to be accepted")
    page.get_by_role("button", name="Log out").click()

    # Each reviewer opens their link, sets a name and password, and lands in the review.
    for email, name, username in (
        ("alice@example.org", "Alice Chen", "alice"),
        ("bob@example.org", "Bob Okafor", "bob"),
    ):
        page.goto(links[email])
        expect(page.get_by_role("heading", name="Join “Pediatric IMT outcomes”")).to_be_visible()
        expect(page.get_by_text(f"invites {email} to this review as Reviewer")).to_be_visible()
        fill_account(page, name, username)
        page.get_by_role("button", name="Create my account and join").click()
        expect(page.get_by_text(f"Welcome, {name}. You are a Reviewer")).to_be_visible()
        expect(page.locator(".review-header h1")).to_have_text("Pediatric IMT outcomes")
        expect(page.locator(".topbar__user")).to_contain_text(name)
        page.get_by_role("button", name="Log out").click()

    # A used link gives a clear page.
    page.goto(links["alice@example.org"])
    expect(page.get_by_text("This invitation was already used on")).to_be_visible()

    review = Review.objects.get()
    assert sorted((m.user.username, m.role) for m in review.memberships.select_related("user")) == [
        ("alice", Role.REVIEWER),
        ("bob", Role.REVIEWER),
        ("carol", Role.OWNER),
    ]
    assert not any(u.is_staff for u in User.objects.exclude(username="carol"))
    assert all(not i.is_pending for i in Invitation.objects.all())
    assert problems == []
    assert page.evaluate("window.__csp") == []


def _keep_error(message: ConsoleMessage, errors: list[str]) -> None:
    # the used invitation page answers 410 on purpose; the browser logs that as an error
    if message.type == "error" and "status of 410" not in message.text:
        errors.append(message.text)
