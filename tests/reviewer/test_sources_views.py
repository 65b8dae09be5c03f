"""Searches (sources), uploading their exports and the import jobs (reviewer.views.sources).

The import tests go through the pages as the owner would: upload on the search page,
read the preview on the job page, confirm or cancel. Reading and importing run as
Celery tasks queued with `transaction.on_commit`; without a broker they run eagerly,
and `django_capture_on_commit_callbacks(execute=True)` fires them inside the test.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import ImportFile, ImportJob, ImportStatus, Record, Role, Source
from tests import xlsx_bombs
from tests.factories import (
    SMALL_RIS,
    Endpoint,
    make_import_file,
    make_import_job,
    make_record,
    make_review,
    make_source,
    page_text,
)
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db


#: What reading SMALL_RIS stores on its file: the shape `read_summary` returns.
SMALL_RIS_SUMMARY = {
    "detected_format": "ris",
    "detection_reason": "starts with a RIS tag",
    "format": "ris",
    "encoding": "utf-8",
    "record_count": 2,
    "fields_found": {"title": 2, "abstract": 0},
    "warnings": [],
    "columns": [],
    "mapping": {},
    "sample": [
        {
            "title": "Inflammatory myofibroblastic tumour in children",
            "authors": [],
            "year": None,
            "journal": "",
            "doi": "",
            "pmid": "",
            "location": "record 1, line 1",
        }
    ],
}


def make_ready_job(source):
    """An upload of SMALL_RIS that was read and waits for the owner to confirm it."""
    job = make_import_job(source, status=ImportStatus.READY, record_count=2)
    make_import_file(
        job,
        "embase.ris",
        SMALL_RIS,
        detected_format="ris",
        summary=SMALL_RIS_SUMMARY,
        record_count=2,
    )
    return job


def children(review):
    """The child objects the URLs below point at."""
    source = make_source(review, name="Embase")
    job = make_ready_job(source)
    return SimpleNamespace(source=source, job=job, file=job.files.get())


def source_form(**changes):
    data = {"name": "Embase", "kind": "database", "search_date": "2024-03-01", "query": ""}
    data.update(changes)
    return data


# --- permissions ---

ENDPOINTS = [
    Endpoint("source-list", "get", Role.REVIEWER, 200),
    Endpoint("source-new", "get", Role.OWNER, 200),
    Endpoint("source-new", "post", Role.OWNER, 302, data=lambda c: source_form()),
    Endpoint("source-detail", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint(
        "source-detail",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.source.pk},
        data=lambda c: {"files": SimpleUploadedFile("more.ris", SMALL_RIS)},
    ),
    Endpoint("source-edit", "get", Role.OWNER, 200, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint(
        "source-edit",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.source.pk},
        data=lambda c: source_form(name="Embase (Ovid)"),
    ),
    Endpoint("import-detail", "get", Role.REVIEWER, 200, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-confirm", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-cancel", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-restart", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint(
        "import-reconfigure",
        "post",
        Role.OWNER,
        302,
        kwargs=lambda c: {"pk": c.job.pk, "file_pk": c.file.pk},
        data=lambda c: {f"file{c.file.pk}-format": "ris"},
    ),
]

WRONG_METHODS = [
    Endpoint("source-list", "post", Role.REVIEWER, 405),
    Endpoint("source-new", "put", Role.OWNER, 405),
    Endpoint("source-detail", "put", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("source-edit", "delete", Role.OWNER, 405, kwargs=lambda c: {"pk": c.source.pk}),
    Endpoint("import-detail", "post", Role.OWNER, 405, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-confirm", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-cancel", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint("import-restart", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.job.pk}),
    Endpoint(
        "import-reconfigure",
        "get",
        Role.OWNER,
        405,
        kwargs=lambda c: {"pk": c.job.pk, "file_pk": c.file.pk},
    ),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def test_owner_cannot_upload_into_another_reviews_search(client, team):
    other = make_review(title="Adult IMT")
    theirs = make_source(other)
    client.force_login(team.owner)

    client.post(
        reverse("source-detail", args=[team.review.slug, theirs.pk]),
        {"files": SimpleUploadedFile("pubmed.ris", SMALL_RIS)},
    )

    assert not ImportJob.objects.exists()


def test_owner_cannot_confirm_another_reviews_import(client, team):
    other = make_review(title="Adult IMT")
    theirs = make_ready_job(make_source(other))
    client.force_login(team.owner)

    client.post(reverse("import-confirm", args=[team.review.slug, theirs.pk]))

    theirs.refresh_from_db()
    assert theirs.status == ImportStatus.READY


def test_a_file_of_another_import_gets_404(client, team):
    source = make_source(team.review)
    job, other_job = make_ready_job(source), make_ready_job(source)
    client.force_login(team.owner)

    response = client.post(
        reverse("import-reconfigure", args=[team.review.slug, job.pk, other_job.files.get().pk]),
        {},
    )

    assert response.status_code == 404


def test_senior_cannot_upload(client, team):
    source = make_source(team.review)
    client.force_login(team.senior)

    client.post(
        reverse("source-detail", args=[team.review.slug, source.pk]),
        {"files": SimpleUploadedFile("pubmed.ris", SMALL_RIS)},
    )

    assert not ImportJob.objects.exists()


# --- searches ---


def test_source_list_shows_each_search_with_its_record_count(client, team):
    pubmed = make_source(team.review, name="PubMed")
    make_source(team.review, name="Embase")
    for _ in range(3):
        make_record(team.review, pubmed)
    client.force_login(team.reviewer)

    text = page_text(client.get(reverse("source-list", args=[team.review.slug])))

    assert "Embase Database — — 0 0" in text
    assert "PubMed Database — — 1 3" in text


def test_owner_adds_a_search(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("source-new", args=[team.review.slug]),
        source_form(name="Embase", query="'myofibroblastic tumor'/exp"),
        follow=True,
    )

    source = Source.objects.get()
    assertRedirects(response, reverse("source-detail", args=[team.review.slug, source.pk]))
    assertContains(response, "Search “Embase (01 Mar 2024)” added.")
    assert source.review == team.review
    assert source.created_by == team.owner
    assert source.query == "'myofibroblastic tumor'/exp"


def test_a_search_needs_a_name(client, team):
    client.force_login(team.owner)

    response = client.post(reverse("source-new", args=[team.review.slug]), source_form(name=""))

    assertContains(response, "This field is required.")
    assert not Source.objects.exists()


def test_owner_edits_a_search(client, team):
    source = make_source(team.review, name="Embase")
    client.force_login(team.owner)

    response = client.post(
        reverse("source-edit", args=[team.review.slug, source.pk]),
        source_form(name="Embase (Ovid)", query="exp myofibroblastic tumor/"),
        follow=True,
    )

    assertContains(response, "Search details saved.")
    source.refresh_from_db()
    assert source.name == "Embase (Ovid)"
    assert source.query == "exp myofibroblastic tumor/"


def test_owner_sees_the_upload_form_and_a_reviewer_does_not(client, team):
    source = make_source(team.review)
    url = reverse("source-detail", args=[team.review.slug, source.pk])

    client.force_login(team.owner)
    assertContains(client.get(url), 'type="file"')
    client.force_login(team.reviewer)
    assertNotContains(client.get(url), 'type="file"')


# --- importing: helpers ---

#: Two Embase-style records; the second has no abstract.
RIS = b"""TY  - JOUR
AU  - Coffin, Cheryl M.
AU  - Hornick, Jason L.
TI  - ALK and p80 expression in inflammatory myofibroblastic tumour
PY  - 2007
JO  - American Journal of Surgical Pathology
DO  - 10.1097/01.pas.0000213358.47426.e5
AB  - Anaplastic lymphoma kinase expression in 59 tumours.
ER  -

