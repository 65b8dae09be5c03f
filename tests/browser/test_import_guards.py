"""Imports that must not pass quietly, in a real browser: a cut export, the same file
again, an unreadable file. Nothing is imported unless the owner chose to."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from reviewer.models import ImportFile, ImportJob, Record
from reviewer.services import imports
from tests.browser.test_import_flow import log_in
from tests.factories import make_review, make_source, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RIS = """TY  - JOUR
AU  - Coffin, Cheryl M.
TI  - ALK and p80 expression in inflammatory myofibroblastic tumour
PY  - 2007
ER  -

TY  - JOUR
AU  - Gleason, Brian C.
TI  - Inflammatory myofibroblastic tumours: where are we now?
PY  - 2008
ER  -
"""

#: The same export, its download stopped inside a third record.
CUT_RIS = RIS + "\nTY  - JOUR\nAU  - Lovly, Christine M.\nTI  - Inflammatory myofibroblastic tu"


@pytest.fixture
def search(live_server, browser_page: Page):
    """carol, signed in, on the page of her review's Embase search."""
    owner = make_user("carol", first_name="Carol", last_name="Owner")
    review = make_review(owner=owner, title="Pediatric IMT outcomes", slug="imt")
    source = make_source(review, name="Embase")
    log_in(browser_page, live_server.url, "carol")
    browser_page.goto(f"{live_server.url}/reviews/imt/sources/{source.pk}/")
    return source


def upload(page: Page, path: Path) -> None:
    page.get_by_label("Export files").set_input_files(str(path))
    page.get_by_role("button", name=re.compile("upload", re.I)).click()


def test_a_cut_export_is_imported_only_once_the_owner_accepts_the_cut_record(
    browser_page: Page, search, tmp_path: Path
) -> None:
    page = browser_page
    export = tmp_path / "embase.ris"
    export.write_text(CUT_RIS)

    upload(page, export)

    status = page.locator("#import-status")
    expect(status).to_contain_text("1 record is cut short, and will not be imported unless")
    expect(status).to_contain_text("embase.ris: record 3, line 13 — the file’s last record")
    expect(status).to_contain_text("usually a download that did not finish")
    expect(page.locator(".callout--loss").first).to_be_visible()

    page.get_by_role("button", name="Import 3 records into Embase").click()
    expect(page.locator("main")).to_contain_text("Nothing was imported: 1 record is cut short")
    assert not Record.objects.exists()

    page.get_by_label("I accept the 1 cut-short record listed above as it is.").check()
    page.get_by_role("button", name="Import 3 records into Embase").click()

    expect(page.locator("#import-status")).to_contain_text("3 records imported into Embase")
    assert Record.objects.filter(title="Inflammatory myofibroblastic tu").exists()
    assert Record.objects.count() == 3


def test_the_same_file_again_needs_import_it_again(
    browser_page: Page, search, tmp_path: Path
) -> None:
    page = browser_page
    export = tmp_path / "embase.ris"
    export.write_text(RIS)
    owner = search.review.memberships.get().user
    with export.open("rb") as handle:
        first = imports.import_job_create(
            source=search, files=[("embase.ris", handle)], created_by=owner, enqueue=False
        )
    imports.import_job_read(job_id=first.pk)
    imports.import_job_confirm(job=first, enqueue=False)
    imports.import_job_run(job_id=first.pk)
    assert Record.objects.count() == 2
    again = tmp_path / "embase (1).ris"
    again.write_text(RIS)

    page.reload()
    upload(page, again)

    status = page.locator("#import-status")
    expect(status).to_contain_text("The same file again")
    expect(status).to_contain_text("This file was already imported on")
    expect(status).to_contain_text("by Carol Owner into “Embase” (2 records)")
    expect(status.get_by_role("link", name="See that import")).to_have_attribute(
        "href", first.get_absolute_url()
    )
    expect(page.get_by_role("button", name=re.compile(r"^Import 2 records"))).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel this import")).to_have_class(
        re.compile("button--primary")
    )
    assert Record.objects.count() == 2

    page.get_by_role("button", name="Import it again (2 records)").click()

    expect(page.locator("#import-status")).to_contain_text("2 records imported into Embase")
    assert Record.objects.count() == 4


def test_an_unreadable_upload_reads_as_refused_and_leaves_nothing(
    browser_page: Page, search, tmp_path: Path, settings
) -> None:
    page = browser_page
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as docx:
        docx.writestr("word/document.xml", "<w:document/>")
    word = tmp_path / "search results.docx"
    word.write_bytes(buffer.getvalue())

    upload(page, word)

    main = page.locator("main")
    expect(main).to_contain_text("search results.docx is a Word document, not a search export")
    expect(main).to_contain_text("Nothing was uploaded.")
    expect(main).to_contain_text("Nothing uploaded for this search yet.")
    expect(main).not_to_contain_text("Ready to import")
    assert not ImportJob.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]

    letter = tmp_path / "embase.txt"
    letter.write_text("Dear colleague,\nthe references you asked for.\nBest wishes\n")
    upload(page, letter)

    status = page.locator("#import-status")
    expect(status).to_contain_text("Refused: the file could not be read")
    expect(status).not_to_contain_text("Ready to import")
    expect(page.get_by_role("button", name=re.compile(r"^Import \d+ record"))).to_have_count(0)
    page.get_by_role("link", name="Embase").first.click()
    row = page.get_by_role("row", name=re.compile("embase.txt"))
    expect(row).to_contain_text("Refused: could not be read")
    expect(row).not_to_contain_text("Ready to import")

    row.get_by_role("link").first.click()
    page.get_by_role("button", name="Cancel this import").click()
    expect(page.locator("main")).to_contain_text("Import cancelled; nothing was imported.")
    assert not ImportFile.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert not Record.objects.exists()
