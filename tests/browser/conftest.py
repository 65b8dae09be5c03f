"""Every browser test also checks that the pages it visited logged no error.

A console error, an uncaught script exception, a response with a 4xx/5xx status or a
request that failed outright fails the test, with what happened and on which page. A test
that means to provoke an error status says so with `@pytest.mark.allow_http_errors(403)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response


def problems_of(page: Page, allowed_statuses: frozenset[int]) -> list[str]:
    """Start recording what went wrong on `page` (and its later pages); returns the list."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            # Chromium also logs each error response it loaded: said once, by `response`.
            if message.text.startswith("Failed to load resource: the server responded"):
                return
            on = message.page.url if message.page else message.location.get("url", "")
            problems.append(f"console error on {on}: {message.text}")

    def page_error(error: Exception) -> None:
        problems.append(f"uncaught script error on {page.url}: {error}")

    def response(response: Response) -> None:
        if response.status >= 400 and response.status not in allowed_statuses:
            problems.append(f"{response.request.method} {response.url} answered {response.status}")

    def request_failed(request: Request) -> None:
        # The browser's own pages (its PDF viewer) are not the app's; ERR_ABORTED is a
        # request the browser cancelled itself: the page navigated on, or a download.
        if not request.url.startswith("http") or request.failure == "net::ERR_ABORTED":
            return
        problems.append(f"{request.method} {request.url} failed: {request.failure}")

    page.context.on("console", console)
    page.context.on("weberror", lambda web_error: page_error(web_error.error))
    page.context.on("response", response)
    page.context.on("requestfailed", request_failed)
    return problems


@pytest.fixture
def browser_page(browser_page: Page, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The suite's Chromium page (tests/conftest.py), failing the test on any page error."""
    marker = request.node.get_closest_marker("allow_http_errors")
    allowed = frozenset(marker.args) if marker else frozenset()
    problems = problems_of(browser_page, allowed)
    yield browser_page
    if problems:
        pytest.fail(
            "the browser reported errors while the test ran:\n  " + "\n  ".join(problems),
            pytrace=False,
        )
