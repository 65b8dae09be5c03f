"""The life of a background job row (import, de-duplication, ranking, analysis), in one place:
claiming it, sending its task, sending it again when its message was lost, cancelling it.

**Claiming.** A worker moves the row from its waiting status to its working status with a
conditional UPDATE and keeps the claim's time as its token; every later write checks that
token. A claim gone stale (its worker stopped: `stale_claim_cutoff`) can be taken over, and
the stopped worker's writes then find the token changed and raise `ClaimLost`. So a task
delivered twice, or sent again, does its work once: sending again is always safe.

**Sending.** `job_send` queues the job's task once the transaction commits. If the broker
cannot be reached then, the write that made the job has committed all the same: nothing
is raised, the job keeps its waiting status, and its `error` says `NOT_SENT` until a send
works.

**Recovering** (`jobs_sweep`, run every minute by Celery beat and once when a worker
starts, see `reviewer.celery`): a waiting job whose message cannot have reached a worker —
marked `NOT_SENT`, or waiting longer than `JOB_RESEND_MINUTES` (a broker restarted without
persistence loses its queue) — is sent again, and so is a working job whose claim went
stale (its worker was killed): the new delivery takes it over. Nothing is lost by a
message sent twice, so the sweep does not need to know which messages still exist.
The sweep does not run on a page view: a GET never writes, and the page offers the owner
"Send it again" and "Cancel" instead (`job_restart`, `job_cancel`), in any unfinished state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from reviewer.models.sources import stale_claim_cutoff

logger = logging.getLogger(__name__)

#: A waiting job's `error` while its task could not be given to the broker.
NOT_SENT = (
    "Not yet sent to a worker: the task queue (Redis) could not be reached when this job "
    "was queued. It is sent again automatically once the queue is back."
)


class ClaimLost(Exception):
    """Another worker took the job over (or the job was cancelled); this one must not write
    its result."""


def claim_job(
    model: type[models.Model],
    pk: int,
    *,
    waiting: str,
    working: str,
    stamp: str = "claimed_at",
    **fields: Any,
) -> datetime | None:
    """Move job `pk` from `waiting` (or a stale `working`) to `working`, stamping `stamp`
    with the claim's time (also setting `fields`, and clearing a `NOT_SENT` note). Returns
    that time, or None when another worker holds the job or it is finished."""
    now = timezone.now()
    stale = Q(status=working, **{f"{stamp}__lt": stale_claim_cutoff()})
    claimed = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=waiting) | stale)
        .update(status=working, **{stamp: now, "error": "", **fields})
    )
    return now if claimed else None


# --- what each kind of job is ---


@dataclass(frozen=True)
class JobKind:
    """How the sweep, `job_send`, `job_restart` and `job_cancel` handle one job model."""

    model: type[models.Model]
    #: The task (its dotted path) that moves the job on from each waiting status, and that
    #: takes over each working status once its claim is stale.
    tasks: dict[str, str]
    waiting: frozenset[str]
    working: frozenset[str]
    #: The claim's token field (`claim_job`'s `stamp`).
    stamp: str
    #: The task's keyword argument naming the row.
    argument: str
    #: Ends a job for good: `(job, user) -> None`, inside a transaction holding its row.
    cancel: Callable[[Any, Any], None]

    @property
    def unfinished(self) -> frozenset[str]:
        return self.waiting | self.working


_KINDS: dict[type[models.Model], JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Called once per job model (reviewer's below; analysis's from its app config)."""
    _KINDS[kind.model] = kind


def job_kind(job: models.Model) -> JobKind:
    return _KINDS[type(job)]


def resend_cutoff() -> datetime:
    """Waiting since before this, a job's message is taken to be lost (`JOB_RESEND_MINUTES`)."""
    return timezone.now() - timedelta(minutes=settings.JOB_RESEND_MINUTES)


def job_waiting_since(job: models.Model) -> datetime:
    """When the job last entered its waiting status, as near as the row tells: its creation,
    or its last claim (an import waits again after it was read)."""
    kind = job_kind(job)
    created: datetime = job.created_at  # type: ignore[attr-defined]
    stamp: datetime | None = getattr(job, kind.stamp)
    return max(created, stamp) if stamp is not None else created


