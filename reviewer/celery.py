"""The Celery app. Without CELERY_BROKER_URL, tasks run eagerly in the calling process.

When a worker starts it sweeps the job rows once (`reviewer.services.jobs.jobs_sweep`):
jobs queued while no broker was reachable, or whose messages a restarted broker lost, are
sent again. Celery beat repeats the sweep every minute (`CELERY_BEAT_SCHEDULE`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")

logger = logging.getLogger(__name__)

app = Celery("reviewer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect  # type: ignore[untyped-decorator]  # Celery ships no types
def _sweep_on_start(**kwargs: Any) -> None:
    from reviewer.services.jobs import jobs_sweep

    try:
        sent = jobs_sweep()
    except Exception:  # a worker must start even if the database is not there yet
        logger.exception("The start-up sweep of waiting jobs failed; Celery beat will retry")
        return
    if any(sent.values()):
        logger.info("Start-up sweep sent waiting jobs again: %s", sent)