TY  - JOUR
AU  - Gleason, Brian C.
TI  - Inflammatory myofibroblastic tumours: where are we now?
PY  - 2008
JO  - Journal of Clinical Pathology
DO  - 10.1136/jcp.2007.047928
ER  -
"""

#: One more record, for a second file in the same upload.
RIS_MORE = b"""TY  - JOUR
AU  - Lovly, Christine M.
TI  - Inflammatory myofibroblastic tumors harbor multiple potentially actionable kinase fusions
PY  - 2014
DO  - 10.1158/2159-8290.CD-13-0843
AB  - Kinase fusions in IMT.
ER  -
"""

#: A spreadsheet whose title column has a name no parser guesses.
CSV_WITHOUT_TITLE_COLUMN = (
    b"Heading,Writers,Published\n"
    b"Pulmonary inflammatory myofibroblastic tumour,Smith J,2010\n"
    b"IMT of the bladder in a child,Jones K,2012\n"
)


@pytest.fixture
def source(team):
    return make_source(team.review, name="Embase")


@pytest.fixture
def owner(client, team):
    """The review's owner, signed in, working the import pages."""
    client.force_login(team.owner)
    return client


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what a request queued with `transaction.on_commit` (the Celery tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def upload_url(source):
    return reverse("source-detail", args=[source.review.slug, source.pk])


def upload(client, run_tasks, source, *files, fmt=""):
    """Post `files` ((name, bytes) pairs) on the search page; the reading runs at once."""
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files], "format": fmt}
    with run_tasks():
        return client.post(upload_url(source), data)


