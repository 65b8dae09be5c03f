"""Celery tasks of the analysis app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from analysis.services.runs import analysis_run_execute


@shared_task(name="analysis.run")  # type: ignore[untyped-decorator]  # Celery ships no types
def run(*, run_id: int) -> None:
    analysis_run_execute(run_id=run_id)
