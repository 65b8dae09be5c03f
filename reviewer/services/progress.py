"""Progress of a background job, kept in the cache so other processes can read it.

The job's own rows are written in one transaction that other connections cannot
see until it commits, so the progress bar reads from here instead.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

#: Progress left behind by a job that died expires on its own.
TIMEOUT_SECONDS = 3600


def _key(kind: str, job_id: int) -> str:
    return f"{kind}:{job_id}:progress"


def progress_set(kind: str, job_id: int, *, done: int, total: int | None, phase: str) -> None:
    cache.set(_key(kind, job_id), {"done": done, "total": total, "phase": phase}, TIMEOUT_SECONDS)


def progress_get(kind: str, job_id: int) -> dict[str, Any] | None:
    progress: dict[str, Any] | None = cache.get(_key(kind, job_id))
    return progress


def progress_clear(kind: str, job_id: int) -> None:
    cache.delete(_key(kind, job_id))