def job_page(client, job):
    return client.get(job.get_absolute_url())


def confirm_url(job):
    return reverse("import-confirm", args=[job.review.slug, job.pk])


def confirm(client, run_tasks, job):
    """Press the import button; the import runs before the next page is asked for."""
    with run_tasks():
        return client.post(confirm_url(job))


def reconfigure(client, run_tasks, job, import_file, **fields):
    """Save the file's "change the format or mapping" form; the files are read again."""
    data = {f"file{import_file.pk}-{name}": value for name, value in fields.items()}
    url = reverse("import-reconfigure", args=[job.review.slug, job.pk, import_file.pk])
    with run_tasks():
        return client.post(url, data)


# --- importing: the preview ---


def test_upload_redirects_to_the_preview(owner, run_tasks, source):
    response = upload(owner, run_tasks, source, ("embase.ris", RIS))

    job = ImportJob.objects.get()
    assertRedirects(response, job.get_absolute_url())
    assert job.source == source
    assert job.status == ImportStatus.READY


def test_preview_shows_count_format_sample_and_warnings(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))

    response = job_page(owner, ImportJob.objects.get())

    text = page_text(response)
    assert "embase.ris" in text
    assert "Format RIS" in text
    assert "Records 2" in text
    assert "ALK and p80 expression in inflammatory myofibroblastic tumour" in text
    assert "Inflammatory myofibroblastic tumours: where are we now?" in text
    assert "Coffin, Cheryl M. et al." in text
    assert "1 record has no abstract" in text
    assert "Import 2 records into Embase" in text
    assertContains(response, confirm_url(ImportJob.objects.get()))


def test_the_format_line_gives_the_files_real_counts_or_none(owner, run_tasks, source):
    """Issue 17 item 9: the format is judged from the first 64 KB, and the counts of that
    sample ("27 'TY  -' record starts") stood beside the file's real "Records 286"."""
    record = (
        "TY  - JOUR\r\nTI  - Inflammatory myofibroblastic tumour, case {n}\r\n"
        "AB  - " + "A child with a mass. " * 10 + "\r\nER  - \r\n"
    )
    big = "".join(record.format(n=n) for n in range(600)).encode()
    assert len(big) > 64 * 1024
    upload(owner, run_tasks, source, ("embase.ris", big), ("small.ris", RIS))

    text = page_text(job_page(owner, ImportJob.objects.get()))

    assert "Records 600" in text and "Records 2" in text
    assert "2 'TY -' record starts, 2 'ER -'" in text  # the small file, read whole
    lines = re.findall(r"Detected as RIS: [^)]*\)", text)
    assert len(lines) == 2
    for line in lines:
        numbers = [int(n) for n in re.findall(r"(\d+) '", line)]
        assert numbers in ([], [2, 2], [600, 600]), line


def test_htmx_polling_gets_only_the_status_part_of_the_page(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))

    response = owner.get(ImportJob.objects.get().get_absolute_url(), HTTP_HX_REQUEST="true")

    assertContains(response, 'id="import-status"')
    assertContains(response, "Import 2 records into Embase")
    assertNotContains(response, "<html")


def test_preview_imports_nothing_yet(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))

    assert not Record.objects.exists()


