"""Every page fits a laptop screen and a desktop one: nothing sticks out of the window and
no text is cut off (issue 17's screenshot pass, kept as a test).

The demo review is the content: real titles and abstracts, 405 patient rows, long journal
names, every screening state. Each HTML page a member can open (every GET of every view
test module's permission table, so a new page is checked without being listed here) is
loaded as the owner, who sees the most, at 1366x900 and 1920x1080. A page fails when

- the document is wider than the window (a horizontal scroll bar on the whole page), or
- an element sticks out past the window's right edge outside a box that scrolls, or
- a box that hides its overflow has content wider than itself, unless it ends the text
  with an ellipsis on purpose (a title shortened to one line).

Screenshots of every page land in `$LAYOUT_SCREENSHOTS` when it is set (kept out of git),
to look at them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

from extraction.models import Extraction
from reviewer.models import FullText, Review, Study, User
from tests.browser.test_import_flow import log_in
from tests.reviewer.test_access import view_test_modules

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1366, 900), (1920, 1080)]

#: What the page's own layout does wrong, read in the page (no eval: the CSP forbids it;
#: Playwright's evaluate runs in its own world).
_OVERFLOWS = """
() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  const name = (el) => {
    const text = (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 50);
    const id = el.id ? '#' + el.id : '';
    const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  const scrolls = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const x = getComputedStyle(up).overflowX;
      if (x === 'auto' || x === 'scroll') return true;
    }
    return false;
  };
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) found.push(`the page is ${page}px wide in a ${width}px window`);
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const box = el.getBoundingClientRect();
    // visually hidden text for screen readers is 1px wide on purpose
    if (box.width <= 1 || box.height <= 1) continue;
    if (box.right > width + 1 && !scrolls(el)) {
      found.push(`${name(el)} reaches ${Math.round(box.right)}px, past the window's ${width}px`);
    }
    // a text field scrolls its own value (a long link to copy): that is not cut off
    const field = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
    const hides = style.overflowX === 'hidden' || style.overflowX === 'clip';
    const cut = el.scrollWidth > el.clientWidth + 1 && style.textOverflow !== 'ellipsis';
    if (!field && hides && cut) {
      found.push(`${name(el)} cuts off its content (${el.scrollWidth}px in ${el.clientWidth}px)`);
    }
  }
  return found;
}
"""


def html_pages(review: Review, owner: User) -> list[str]:
    """Every page of the permission tables that answers the owner with HTML (downloads and
    actions left out), after its redirects."""
    client = Client()
    client.force_login(owner)
    urls = [reverse("review-list"), f"/reviews/{review.slug}/", *demo_pages(review)]
    for module in view_test_modules():
        children = module.children(review)
        for endpoint in module.ENDPOINTS:
            if endpoint.method == "get":
                urls.append(endpoint.url(review, children))
    pages = []
    for url in dict.fromkeys(urls):
        response = client.get(url, follow=True)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.append(response.request["PATH_INFO"] + _query(response.request))
    return list(dict.fromkeys(pages))


def demo_pages(review: Review) -> list[str]:
    """The demo's fullest pages, which the permission tables' small objects do not reach:
    the study with the most patient rows (with its PDF beside the form), its copies and
    their comparison, a full text with its PDF, and a conflict with a long abstract."""
    slug = review.slug
    study = (
        Study.objects.filter(review=review)
        .annotate(rows=Count("extractions__patients"))
        .order_by("-rows")
        .first()
    )
    assert study is not None
    found = [
        reverse("extraction-study", args=[slug, study.pk]),
        reverse("extraction-compare", args=[slug, study.pk]),
    ]
    found += [
        reverse("extraction-copy", args=[slug, pk])
        for pk in Extraction.objects.filter(study=study).values_list("pk", flat=True)
    ]
    with_pdf = FullText.objects.filter(review=review).exclude(pdf="").first()
    assert with_pdf is not None
    found.append(reverse("screen-record", args=[slug, "ft", with_pdf.record_id]))
    found.append(reverse("record-detail", args=[slug, with_pdf.record_id]))
    found += [reverse("screen-queue", args=[slug, stage]) for stage in ("ta", "ft")]
    return found


def _query(request: dict[str, Any]) -> str:
    query = request.get("QUERY_STRING", "")
    return f"?{query}" if query else ""


def test_every_page_fits_a_laptop_and_a_desktop_screen(browser_page: Page, live_server) -> None:
    call_command("demo", password="demo-pass-1", stdout=open(os.devnull, "w"))  # noqa: SIM115
    review = Review.objects.get(slug="demo")
    carol = User.objects.get(username="carol")
    carol.set_password("pw")
    carol.save()
    pages = html_pages(review, carol)
    assert len(pages) >= 40, pages  # the table reaches every part of the product

    page = browser_page
    log_in(page, live_server.url, "carol")
    shots = os.environ.get("LAYOUT_SCREENSHOTS")
    misfits: list[str] = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        for number, path in enumerate(pages):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            if shots:
                name = f"{width}-{number:03d}-{path.strip('/').replace('/', '_')[:80]}.png"
                page.screenshot(path=str(Path(shots) / name), full_page=True)
            misfits += [f"{width}x{height} {path}: {found}" for found in page.evaluate(_OVERFLOWS)]

    assert not misfits, "pages that do not fit:\n  " + "\n  ".join(misfits)
