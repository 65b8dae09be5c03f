"""The broker (Redis) dies and comes back while a real Celery worker is in the middle of a job.

The test runs its own `redis-server` on a free port (never the shared one), a real worker
against it and this test's PostgreSQL database, kills that Redis with SIGKILL while an import
is writing its records, starts it again, and checks what a person would: the import ends
(imported whole, not stuck in "importing"), the worker process is still alive, and it takes
on the next upload.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from django.urls import reverse

from reviewer.models import ImportJob, ImportStatus, Record
from reviewer.services import imports
from tests.factories import make_review, make_source, make_user
from tests.real_services import OwnRedis, app_broker, own_redis, start_worker, stop_worker

__all__ = ["own_redis"]  # the fixture, imported to be found by pytest

pytestmark = pytest.mark.celery_worker

RECORDS = 6_000


WORDS = [
    "tumour",
    "inflammatory",
    "myofibroblastic",
    "child",
    "bladder",
    "lung",
    "resection",
    "margin",
    "recurrence",
    "crizotinib",
    "kinase",
    "fusion",
    "orbit",
    "liver",
    "spleen",
    "imaging",
    "biopsy",
    "outcome",
    "cohort",
    "series",
]


def big_ris(count: int) -> bytes:
    """`count` records with distinct titles (few look alike, so de-duplication is quick)."""
    lines = []
    for n in range(1, count + 1):
        title = " ".join(WORDS[(n * k * 7 + k) % len(WORDS)] for k in range(1, 7))
        lines += [
            "TY  - JOUR",
            f"TI  - {title} {n}",
            f"AU  - Author{n}, A.",
            f"PY  - {1990 + n % 30}",
            f"AB  - A child with an inflammatory myofibroblastic tumour, number {n}, "
            "treated by resection with clear margins and followed for recurrence.",
            f"DO  - 10.1000/imt.{n}",
            "ER  - ",
        ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def worker(
    own_redis: OwnRedis, transactional_db: None, tmp_path: Path
) -> Iterator[subprocess.Popen[str]]:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (the worker is another process): set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    with app_broker(own_redis.url):
        process = start_worker(own_redis.url, tmp_path / "worker.log")
        try:
            yield process
        finally:
            stop_worker(process)


def wait_until(job: ImportJob, statuses: set[str], seconds: float) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.1)
    pytest.fail(f"import {job.pk} is still “{job.get_status_display()}” after {seconds} s")


def test_the_worker_survives_its_broker_restarting_mid_import(
    worker: subprocess.Popen[str], own_redis: OwnRedis, tmp_path: Path
) -> None:
    owner = make_user("owner")
    source = make_source(make_review(owner=owner), name="Embase")
    job = imports.import_job_create(
        source=source, files=[("embase.ris", BytesIO(big_ris(RECORDS)))], created_by=owner
    )
    job = wait_until(job, {ImportStatus.READY}, 120)
    imports.import_job_confirm(job=job)
    wait_until(job, {ImportStatus.IMPORTING}, 60)

    own_redis.kill()  # mid-import: the worker loses its broker and its cache
    time.sleep(3)
    own_redis.start()

    job = wait_until(job, {ImportStatus.DONE, ImportStatus.FAILED}, 180)
    log = (tmp_path / "worker.log").read_text()
    assert job.status == ImportStatus.DONE, job.error
    assert Record.objects.filter(source=source).count() == RECORDS
    assert worker.poll() is None, f"the worker died:\n{log[-3000:]}"
    assert "Unrecoverable error" not in log

    # and it takes on the next upload
    second = imports.import_job_create(
        source=source, files=[("again.ris", BytesIO(big_ris(3)))], created_by=owner
    )
    second = wait_until(second, {ImportStatus.READY, ImportStatus.FAILED}, 120)
    assert second.status == ImportStatus.READY
    assert second.files.get().summary["record_count"] == 3


# --- Redis down while people work: nothing answers an error page, nothing stays stuck ---


def test_with_redis_down_writes_answer_normally_and_the_jobs_run_once_it_is_back(
    own_redis: OwnRedis, transactional_db: None, client, settings, tmp_path: Path
) -> None:
    from django.db import connection

    from analysis.models import AnalysisRun, RunStatus
    from reviewer.models import Decision, RankingJob, RankingStatus
    from reviewer.services.jobs import NOT_SENT
    from tests.analysis.helpers_runs import imt_review
    from tests.factories import make_record, make_team, page_text

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the worker is another process)")
    settings.RANKING_RETRAIN_EVERY = 1
    settings.RANKING_RETRAIN_AFTER_SECONDS = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "reviewer.cache.TolerantRedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    team = make_team()
    imt_review(team.review, count=30)
    record = make_record(team.review, title="Inflammatory myofibroblastic tumour in a child")
    client.force_login(team.reviewer)
    own_redis.kill()

    with app_broker(own_redis.url):
        started = time.monotonic()
        dashboard = client.get(reverse("review-dashboard", args=[team.review.slug]))
        dashboard_seconds = time.monotonic() - started
        decided = client.post(
            reverse(
                "screen-decide", kwargs={"slug": team.review.slug, "stage": "ta", "pk": record.pk}
            ),
            {"choice": "include"},
        )
        asked = client.post(
            reverse("analysis-start", args=[team.review.slug]),
            {
                "kind": "crosstab",
                "crosstab-row": "margin",
                "crosstab-col": "recurrence",
                "crosstab-rule": "auto",
            },
        )

        # every request answered as usual, and what it wrote is kept
        assert dashboard.status_code == 200 and dashboard_seconds < 3
        assert decided.status_code == 302
        assert Decision.objects.get(record=record, reviewer=team.reviewer).choice == "include"
        assert asked.status_code == 302
        run = AnalysisRun.objects.get(review=team.review)
        ranking = RankingJob.objects.get(review=team.review, reviewer=team.reviewer)
        assert (run.status, run.error) == (RunStatus.QUEUED, NOT_SENT)
        assert (ranking.status, ranking.error) == (RankingStatus.QUEUED, NOT_SENT)
        page = page_text(client.get(run.get_absolute_url()))
        assert "This run has not reached a worker yet" in page
        assert "could not be reached" in page

        # Redis back, a worker starts: it sends what waits, and both jobs are done
        own_redis.start()
        worker = start_worker(own_redis.url, tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                run.refresh_from_db()
                ranking.refresh_from_db()
                if run.status not in {
                    RunStatus.QUEUED,
                    RunStatus.RUNNING,
                } and ranking.status not in {
                    RankingStatus.QUEUED,
                    RankingStatus.RUNNING,
                }:
                    break
                time.sleep(0.2)
        finally:
            stop_worker(worker)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert ranking.status == RankingStatus.SUCCEEDED, ranking.error
    assert run.error == "" and ranking.error == ""
