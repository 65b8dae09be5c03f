"""The extraction import/export pages (extraction.views.transfer)."""

from __future__ import annotations

import codecs
import csv
import io
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from extraction import transfer_sheets
from extraction.models import Extraction, PendingImport
from extraction.selectors import study_key
from extraction.services.uploads import UPLOAD_DIR
from extraction.views.transfer import SHOWN_PROBLEMS
from reviewer.imports.workbook_limits import WorkbookLimits
from reviewer.models import Role
from tests import xlsx_bombs
from tests.extraction.helpers import case_series_form, fill, make_study
from tests.factories import Endpoint, make_review, page_text
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db

PATIENT = {"sex": "Male", "age_months": "84", "site": "Thorax", "management": "Operative"}


def children(review):
    """No URL here names a child object: an upload is found by its token and its uploader."""
    return SimpleNamespace()


def _small_upload(children):
    return {
        "file": SimpleUploadedFile("patients.csv", b"study_key,patient\n", "text/csv"),
        "kind": "patients",
        "target": "mine",
    }


def _token(children):
    return {"token": "not-an-upload-of-this-session"}


ENDPOINTS = [
    Endpoint("extraction-transfer", "get", Role.REVIEWER, 200),
    # With no query, the patient rows of the final data as CSV.
    Endpoint("extraction-export", "get", Role.REVIEWER, 200),
    Endpoint("extraction-import", "post", Role.REVIEWER, 302, data=_small_upload),
    # Without an upload in the session these send the person back to the page.
    Endpoint("extraction-import-preview", "get", Role.REVIEWER, 302),
    Endpoint("extraction-import-problems", "get", Role.REVIEWER, 302),
    Endpoint("extraction-import-commit", "post", Role.REVIEWER, 302, data=_token),
    Endpoint("extraction-import-cancel", "post", Role.REVIEWER, 302, data=_token),
    Endpoint("extraction-import-restart", "post", Role.REVIEWER, 302, data=_token),
]

WRONG_METHODS = [
    Endpoint("extraction-transfer", "post", Role.REVIEWER, 405),
    Endpoint("extraction-export", "post", Role.REVIEWER, 405),
    Endpoint("extraction-import", "get", Role.REVIEWER, 405),
    Endpoint("extraction-import-preview", "post", Role.REVIEWER, 405),
    Endpoint("extraction-import-problems", "post", Role.REVIEWER, 405),
    Endpoint("extraction-import-commit", "get", Role.REVIEWER, 405),
    Endpoint("extraction-import-cancel", "get", Role.REVIEWER, 405),
    Endpoint("extraction-import-restart", "get", Role.REVIEWER, 405),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)
    # Every role may use every URL here (the reviewer is the least role), so no member
    # has too low a role; the consensus as target is refused with 403, tested below.
    test_member_with_too_low_a_role_gets_403 = None
    # No URL names a child object; another review's upload is tested below.
    test_child_of_another_review_gets_404_even_for_an_owner = None


# --- helpers ---


@pytest.fixture
def form(team):
    return case_series_form(team.review)


@pytest.fixture
def study(team, form):
    return make_study(team.review, "Coffin 2007")