def job_is_undelivered(job: models.Model) -> bool:
    """Waiting, and its message cannot have reached a worker: not sent, or waiting too long."""
    kind = job_kind(job)
    if job.status not in kind.waiting:  # type: ignore[attr-defined]
        return False
    return job.error == NOT_SENT or job_waiting_since(job) < resend_cutoff()  # type: ignore[attr-defined]


def job_is_stuck(job: models.Model) -> bool:
    """Undelivered (waiting), or working with a stale claim: the page offers to send it again."""
    kind = job_kind(job)
    status = job.status  # type: ignore[attr-defined]
    if status in kind.working:
        stamp: datetime | None = getattr(job, kind.stamp)
        return stamp is not None and stamp < stale_claim_cutoff()
    return job_is_undelivered(job)


# --- sending ---

#: What the broker client raises when Redis is not there.
try:
    from kombu.exceptions import OperationalError as _KombuOperationalError
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    BROKER_DOWN: tuple[type[BaseException], ...] = (
        _KombuOperationalError,
        _RedisConnectionError,
        _RedisTimeoutError,
        ConnectionError,
        TimeoutError,
    )
except ImportError:  # pragma: no cover - both ship with celery[redis]
    BROKER_DOWN = (ConnectionError, TimeoutError)


def _task_for(kind: JobKind, status: str) -> Any:
    return import_string(kind.tasks[status])


def job_send_now(job: models.Model) -> bool:
    """Give the job's task to the broker now (eagerly: run it). False when the broker could
    not be reached: the job is then marked `NOT_SENT` and left waiting for the sweep."""
    kind = job_kind(job)
    model, pk = type(job), job.pk
    status = job.status  # type: ignore[attr-defined]
    task = _task_for(kind, status)
    if current_app.conf.task_always_eager:
        task.apply_async(kwargs={kind.argument: pk})
        return True
    try:
        task.apply_async(kwargs={kind.argument: pk})
    except BROKER_DOWN as error:
        logger.warning("Could not send %s %s to the workers: %s", model.__name__, pk, error)
        model._default_manager.filter(pk=pk, status__in=kind.waiting).update(error=NOT_SENT)
        return False
    model._default_manager.filter(pk=pk, error=NOT_SENT).update(error="")
    return True


def job_send(job: models.Model) -> None:
    """Send the job's task once the current transaction commits (see the module doc)."""
    transaction.on_commit(lambda: job_send_now(job))


# --- the sweep ---


def _resent_recently(job: models.Model) -> bool:
    """Sent again by a sweep less than `JOB_RESEND_MINUTES` ago (noted in the cache; with
    the cache down, every sweep sends: a duplicate does no harm)."""
    key = f"job-resent:{job._meta.label_lower}:{job.pk}"
    if cache.get(key):
        return True
    cache.set(key, 1, settings.JOB_RESEND_MINUTES * 60)
    return False


def jobs_sweep() -> dict[str, int]:
    """Send again every job whose message was lost: waiting and undelivered, or working with
    a stale claim. Returns how many of each model were sent."""
    sent: dict[str, int] = {}
    for kind in _KINDS.values():
        stamp_old = Q(**{f"{kind.stamp}__isnull": True}) | Q(
            **{f"{kind.stamp}__lt": resend_cutoff()}
        )
        undelivered = Q(status__in=kind.waiting) & (
            Q(error=NOT_SENT) | (Q(created_at__lt=resend_cutoff()) & stamp_old)
        )
        stale = Q(status__in=kind.working, **{f"{kind.stamp}__lt": stale_claim_cutoff()})
        count = 0
        for job in kind.model._default_manager.filter(undelivered | stale).order_by("pk"):
            if job.error != NOT_SENT and _resent_recently(job):  # type: ignore[attr-defined]
                continue
            if job.status in kind.working:  # type: ignore[attr-defined]
                logger.warning(
                    "%s %s lost its worker; sending it again", kind.model.__name__, job.pk
                )
            if job_send_now(job):
                count += 1
        sent[kind.model.__name__] = count
    return sent


