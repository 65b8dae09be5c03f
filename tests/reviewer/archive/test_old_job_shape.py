"""Archives written before the job lifecycle was one (issue 15, item 2) still restore: their
jobs' statuses ("done") and columns (an analysis run's `started_at`, no progress columns)
are read as this version names them; so are runs cancelled before every kind of job ended
a cancel `cancelled` (they were `failed`, "Cancelled by …")."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.models import AnalysisRun, RunStatus
from reviewer.archive import archive_restore
from reviewer.models import DedupJob, DedupStatus, ImportJob, ImportStatus, JobStatus, RankingJob
from reviewer.services.jobs import cancelled_note
from tests.factories import make_import_job, make_source
from tests.reviewer.archive.helpers import archive_bytes, rewrite, rows_in
from tests.reviewer.archive.small import small_review

pytestmark = pytest.mark.django_db

#: The columns the job tables did not have before issue 15.
NEW_COLUMNS = {"progress", "progress_total", "phase"}
#: What each job table's old shape left out or named differently.
OLD_SHAPES = {
    "reviewer.ImportJob": (NEW_COLUMNS, {}),
    "reviewer.DedupJob": (NEW_COLUMNS, {}),
    "reviewer.RankingJob": (NEW_COLUMNS, {}),
    "analysis.AnalysisRun": ({"progress_total"}, {"claimed_at": "started_at"}),
}


def in_old_shape(files: dict[str, bytes]) -> None:
    """Turn an archive of this version into one as the version before issue 15 wrote it."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["tables"]:
        if entry["model"] not in OLD_SHAPES:
            continue
        dropped, renamed = OLD_SHAPES[entry["model"]]
        entry["columns"] = [renamed.get(c, c) for c in entry["columns"] if c not in dropped]
        rows = []
        for line in files[entry["file"]].decode().splitlines():
            row = {renamed.get(k, k): v for k, v in json.loads(line).items() if k not in dropped}
            if entry["model"] in {"reviewer.ImportJob", "reviewer.DedupJob"}:
                row["status"] = {"succeeded": "done"}.get(row["status"], row["status"])
            rows.append(json.dumps(row) + "\n")
        files[entry["file"]] = "".join(rows).encode()
    files["manifest.json"] = json.dumps(manifest).encode()


def test_an_archive_in_the_old_job_shape_restores_with_todays_words():
    review = small_review()
    owner = review.created_by
    imported = make_import_job(
        make_source(review, name="Old search"), status=ImportStatus.DONE, record_count=2
    )
    DedupJob.objects.create(review=review, created_by=owner, status=DedupStatus.DONE)
    started = timezone.now() - timedelta(minutes=3)
    AnalysisRun.objects.create(
        review=review,
        kind="crosstab",
        spec={"row": "a", "col": "b"},
        started_by=owner,
        status=RunStatus.SUCCEEDED,
        progress=100,
        claimed_at=started,
        finished_at=started + timedelta(seconds=2),
    )
    old = rewrite(archive_bytes(review), in_old_shape)
    assert {row["status"] for row in rows_in(old, "reviewer.ImportJob")} == {"done"}
    assert "started_at" in rows_in(old, "analysis.AnalysisRun")[0]
    assert "progress_total" not in rows_in(old, "analysis.AnalysisRun")[0]

    copy = archive_restore(source=io.BytesIO(old), slug="restored").review

    job = ImportJob.objects.get(review=copy, source__name="Old search")
    assert job.status == ImportStatus.DONE == "succeeded"
    assert job.get_status_display() == "Imported"
    assert job.record_count == imported.record_count
    assert DedupJob.objects.get(review=copy).status == "succeeded"
    run = AnalysisRun.objects.get(review=copy)
    assert run.claimed_at == started
    assert run.duration_seconds == pytest.approx(2.0)
    assert (run.progress, run.progress_total, run.progress_percent) == (100, 100, 100)


def as_cancels_were_stored(files: dict[str, bytes]) -> None:
    """Turn an archive of this version into one as a version before every kind ended
    `cancelled` wrote it: a cancelled de-duplication, ranking or analysis run was `failed`,
    with the cancel's note as its error."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["tables"]:
        if entry["model"] not in {
            "reviewer.DedupJob",
            "reviewer.RankingJob",
            "analysis.AnalysisRun",
        }:
            continue
        rows = []
        for line in files[entry["file"]].decode().splitlines():
            row = json.loads(line)
            if row["status"] == "cancelled":
                row["status"] = "failed"
            rows.append(json.dumps(row) + "\n")
        files[entry["file"]] = "".join(rows).encode()


def test_runs_an_older_archive_holds_as_failed_by_a_cancel_restore_cancelled():
    review = small_review()
    owner = review.created_by
    note = cancelled_note(owner)
    DedupJob.objects.create(review=review, created_by=owner, status=JobStatus.CANCELLED, error=note)
    RankingJob.objects.create(
        review=review, reviewer=owner, trigger="requested", status=JobStatus.CANCELLED, error=note
    )
    AnalysisRun.objects.create(
        review=review,
        kind="crosstab",
        spec={"row": "a", "col": "b"},
        started_by=owner,
        status=JobStatus.CANCELLED,
        error=note,
    )
    failed = DedupJob.objects.create(
        review=review, created_by=owner, status=JobStatus.FAILED, error="The engine stopped."
    )
    old = rewrite(archive_bytes(review), as_cancels_were_stored)
    assert [
        row["status"] for row in rows_in(old, "reviewer.RankingJob") if row["error"] == note
    ] == ["failed"]

    copy = archive_restore(source=io.BytesIO(old), slug="restored").review

    assert sorted(DedupJob.objects.filter(review=copy).values_list("status", "error")) == sorted(
        [(JobStatus.CANCELLED, note), (JobStatus.FAILED, failed.error)]
    )
    assert RankingJob.objects.get(review=copy, error=note).status == JobStatus.CANCELLED
    run = AnalysisRun.objects.get(review=copy)
    assert (run.status, run.get_status_display(), run.error) == ("cancelled", "Cancelled", note)