def sheet(form, rows):
    columns = ["study_key", "study", "patient", *(f.key for f in form.patient_fields)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode()


def upload(client, review, content, *, name="patients.csv", kind="patients", target="mine"):
    return client.post(
        reverse("extraction-import", args=[review.slug]),
        {"file": SimpleUploadedFile(name, content), "kind": kind, "target": target},
    )


def token_of(response):
    return parse_qs(urlparse(response["Location"]).query)["token"][0]


def stored_uploads():
    if not default_storage.exists(UPLOAD_DIR):
        return []
    return default_storage.listdir(UPLOAD_DIR)[1]


# --- the page ---


def test_page_offers_every_export_and_the_upload_form(client, team, study):
    fill(study, team.reviewer, patients=[PATIENT])
    fill(study, None, patients=[PATIENT], done=True)  # the final consensus
    client.force_login(team.reviewer)

    response = client.get(reverse("extraction-transfer", args=[team.review.slug]))

    text = page_text(response)
    assert "Patient rows" in text and "Study values" in text
    assert response.content.count(b"?kind=") == 8
    assert "Check the file" in text
    assert "age_months" in text  # the column guide


def test_with_nothing_to_export_the_page_says_so_instead_of_offering_empty_files(
    client, team, study
):
    fill(study, team.senior, patients=[PATIENT])  # a colleague's copy: not the reviewer's
    client.force_login(team.reviewer)

    response = client.get(reverse("extraction-transfer", args=[team.review.slug]))

    text = page_text(response)
    assert b"?kind=" not in response.content
    assert "Final data (what analysis reads: 0 studies)" in text
    assert "Nothing to export yet: no study has final data" in text
    assert "My copies (0 studies)" in text
    assert "Nothing to export yet: you have no copy of a study." in text


def test_my_copies_are_offered_once_i_have_one(client, team, study):
    fill(study, team.reviewer, patients=[PATIENT])
    client.force_login(team.reviewer)

    response = client.get(reverse("extraction-transfer", args=[team.review.slug]))

    assert response.content.count(b"scope=mine") == 4
    assert b"scope=final" not in response.content
    assert "you have no copy" not in page_text(response)


def test_reviewer_sees_the_consensus_target_disabled_and_why(client, team, form):
    client.force_login(team.reviewer)

    response = client.get(reverse("extraction-transfer", args=[team.review.slug]))

    assert b'type="radio" disabled' in response.content
    assert "Senior authors import into the consensus copies." in page_text(response)


def test_senior_can_choose_the_consensus_target(client, team, form):
    client.force_login(team.senior)

    response = client.get(reverse("extraction-transfer", args=[team.review.slug]))

    assert b'type="radio" disabled' not in response.content
    assert b'value="consensus"' in response.content


# --- export ---


def test_export_downloads_a_csv_named_after_review_kind_scope_and_day(client, team, study):
    fill(study, team.reviewer, patients=[{"label": "Case 1", **PATIENT}])
    client.force_login(team.reviewer)

    response = client.get(
        reverse("extraction-export", args=[team.review.slug]),
        {"kind": "patients", "scope": "mine", "format": "csv"},
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="pediatric-imt-patients-mine-20')
    assert response.content.startswith(codecs.BOM_UTF8)
    assert "Case 1" in response.content.decode("utf-8-sig")


def test_export_xlsx_is_a_workbook(client, team, study):
    client.force_login(team.reviewer)

    response = client.get(
        reverse("extraction-export", args=[team.review.slug]),
        {"kind": "studies", "scope": "final", "format": "xlsx"},
    )

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.active["A1"].value == "study_key"


def test_export_with_an_unknown_kind_is_404(client, team, form):
    client.force_login(team.reviewer)

    response = client.get(
        reverse("extraction-export", args=[team.review.slug]),
        {"kind": "everything", "scope": "final", "format": "csv"},
    )

    assert response.status_code == 404


# --- import ---


def test_upload_without_a_file_shows_the_form_again_with_the_error(client, team, form):
    client.force_login(team.reviewer)

    response = client.post(
        reverse("extraction-import", args=[team.review.slug]),
        {"kind": "patients", "target": "mine"},
    )

    assert response.status_code == 200
    assert "This field is required." in page_text(response)


def test_reviewer_uploading_into_the_consensus_gets_403(client, team, study, form):
    client.force_login(team.reviewer)

    response = upload(client, team.review, sheet(form, []), target="consensus")

    assert response.status_code == 403
    assert stored_uploads() == []


def test_preview_lists_each_problem_by_row_column_value_and_why(client, team, study, form):
    client.force_login(team.reviewer)
    content = sheet(
        form,
        [
            {"study_key": study_key(study), **PATIENT},
            {"study_key": study_key(study), **PATIENT, "age_months": "seven"},
            {"study_key": "S999999", **PATIENT},
        ],
    )

    response = client.get(upload(client, team.review, content)["Location"])

    text = page_text(response)
    assert "2 problems: nothing can be imported until every row is valid." in text
    assert "3 age_months seven “seven” is not a whole number." in text
    assert "4 study_key S999999 “S999999” is not a study of this review." in text
    assert reverse("extraction-import-commit", args=[team.review.slug]).encode() not in (
        response.content
    )
    assert not Extraction.objects.exists()


def test_preview_caps_the_list_and_says_how_many_more(client, team, study, form):
    client.force_login(team.reviewer)
    bad = [{"study_key": study_key(study), **PATIENT, "age_months": "x"}] * (SHOWN_PROBLEMS + 20)

    response = client.get(upload(client, team.review, sheet(form, bad))["Location"])

    text = page_text(response)
    assert f"{SHOWN_PROBLEMS + 20} problems" in text
    assert f"Showing the first {SHOWN_PROBLEMS} of {SHOWN_PROBLEMS + 20} problems." in text
    assert response.content.count(b"is not a whole number") == SHOWN_PROBLEMS


def test_every_problem_downloads_as_csv(client, team, study, form):
    client.force_login(team.reviewer)
    bad = [{"study_key": study_key(study), **PATIENT, "age_months": "x"}] * (SHOWN_PROBLEMS + 20)
    token = token_of(upload(client, team.review, sheet(form, bad)))

    response = client.get(
        reverse("extraction-import-problems", args=[team.review.slug]), {"token": token}
    )

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == SHOWN_PROBLEMS + 20
    assert rows[0] == {
        "row": "2",
        "column": "age_months",
        "value": "x",
        "why": "“x” is not a whole number.",
    }


def test_a_valid_file_previews_then_imports_on_commit(client, team, study, form):
    client.force_login(team.reviewer)
    content = sheet(
        form,
        [
            {"study_key": study_key(study), "patient": "Case 1", **PATIENT},
            {"study_key": study_key(study), "patient": "Case 2", **PATIENT},
        ],
    )
    token = token_of(upload(client, team.review, content))
    preview_url = reverse("extraction-import-preview", args=[team.review.slug])

    preview = client.get(preview_url, {"token": token})

    assert "Every row is valid." in page_text(preview)
    assert "Import 2 rows into 1 study" in page_text(preview)
    assert not Extraction.objects.exists()

    response = client.post(
        reverse("extraction-import-commit", args=[team.review.slug]), {"token": token}
    )

    assert response["Location"] == reverse("extraction-transfer", args=[team.review.slug])
    copy = Extraction.objects.get(study=study, extractor=team.reviewer)
    assert list(copy.patients.values_list("label", flat=True)) == ["Case 1", "Case 2"]
    page = client.get(response["Location"])
    assert "Imported 2 patient rows of 1 study from “patients.csv” into your copies." in (
        page_text(page)
    )
    assert stored_uploads() == []
    assert client.get(preview_url, {"token": token}).status_code == 302


def test_senior_imports_into_the_consensus(client, team, study, form):
    client.force_login(team.senior)
    content = sheet(form, [{"study_key": study_key(study), "patient": "A", **PATIENT}])
    token = token_of(upload(client, team.review, content, target="consensus"))

    client.post(reverse("extraction-import-commit", args=[team.review.slug]), {"token": token})

    consensus = Extraction.objects.get(study=study, extractor__isnull=True)
    assert consensus.patients.count() == 1


def test_commit_that_no_longer_passes_shows_the_problems_and_saves_nothing(
    client, team, study, form
):
    client.force_login(team.reviewer)
    content = sheet(form, [{"study_key": study_key(study), "patient": "A", **PATIENT}])
    token = token_of(upload(client, team.review, content))
    fill(study, team.senior)
    fill(study, team.owner)

    response = client.post(
        reverse("extraction-import-commit", args=[team.review.slug]), {"token": token}
    )

    assert response.status_code == 200
    text = page_text(response)
    assert "Nothing was imported: the file no longer passes every check." in text
    assert "already has its extractors" in text
    assert not Extraction.objects.filter(extractor=team.reviewer).exists()


def test_cancel_forgets_the_upload_and_deletes_the_file(client, team, study, form):
    client.force_login(team.reviewer)
    token = token_of(upload(client, team.review, sheet(form, [])))
    assert len(stored_uploads()) == 1

    response = client.post(
        reverse("extraction-import-cancel", args=[team.review.slug]), {"token": token}
    )

    assert response.status_code == 302
    assert stored_uploads() == []
    assert not PendingImport.objects.filter(token=token).exists()


def test_a_new_upload_replaces_the_pending_one_for_the_review(client, team, study, form):
    client.force_login(team.reviewer)
    first = token_of(upload(client, team.review, sheet(form, [])))

    second = token_of(upload(client, team.review, sheet(form, [])))

    assert list(PendingImport.objects.values_list("token", flat=True)) == [second]
    assert first != second
    assert len(stored_uploads()) == 1


def test_an_upload_cannot_be_reached_through_another_review(client, team, study, form):
    other = make_review(owner=team.reviewer, title="Adult IMT")
    client.force_login(team.reviewer)
    token = token_of(upload(client, team.review, sheet(form, [])))

    response = client.get(reverse("extraction-import-preview", args=[other.slug]), {"token": token})

    assert response.status_code == 302
    assert "no longer here" in page_text(client.get(response["Location"]))


def test_an_upload_cannot_be_reached_from_another_session(client, team, study, form):
    client.force_login(team.reviewer)
    token = token_of(upload(client, team.review, sheet(form, [])))
    client.logout()
    client.force_login(team.senior)

    response = client.post(
        reverse("extraction-import-commit", args=[team.review.slug]), {"token": token}
    )

    assert response.status_code == 302
    assert not Extraction.objects.exists()


def test_a_study_values_workbook_previews_what_it_sets(client, team, study, form):
    workbook = openpyxl.Workbook()
    workbook.active.append(["study_key", "design", "patients", "ipd"])
    workbook.active.append([study_key(study), "Registry study", 12, "yes"])
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(team.reviewer)

    response = upload(client, team.review, out.getvalue(), name="studies.xlsx", kind="studies")
    preview = client.get(response["Location"])

    text = page_text(preview)
    assert "XLSX" in text
    assert "sets the values of 3 columns for 1 study, starting 1 new copy." in text


# --- decompression bombs: refused cheaply, before any cell is read ---


@pytest.mark.parametrize(
    ("bomb", "says"),
    [
        (
            lambda: xlsx_bombs.declared_bomb("A1:ZZ3000000"),
            "The sheet declares the range A1:ZZ3000000: 3,000,000 rows and 702 columns, over "
            "the limit of 100,000 rows and 1,000 columns.",
        ),
        (
            lambda: xlsx_bombs.text_bomb(megabytes=30),
            "more than 200 times its size: a compression bomb, not a spreadsheet.",
        ),
        (lambda: xlsx_bombs.wide_row_bomb("XFD"), "Row 2 of the sheet is 16,384 cells wide"),
        (
            lambda: xlsx_bombs.far_row_bomb(1_048_576),
            "The sheet has more than 100,000 rows, the limit.",
        ),
    ],
    ids=["declared-rows", "thousand-fold", "last-column", "far-row"],
)
def test_a_workbook_bomb_is_refused_in_the_preview_and_nothing_imported(
    client, team, study, form, bomb, says
):
    client.force_login(team.reviewer)

    response = client.get(upload(client, team.review, bomb(), name="patients.xlsx")["Location"])

    text = page_text(response)
    assert "“patients.xlsx” was not read." in text
    assert says in text
    assert reverse("extraction-import-commit", args=[team.review.slug]).encode() not in (
        response.content
    )
    assert not Extraction.objects.exists()


def test_rows_past_the_limit_are_refused_before_the_sheet_is_read(
    client, team, study, form, monkeypatch
):
    monkeypatch.setattr(
        transfer_sheets,
        "LIMITS",
        WorkbookLimits(rows=50, columns=100, uncompressed_bytes=1024 * 1024),
    )
    client.force_login(team.reviewer)

    response = client.get(
        upload(client, team.review, xlsx_bombs.rows_bomb(60), name="patients.xlsx")["Location"]
    )

    assert "The sheet has more than 50 rows, the limit." in page_text(response)
    assert not Extraction.objects.exists()
