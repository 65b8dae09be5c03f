"""A reviewer's first hour, in a real browser: log in, add a search, upload, preview, import."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_review, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEDLINE = """PMID- 31234567
TI  - Outcomes of pediatric inflammatory myofibroblastic tumor: a multicentre
      study of 34 patients.
AB  - Thirty-four children were treated.
FAU - Kim, Ji-woo
DP  - 2021 Mar
JT  - Pediatric Blood & Cancer
LID - 10.1002/pbc.28999 [doi]

PMID- 30111222
TI  - Plasma cell granuloma of the lung in a child.
FAU - Rossi, Giulia
DP  - 2004
JT  - Journal of Pediatric Surgery

"""


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()


def test_owner_imports_a_pubmed_export(browser_page: Page, live_server, tmp_path: Path) -> None:
    page = browser_page
    owner = make_user("carol")
    make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    export = tmp_path / "pubmed-2024.nbib"
    export.write_text(MEDLINE)

    log_in(page, live_server.url, "carol")
    page.get_by_role("link", name="Pediatric IMT outcomes").click()
    page.get_by_role("link", name=re.compile("^Searches", re.I)).first.click()
    page.get_by_role("link", name=re.compile("add a search", re.I)).first.click()
    page.get_by_label("Name").fill("PubMed")
    page.get_by_label("Search date").fill("2024-02-29")
    page.get_by_label("Search query").fill('"inflammatory myofibroblastic tumor"[tiab]')
    page.get_by_role("button", name="Add search").click()

    page.get_by_label("Export files").set_input_files(str(export))
    page.get_by_role("button", name=re.compile("upload", re.I)).click()

    status = page.locator("#import-status")
    expect(status).to_contain_text("2 records")
    expect(status).to_contain_text("MEDLINE")
    expect(status).to_contain_text("Plasma cell granuloma of the lung in a child")
    expect(status).to_contain_text("1 record has no abstract")
    page.get_by_role("button", name=re.compile(r"Import 2 records", re.I)).click()

    expect(page.locator("#import-status")).to_contain_text("2 records imported")
    page.get_by_role("link", name=re.compile("records", re.I)).first.click()
    expect(page.get_by_role("link", name=re.compile("Outcomes of pediatric"))).to_be_visible()


def test_bad_file_shows_what_is_wrong_and_offers_no_import(
    browser_page: Page, live_server, tmp_path: Path
) -> None:
    page = browser_page
    owner = make_user("carol")
    review = make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    from tests.factories import make_source

    source = make_source(review, name="Embase")
    pdf = tmp_path / "embase.ris"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/reviews/imt/sources/{source.pk}/")
    page.get_by_label("Export files").set_input_files(str(pdf))
    page.get_by_role("button", name=re.compile("upload", re.I)).click()

    # Refused at the upload itself, with the reason, and nothing kept.
    expect(page.locator("main")).to_contain_text("embase.ris is a PDF document")
    expect(page.locator("main")).to_contain_text("Nothing was uploaded.")
    expect(page.get_by_role("button", name=re.compile(r"^Import \d+ records"))).to_have_count(0)
    from reviewer.models import ImportJob

    assert not ImportJob.objects.exists()