# --- what the owner can do ---


def _locked(job: models.Model) -> models.Model:
    return type(job)._default_manager.select_for_update().get(pk=job.pk)


@transaction.atomic
def job_restart(*, job: models.Model) -> None:
    """Send a stuck job's task again: a waiting job's at once, a working job's once its
    claim is stale (the new delivery takes it over). Refused for a job that is working."""
    kind = job_kind(job)
    job = _locked(job)
    status = job.status  # type: ignore[attr-defined]
    if status not in kind.unfinished:
        raise ValidationError("This job has finished; there is nothing to start again.")
    if status in kind.working and not job_is_stuck(job):
        raise ValidationError(
            "This job is still running. It can be started again once it has made no progress "
            f"for {settings.IMPORT_JOB_STALE_MINUTES} minutes, or cancelled now."
        )
    job_send(job)


@transaction.atomic
def job_cancel(*, job: models.Model, user: Any) -> None:
    """End an unfinished job for good, whatever it is doing. Its claim is taken away, so a
    worker still on it finds `ClaimLost` at its next write and keeps nothing."""
    kind = job_kind(job)
    job = _locked(job)
    if job.status not in kind.unfinished:  # type: ignore[attr-defined]
        raise ValidationError("This job has already finished.")
    kind.cancel(job, user)


def cancelled_note(user: Any) -> str:
    name = user.display_name() if hasattr(user, "display_name") else str(user)
    return f"Cancelled by {name} on {timezone.localtime():%d %b %Y at %H:%M}."


def register_reviewer_kinds() -> None:
    """The import, de-duplication and ranking jobs (called from `ReviewerConfig.ready`)."""
    from reviewer.models import (
        DedupJob,
        DedupStatus,
        ImportJob,
        ImportStatus,
        RankingJob,
        RankingStatus,
    )

    def cancel_import(job: Any, user: Any) -> None:
        from reviewer.services.imports import import_job_cancel

        import_job_cancel(job=job)

    def cancel_as_failed(failed: str) -> Callable[[Any, Any], None]:
        def cancel(job: Any, user: Any) -> None:
            type(job)._default_manager.filter(pk=job.pk).update(
                status=failed,
                claimed_at=None,
                error=cancelled_note(user),
                finished_at=timezone.now(),
            )

        return cancel

    job_kind_register(
        JobKind(
            model=ImportJob,
            tasks={
                ImportStatus.WAITING_TO_READ: "reviewer.tasks.read_import",
                ImportStatus.READING: "reviewer.tasks.read_import",
                ImportStatus.WAITING_TO_IMPORT: "reviewer.tasks.run_import",
                ImportStatus.IMPORTING: "reviewer.tasks.run_import",
            },
            waiting=frozenset({ImportStatus.WAITING_TO_READ, ImportStatus.WAITING_TO_IMPORT}),
            working=frozenset({ImportStatus.READING, ImportStatus.IMPORTING}),
            stamp="claimed_at",
            argument="job_id",
            cancel=cancel_import,
        )
    )
    job_kind_register(
        JobKind(
            model=DedupJob,
            tasks={
                DedupStatus.QUEUED: "reviewer.tasks.run_dedup",
                DedupStatus.RUNNING: "reviewer.tasks.run_dedup",
            },
            waiting=frozenset({DedupStatus.QUEUED}),
            working=frozenset({DedupStatus.RUNNING}),
            stamp="claimed_at",
            argument="job_id",
            cancel=cancel_as_failed(DedupStatus.FAILED),
        )
    )
    job_kind_register(
        JobKind(
            model=RankingJob,
            tasks={
                RankingStatus.QUEUED: "reviewer.tasks.retrain_ranking",
                RankingStatus.RUNNING: "reviewer.tasks.retrain_ranking",
            },
            waiting=frozenset({RankingStatus.QUEUED}),
            working=frozenset({RankingStatus.RUNNING}),
            stamp="claimed_at",
            argument="job_id",
            cancel=cancel_as_failed(RankingStatus.FAILED),
        )
    )