def test_reviewer_sees_the_preview_but_no_confirm_button(client, run_tasks, team, source):
    client.force_login(team.owner)
    upload(client, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    client.force_login(team.reviewer)

    response = job_page(client, job)

    assertContains(response, "ALK and p80 expression")
    assertNotContains(response, confirm_url(job))
    assertContains(response, "The review’s owner confirms or cancels this import.")


def test_an_empty_file_is_refused_by_name_on_the_search_page(owner, run_tasks, source):
    response = upload(owner, run_tasks, source, ("part1.ris", RIS), ("part2.ris", b""))

    assert response.status_code == 200
    assertContains(response, "“part2.ris” is empty (0 bytes).")
    assert not ImportJob.objects.exists()


def test_upload_without_a_file_asks_for_one(owner, source):
    response = owner.post(upload_url(source), {"format": ""})

    assert response.status_code == 200
    assertContains(response, "This field is required.")
    assert not ImportJob.objects.exists()


def test_upload_over_the_size_limit_is_refused(owner, run_tasks, source, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    big = RIS * (1_500_000 // len(RIS) + 1)

    response = upload(owner, run_tasks, source, ("embase.ris", big))

    assert response.status_code == 200
    assertContains(response, "the upload limit is 1 MB")
    assert not ImportJob.objects.exists()
    assert not ImportFile.objects.exists()


def test_a_pdf_named_ris_is_refused_at_upload_and_nothing_is_kept(
    owner, run_tasks, source, settings
):
    response = upload(
        owner, run_tasks, source, ("embase.ris", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    )

    assert response.status_code == 200
    assertContains(response, "embase.ris is a PDF document, not a search export.")
    assertContains(response, "Nothing was uploaded.")
    assert not ImportJob.objects.exists()
    assert not ImportFile.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.docx", None, "notes.docx is a Word document, not a search export"),
        ("scan.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    ],
)
def test_a_word_document_or_an_image_is_refused_with_the_good_file_beside_it(
    owner, run_tasks, source, settings, name, content, says
):
    if content is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as docx:
            docx.writestr("word/document.xml", "<w:document/>")
        content = buffer.getvalue()

    response = upload(owner, run_tasks, source, ("embase.ris", RIS), (name, content))

    assert response.status_code == 200
    assertContains(response, says)
    assert not ImportJob.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert "Uploaded" not in page_text(owner.get(upload_url(source)))


#: Text that sniffs as no known format: kept, so a format can be chosen for it.
UNRECOGNISED = b"Dear colleague,\nplease find the references below.\nBest wishes\n"


def test_an_unreadable_upload_reads_as_refused_and_cannot_be_confirmed(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.txt", UNRECOGNISED))
    job = ImportJob.objects.get()

    page = page_text(job_page(owner, job))
    confirm(owner, run_tasks, job)

    assert "Refused: the file could not be read, so nothing can be imported." in page
    assert "This file could not be read." in page
    # walk: the title was said twice, and the file's name twice in its message
    assert page.count("could not be read, so nothing can be imported") == 1
    assert "embase.txt: the format was not recognised." in page
    assert "The format of embase.txt" not in page
    assert "Ready to import" not in page
    assert "Import 0 records" not in page
    assertContains(
        job_page(owner, job), "Only an import whose files were all read without error can start."
    )
    assert not Record.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.record_count == 0
    search_page = page_text(owner.get(upload_url(source)))
    assert "Refused: could not be read" in search_page
    assert "Ready to import" not in search_page


def test_cancelling_a_refused_upload_removes_its_stored_file(owner, run_tasks, source, settings):
    upload(owner, run_tasks, source, ("embase.txt", UNRECOGNISED))
    job = ImportJob.objects.get()

    with run_tasks():
        owner.post(reverse("import-cancel", args=[job.review.slug, job.pk]))

    assert not ImportFile.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_one_unreadable_file_holds_back_the_whole_upload(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS), ("letter.txt", UNRECOGNISED))
    job = ImportJob.objects.get()

    page = job_page(owner, job)
    confirm(owner, run_tasks, job)

    assertContains(page, "Refused: not every file could be read, so nothing can be imported.")
    assertContains(page, "1 of the 2 files could not be read")
    assertNotContains(page, confirm_url(job))
    assert not Record.objects.exists()


def test_uploading_the_same_file_again_warns_it_was_already_imported(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    confirm(owner, run_tasks, ImportJob.objects.get())

    upload(owner, run_tasks, source, ("embase-again.ris", RIS))
    second = ImportJob.objects.latest("pk")

    text = page_text(job_page(owner, second))
    assert "This file was already imported on" in text
    assert "into “Embase” (2 records)" in text


def test_the_same_file_twice_in_one_upload_is_pointed_out(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("part1.ris", RIS), ("part1-copy.ris", RIS))

    response = job_page(owner, ImportJob.objects.get())

    assertContains(response, "“part1-copy.ris” is identical to “part1.ris” in this upload.")


def test_a_file_that_was_only_previewed_does_not_count_as_imported(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    upload(owner, run_tasks, source, ("embase.ris", RIS))

    response = job_page(owner, ImportJob.objects.latest("pk"))

    assertNotContains(response, "already imported")


# --- importing: what must not pass quietly ---

#: RIS whose download stopped inside its second record (no ER line, text cut mid-word).
RIS_CUT = (
    RIS.split(b"\n\nTY")[0] + b"\n\nTY  - JOUR\nAU  - Gleason, Brian C.\nTI  - Inflammatory myo"
)


def test_a_cut_last_record_is_listed_and_called_a_failed_download(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS_CUT))

    text = page_text(job_page(owner, ImportJob.objects.get()))

    assert "1 record is cut short, and will not be imported unless you accept it." in text
    assert "embase.ris: record 2, line 11 — the file’s last record" in text
    assert "A file whose last record is cut is usually a download that did not finish." in text
    assert "I accept the 1 cut-short record listed above as it is." in text
    # The data-losing warning comes first and is set apart from the notes.
    assert text.index("Check before importing: 1 problem that loses or changes data") < text.index(
        "note"
    )


def test_a_cut_record_is_not_imported_unless_accepted(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS_CUT))
    job = ImportJob.objects.get()

    confirm(owner, run_tasks, job)

    assert not Record.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert "Nothing was imported: 1 record is cut short (embase.ris: record 2, line 11)" in (
        page_text(job_page(owner, job))
    )


def test_accepting_the_cut_record_imports_it_as_it_is(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS_CUT))
    job = ImportJob.objects.get()

    with run_tasks():
        owner.post(confirm_url(job), {"accept_cut": "1"})

    titles = list(Record.objects.order_by("position").values_list("title", flat=True))
    assert titles == [
        "ALK and p80 expression in inflammatory myofibroblastic tumour",
        "Inflammatory myo",
    ]


def test_the_same_file_again_offers_no_plain_import_button(owner, run_tasks, source, team):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    confirm(owner, run_tasks, ImportJob.objects.get())
    upload(owner, run_tasks, source, ("embase-again.ris", RIS))
    second = ImportJob.objects.latest("pk")
    first = ImportJob.objects.earliest("pk")

    response = job_page(owner, second)
    text = page_text(response)

    assert "Import 2 records into Embase" not in text
    assert "Import it again (2 records)" in text
    assert (
        f"by {team.owner.display_name()} into “Embase” (2 records), uploaded as “embase.ris”"
        in text
    )
    assertContains(response, first.get_absolute_url())


def test_the_same_file_again_is_not_imported_without_choosing_to(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    confirm(owner, run_tasks, ImportJob.objects.get())
    upload(owner, run_tasks, source, ("embase-again.ris", RIS))
    second = ImportJob.objects.latest("pk")

    confirm(owner, run_tasks, second)

    assert Record.objects.count() == 2
    second.refresh_from_db()
    assert second.status == ImportStatus.READY
    assert "Choose “Import it again” if you mean to add the same records again." in page_text(
        job_page(owner, second)
    )


def test_choosing_to_import_the_same_file_again_imports_it(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("part1.ris", RIS), ("part1-copy.ris", RIS))
    job = ImportJob.objects.get()

    with run_tasks():
        owner.post(confirm_url(job), {"import_again": "1"})

    assert Record.objects.count() == 4
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE


def test_a_file_named_only_a_space_is_uploaded_under_a_stand_in_name(owner, run_tasks, source):
    response = upload(owner, run_tasks, source, (" ", RIS))

    job = ImportJob.objects.get()
    assertRedirects(response, job.get_absolute_url())
    assert job.files.get().original_name == "unnamed file"
    assert "Import 2 records into Embase" in page_text(job_page(owner, job))


def test_an_excel_bomb_is_refused_with_the_limit_it_broke(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("scopus.xlsx", xlsx_bombs.declared_bomb("A1:ZZ3000000")))
    job = ImportJob.objects.get()

    text = page_text(job_page(owner, job))

    assert "Refused: the file could not be read, so nothing can be imported." in text
    assert "The sheet declares the range A1:ZZ3000000: 3,000,000 rows" in text
    assert "over the limit of 200,000 rows" in text
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.record_count == 0
    assert not Record.objects.exists()


# --- importing: confirm ---


def test_confirm_imports_every_record_with_its_details(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()

    response = confirm(owner, run_tasks, job)

    assertRedirects(response, job.get_absolute_url())
    assertContains(job_page(owner, job), "2 records imported into Embase")
    first, second = Record.objects.order_by("position")
    assert first.title == "ALK and p80 expression in inflammatory myofibroblastic tumour"
    assert first.authors == ["Coffin, Cheryl M.", "Hornick, Jason L."]
    assert first.year == 2007
    assert first.doi == "10.1097/01.pas.0000213358.47426.e5"
    assert first.abstract == "Anaplastic lymphoma kinase expression in 59 tumours."
    assert first.journal == "American Journal of Surgical Pathology"
    assert second.title == "Inflammatory myofibroblastic tumours: where are we now?"
    assert second.authors == ["Gleason, Brian C."]
    assert second.year == 2008
    assert second.doi == "10.1136/jcp.2007.047928"
    assert {r.source for r in (first, second)} == {source}
    assert {r.review for r in (first, second)} == {source.review}


def test_imported_records_are_listed_on_the_records_page(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    confirm(owner, run_tasks, ImportJob.objects.get())

    response = owner.get(reverse("record-list", args=[source.review.slug]))

    assertContains(response, "ALK and p80 expression in inflammatory myofibroblastic tumour")
    assertContains(response, "Inflammatory myofibroblastic tumours: where are we now?")


def test_search_page_counts_the_imported_records(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    confirm(owner, run_tasks, ImportJob.objects.get())

    response = owner.get(upload_url(source))

    assertContains(response, "2 records imported")


def test_a_job_cannot_be_imported_twice(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    confirm(owner, run_tasks, job)

    confirm(owner, run_tasks, job)

    assertContains(
        job_page(owner, job), "Only an import whose files were all read without error can start."
    )
    assert Record.objects.count() == 2


def test_two_files_in_one_upload_import_together(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("part1.ris", RIS), ("part2.ris", RIS_MORE))
    job = ImportJob.objects.get()
    assertContains(job_page(owner, job), "Import 3 records into Embase")

    confirm(owner, run_tasks, job)

    assert Record.objects.count() == 3
    assert {r.import_file.original_name for r in Record.objects.all()} == {
        "part1.ris",
        "part2.ris",
    }


def test_an_import_lands_whole_or_not_at_all(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("part1.ris", RIS), ("part2.ris", RIS_MORE))
    job = ImportJob.objects.get()
    second = job.files.get(original_name="part2.ris")
    # The stored copy goes bad between the preview and the import.
    Path(second.file.path).write_bytes(b"\x00\xff\x00garbage, not RIS at all\x00\xff")

    confirm(owner, run_tasks, job)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert Record.objects.count() == 0
    text = page_text(job_page(owner, job))
    assert "The import failed. Nothing was imported." in text
    assert "part2.ris" in job.error
    assert job.error in text


# --- importing: reconfigure ---


def test_csv_without_a_title_column_shows_its_columns(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("scopus.csv", CSV_WITHOUT_TITLE_COLUMN))
    job = ImportJob.objects.get()

    response = job_page(owner, job)

    import_file = job.files.get()
    for column in ("Heading", "Writers", "Published"):
        assertContains(response, f'<option value="{column}">{column}</option>', html=True)
    assertContains(response, f'name="file{import_file.pk}-map_title"')
    assert not Record.objects.exists()


def test_mapping_the_title_column_makes_the_csv_importable(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("scopus.csv", CSV_WITHOUT_TITLE_COLUMN))
    job = ImportJob.objects.get()

    reconfigure(
        owner,
        run_tasks,
        job,
        job.files.get(),
        format="csv",
        map_title="Heading",
        map_authors="Writers",
        map_year="Published",
    )

    preview = job_page(owner, job)
    assertContains(preview, "Import 2 records into Embase")
    assertContains(preview, "Pulmonary inflammatory myofibroblastic tumour")
    confirm(owner, run_tasks, job)
    imported = list(Record.objects.order_by("position").values_list("title", "authors", "year"))
    assert imported == [
        ("Pulmonary inflammatory myofibroblastic tumour", ["Smith J"], 2010),
        ("IMT of the bladder in a child", ["Jones K"], 2012),
    ]


def test_a_mapping_the_form_cannot_take_is_not_dropped_silently(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()

    reconfigure(owner, run_tasks, job, job.files.get(), format="csv", map_title="No such column")

    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    shown = job_page(owner, job).context["messages"]
    assert [m for m in shown if m.level_tag == "error"], "the owner is not told nothing changed"


def test_choosing_the_format_by_hand_rereads_the_file(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.txt", RIS), fmt="ris")
    job = ImportJob.objects.get()

    response = job_page(owner, job)

    assertContains(response, "(chosen by hand)")
    assertContains(response, "Import 2 records into Embase")


def test_an_imported_job_cannot_be_reconfigured(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    confirm(owner, run_tasks, job)

    reconfigure(owner, run_tasks, job, job.files.get(), format="csv")

    assertContains(job_page(owner, job), "This import can no longer be changed.")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE


def test_a_confirmed_import_waiting_for_a_worker_shows_no_stale_progress(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()

    owner.post(confirm_url(job))  # queued, but no worker has picked it up yet

    text = page_text(job_page(owner, job))
    assert "Waiting to import" in text
    assert "Files read 0 of 1" not in text


# --- importing: cancel ---


def test_cancelling_a_ready_import_keeps_nothing(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    stored = Path(job.files.get().file.path)
    assert stored.exists()

    with run_tasks():
        response = owner.post(reverse("import-cancel", args=[job.review.slug, job.pk]), follow=True)

    assertRedirects(response, upload_url(source))
    assertContains(response, "Import cancelled; nothing was imported.")
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert not Record.objects.exists()
    assert not ImportFile.objects.exists()
    assert not stored.exists()


def test_an_imported_job_cannot_be_cancelled(owner, run_tasks, source):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    confirm(owner, run_tasks, job)

    with run_tasks():
        response = owner.post(reverse("import-cancel", args=[job.review.slug, job.pk]), follow=True)

    assertContains(response, "Only an import that has not finished can be cancelled")
    assert Record.objects.count() == 2
    assert Path(job.files.get().file.path).exists()


# --- a hidden search takes no records ---


def hide(source, team):
    from reviewer.services.sources import source_hide

    source_hide(source=source, user=team.owner, reason="Run with the wrong date limits")


def test_a_hidden_search_refuses_an_upload_and_says_why(owner, run_tasks, source, team):
    hide(source, team)

    response = upload(owner, run_tasks, source, ("embase.ris", RIS))

    text = page_text(response)
    assert "The search “Embase” is hidden (Run with the wrong date limits)" in text
    assert "Nothing was uploaded." in text
    assert "This search is hidden, so it takes no uploads." in text
    assert "Upload and preview" not in text  # no upload form to try again
    assert not ImportJob.objects.exists() and not ImportFile.objects.exists()


def test_an_upload_read_before_its_search_was_hidden_is_not_imported(
    owner, run_tasks, source, team
):
    upload(owner, run_tasks, source, ("embase.ris", RIS))
    job = ImportJob.objects.get()
    hide(source, team)

    response = confirm(owner, run_tasks, job)

    messages = page_text(owner.get(response["Location"]))
    assert "The search “Embase” is hidden" in messages and "Nothing was imported." in messages
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert not Record.objects.filter(source=source).exists()


def test_a_search_listed_again_takes_uploads_again(owner, run_tasks, source, team):
    from reviewer.services.sources import source_unhide

    hide(source, team)
    source_unhide(source=source)

    response = upload(owner, run_tasks, source, ("embase.ris", RIS))

    assertRedirects(response, ImportJob.objects.get().get_absolute_url())
