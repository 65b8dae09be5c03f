"""Work that waits until the response has been sent: eager background jobs in a request.

Without a broker (the quick start) Celery runs a task in the calling process, at the
moment it is queued. For a job queued after a screening decision, that would make the
reviewer wait for it: a retrain of the relevance ranking takes a fraction of a second at
2,000 records and a few seconds at 20,000. `run_after_response` holds such work until the
request is over: Django sends `request_finished` when the server closes the response,
after its body has gone out, so the page is on the reviewer's screen while the job runs
in the same thread. Outside a request (a management command, the shell, a test calling a
service) the work runs at once. With a broker configured none of this is used: the task
goes to a worker.

A job that raises here is logged, never raised: the response is already gone, and the job
services record their own failures on their rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished, request_started

logger = logging.getLogger(__name__)

_local = threading.local()


def run_after_response(work: Callable[[], object]) -> None:
    """Run `work` once the current request's response is sent (now, outside a request)."""
    pending: list[Callable[[], object]] | None = getattr(_local, "pending", None)
    if pending is None:
        work()
    else:
        pending.append(work)


def in_request() -> bool:
    """Whether this thread is serving a request now (between its start and its end)."""
    return getattr(_local, "pending", None) is not None


def _started(**kwargs: Any) -> None:
    _local.pending = []


def _finished(**kwargs: Any) -> None:
    pending: list[Callable[[], object]] = getattr(_local, "pending", None) or []
    _local.pending = None
    for work in pending:
        try:
            work()
        except Exception:  # the response is gone: log it, the job row says it failed
            logger.exception("Work queued to run after a response failed")


def connect() -> None:
    """Called once from `ReviewerConfig.ready`."""
    request_started.connect(_started, dispatch_uid="reviewer.after_response.started")
    request_finished.connect(_finished, dispatch_uid="reviewer.after_response.finished")
