"""Restoring refuses a damaged, foreign or newer archive with a clear message and stores
nothing; people are matched by email; unfinished jobs come back as failed."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from analysis.models import AnalysisKind, AnalysisRun, RunStatus
from reviewer.archive import ArchiveError, archive_restore, layout
from reviewer.archive import restore as restore_module
from reviewer.models import (
    Decision,
    FullText,
    Membership,
    RankingJob,
    RankingMethod,
    RankingStatus,
    RankingTrigger,
    Review,
    Role,
    User,
)
from tests.reviewer.archive.helpers import archive_bytes, manifest_of, members, rewrite, rows_in
from tests.reviewer.archive.small import small_review, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive() -> bytes:
    review = small_review()
    return archive_bytes(review)


def refused(data: bytes, message: str, **options) -> None:
    """Restoring `data` fails with `message` and stores nothing (the original review is
    still there, so the copy goes to another address unless a test says otherwise)."""
    options.setdefault("slug", "other")
    before = snapshot()
    with pytest.raises(ArchiveError, match=message):
        archive_restore(source=io.BytesIO(data), **options)
    assert snapshot() == before, "a refused archive stored something"


def test_small_review_restores_with_its_pdf_and_decisions(archive):
    restored = archive_restore(source=io.BytesIO(archive), slug="adult-imt-2")

    copy = restored.review
    original = Review.objects.get(slug="adult-imt")
    assert copy.title == "Adult IMT" and copy.pk != original.pk
    assert Decision.objects.filter(review=copy).count() == 3
    pdf = FullText.objects.get(review=copy).pdf
    assert pdf.name != FullText.objects.get(review=original).pdf.name
    assert pdf.read() == FullText.objects.get(review=original).pdf.read()


def test_not_a_zip_is_refused():
    refused(b"%PDF-1.4 not an archive", "not a readable ZIP file")


def test_a_zip_without_a_manifest_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as other:
        other.writestr("people.jsonl", "")
    refused(out.getvalue(), "has no manifest.json")


def test_a_changed_table_is_refused_by_its_checksum(archive):
    def change(files):
        files["tables/reviewer.decision.jsonl"] = files["tables/reviewer.decision.jsonl"].replace(
            b'"exclude"', b'"include"'
        )

    refused(rewrite(archive, change, fix_manifest=False), "reviewer.decision.jsonl does not match")


def test_a_changed_pdf_is_refused_by_its_checksum(archive):
    def change(files):
        (name,) = [n for n in files if n.startswith("files/reviewer.fulltext/")]
        files[name] = files[name] + b"%"

    refused(rewrite(archive, change, fix_manifest=False), "does not match its checksum")


def test_a_missing_file_is_refused(archive):
    def change(files):
        del files["tables/reviewer.record.jsonl"]

    refused(
        rewrite(archive, change, fix_manifest=False),
        "tables/reviewer.record.jsonl is listed in its manifest but missing",
    )


def test_bad_json_is_refused_with_the_line(archive):
    def change(files):
        files["tables/reviewer.record.jsonl"] += b'{"id": 3, "title": \n'

    refused(rewrite(archive, change), r"reviewer.record.jsonl, line 3: not valid JSON")


def test_a_wrong_row_count_is_refused(archive):
    def change(files):
        manifest = json.loads(files["manifest.json"])
        manifest["tables"][0]["rows"] = 5
        files["manifest.json"] = json.dumps(manifest).encode()

    refused(rewrite(archive, change, fix_manifest=False), "holds 1 rows, its manifest says 5")


def test_a_value_of_the_wrong_type_is_refused_with_where(archive):
    def change(files):
        files["tables/reviewer.review.jsonl"] = files["tables/reviewer.review.jsonl"].replace(
            b'"blinded":true', b'"blinded":"maybe"'
        )

    refused(
        rewrite(archive, change), r"reviewer.review.jsonl, line 1: .blinded. must be true or false"
    )


def test_a_row_with_a_column_the_manifest_does_not_list_is_refused(archive):
    def change(files):
        files["tables/reviewer.source.jsonl"] = files["tables/reviewer.source.jsonl"].replace(
            b'"kind":', b'"secret":1,"kind":'
        )

    refused(
        rewrite(archive, change), "reviewer.source.jsonl, line 1: columns its manifest .*secret"
    )


def test_an_archive_of_a_newer_format_is_refused_saying_to_upgrade(archive):
    def change(files):
        manifest = json.loads(files["manifest.json"])
        manifest["format_version"] = layout.FORMAT_VERSION + 1
        manifest["app_version"] = "9.0.0"
        files["manifest.json"] = json.dumps(manifest).encode()

    refused(
        rewrite(archive, change), r"newer version of the app \(9.0.0.*Upgrade this server first"
    )


def test_a_column_this_version_does_not_know_is_refused(archive):
    def change(files):
        manifest = json.loads(files["manifest.json"])
        manifest["tables"][0]["columns"].append("licence")
        files["manifest.json"] = json.dumps(manifest).encode()

    refused(rewrite(archive, change), "columns this version .* does not know: licence")


def test_an_older_archive_without_a_column_restores_with_its_default(archive):
    def change(files):
        manifest = json.loads(files["manifest.json"])
        manifest["tables"][0]["columns"].remove("blinded")
        files["manifest.json"] = json.dumps(manifest).encode()
        row = json.loads(files["tables/reviewer.review.jsonl"])
        del row["blinded"]
        files["tables/reviewer.review.jsonl"] = (json.dumps(row) + "\n").encode()

    restored = archive_restore(source=io.BytesIO(rewrite(archive, change)), slug="older")

    assert restored.review.blinded is True


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/passwd", "files/reviewer.fulltext/1/pdf/../../x"]
)
def test_a_file_name_outside_the_layout_is_refused(archive, name):
    def change(files):
        files[name] = b"x"

    refused(rewrite(archive, change), "a name it may not have")


def test_a_zip_bomb_is_refused(archive, monkeypatch):
    monkeypatch.setattr(restore_module, "RATIO_FLOOR", 1000)

    def change(files):
        files["tables/reviewer.removal.jsonl"] = b" " * 3_000_000

    refused(rewrite(archive, change, fix_manifest=False), "refused as a zip bomb")


def test_an_archive_unpacking_to_more_than_the_limit_is_refused(archive, settings):
    settings.ARCHIVE_MAX_UNPACKED_MB = 0

    refused(archive, "unpacks to more than 0 MB")


def test_a_taken_address_is_refused(archive):
    refused(archive, "“adult-imt” exists already", slug="")


def test_a_failure_after_the_files_were_stored_deletes_them_again(archive):
    # a removal (restored after the full texts) of a record the archive does not hold
    def change(files):
        files["tables/reviewer.removal.jsonl"] = (
            b'{"id":1,"review":1,"record":99,"reason":"Old","by_automation":false,'
            b'"removed_by":1,"created_at":"2024-01-01T00:00:00+00:00"}\n'
        )

    refused(
        rewrite(archive, change, fix_manifest=True),
        r"reviewer.removal.jsonl, line 1: record: refers to reviewer.Record 99",
    )


def test_people_are_matched_by_email_and_the_missing_get_inactive_accounts(archive):
    # on the new server: rita has an account under another username; olga has none
    Review.objects.all().delete()
    User.objects.filter(username="olga").delete()
    rita = User.objects.get(username="rita")
    rita.username, rita.email = "rita.m", "RITA@example.org"
    rita.save()

    restored = archive_restore(source=io.BytesIO(archive))

    assert restored.people_matched == [rita]
    (olga,) = restored.people_created
    assert (olga.username, olga.email, olga.first_name) == ("olga", "olga@example.org", "Olga")
    assert not olga.is_active and not olga.has_usable_password()
    roles = dict(Membership.objects.filter(review=restored.review).values_list("user", "role"))
    assert roles == {olga.pk: Role.OWNER, rita.pk: Role.REVIEWER}
    assert Decision.objects.filter(review=restored.review, reviewer=rita).count() == 2


def test_the_person_restoring_becomes_an_owner(archive):
    newcomer = User.objects.create_user("nina", password="pw")

    restored = archive_restore(source=io.BytesIO(archive), slug="mine", owner=newcomer)

    assert restored.owner_added
    assert Membership.objects.get(review=restored.review, user=newcomer).role == Role.OWNER


def test_the_person_restoring_gets_the_ranking_start_of_any_new_member(
    django_capture_on_commit_callbacks,
):
    review = small_review()
    review.question = "Inflammatory myofibroblastic tumour of the lung"
    review.save()
    data = archive_bytes(review)
    newcomer = User.objects.create_user("nina", password="pw")

    with django_capture_on_commit_callbacks(execute=True):
        restored = archive_restore(source=io.BytesIO(data), slug="mine", owner=newcomer)

    job = RankingJob.objects.get(review=restored.review, reviewer=newcomer)
    assert (job.trigger, job.status, job.method) == (
        RankingTrigger.JOINED,
        RankingStatus.SUCCEEDED,
        RankingMethod.QUESTION,
    )


def test_an_unfinished_job_comes_back_failed_saying_why():
    review = small_review()
    AnalysisRun.objects.create(
        review=review, kind=AnalysisKind.CHARACTERISTICS, spec={}, started_by=review.created_by
    )
    data = archive_bytes(review)
    assert rows_in(data, "analysis.AnalysisRun")[0]["status"] == RunStatus.QUEUED

    restored = archive_restore(source=io.BytesIO(data), slug="copy")

    run = AnalysisRun.objects.get(review=restored.review)
    assert run.status == RunStatus.FAILED
    assert "had not finished when the review's archive was taken" in run.error


def test_the_manifest_counts_rows_and_checksums_every_file(archive):
    manifest = manifest_of(archive)
    files = members(archive)

    counts = {t["model"]: t["rows"] for t in manifest["tables"]}
    assert counts["reviewer.Decision"] == 3 and counts["reviewer.FullText"] == 1
    assert manifest["app_version"] and manifest["format_version"] == layout.FORMAT_VERSION
    assert set(files) == {
        "manifest.json",
        manifest["people"]["file"],
        *(t["file"] for t in manifest["tables"]),
        *(f["path"] for f in manifest["files"]),
    }
