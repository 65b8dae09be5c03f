"""Celery tasks: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from reviewer.services import duplicates, imports, jobs, ranking


@shared_task(name="reviewer.read_import")
def read_import(*, job_id: int) -> None:
    imports.import_job_read(job_id=job_id)


@shared_task(name="reviewer.run_import")
def run_import(*, job_id: int) -> None:
    imports.import_job_run(job_id=job_id)


@shared_task(name="reviewer.run_dedup")
def run_dedup(*, job_id: int) -> None:
    duplicates.dedup_job_run(job_id=job_id)


@shared_task(name="reviewer.retrain_ranking")
def retrain_ranking(*, job_id: int) -> None:
    ranking.ranking_job_run(job_id=job_id)


@shared_task(name="reviewer.sweep_jobs")
def sweep_jobs() -> dict[str, int]:
    """Send again the jobs whose messages were lost (run every minute by Celery beat)."""
    return jobs.jobs_sweep()
