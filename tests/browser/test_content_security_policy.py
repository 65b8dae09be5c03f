"""The main pages, in a real browser, under the Content-Security-Policy: the browser reports
no violation (no inline script or style, nothing from elsewhere) and logs no error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page

from analysis.services.runs import analysis_run_now
from tests.analysis.helpers_runs import imt_review
from tests.factories import make_record, make_team, screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIOLATIONS_SCRIPT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : "";
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""


def test_the_main_pages_break_no_rule_of_the_content_security_policy(
    browser_page: Page, live_server
) -> None:
    page = browser_page
    team = make_team()
    review = team.review
    imt_review(review, count=30)
    records = [
        make_record(review, title=f"Inflammatory myofibroblastic tumour {n}") for n in range(3)
    ]
    screen(records[0], team.owner, "include")
    run = analysis_run_now(
        review=review, kind="crosstab", spec={"row": "margin", "col": "recurrence"}, user=team.owner
    )
    errors: list[str] = []
    page.on("console", lambda message: _keep_error(message, errors))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.add_init_script(VIOLATIONS_SCRIPT)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(team.owner.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile(r"/$"))

    base = f"{live_server.url}/reviews/{review.slug}"
    visited = []
    for path in [
        "/",
        "/records/",
        "/sources/",
        "/duplicates/",
        "/screen/ta/",
        "/screen/ft/",
        "/conflicts/",
        "/prisma/",
        "/extraction/",
        "/analysis/",
        f"/analysis/runs/{run.pk}/",
        "/settings/",
    ]:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        policy = response.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"  # no inline script, ever
        assert "unsafe-inline" not in directives["style-src-elem"]
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        assert violations == [], f"{path}: {violations}"
        visited.append(page.title())

    assert errors == []
    assert len(visited) == 12


def _keep_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"{message.location.get('url')}: {message.text}")
