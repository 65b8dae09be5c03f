"""The life of a background job row (import, de-duplication, ranking, analysis, pending
extraction upload), in one place: claiming it, running it, sending its task, sending it
again when its message was lost, cancelling it. The row itself is `reviewer.models.jobs.Job`.

**Claiming and running** (`run_claimed`, which every task calls). A worker moves the row
from its waiting status to its working status with a conditional UPDATE and keeps the
claim's time as its token; every later write (progress, the result, the failure) checks
that token. A claim gone stale (its worker stopped: `stale_claim_cutoff`) can be taken
over, and the stopped worker's writes then find the token changed and raise `ClaimLost`:
it keeps nothing. So a task delivered twice, or sent again, does its work once: sending
again is always safe. Whatever the body raises, the row does not stay working: it ends
failed with a readable reason.

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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from reviewer.models.jobs import Job, JobStatus, stale_claim_cutoff

logger = logging.getLogger(__name__)

#: A waiting job's `error` while its task could not be given to the broker.
NOT_SENT = (
    "Not yet sent to a worker: the task queue (Redis) could not be reached when this job "
    "was queued. It is sent again automatically once the queue is back."
)

#: Progress is written at most this often (the pages poll once a second).
PROGRESS_EVERY_SECONDS = 0.25

#: The database alias progress is written through from inside a job's own transaction: the
#: same database as "default", its own connection, autocommit (`settings.DATABASES`).
PROGRESS_DATABASE = "progress"


class ClaimLost(Exception):
    """Another worker took the job over (or the job was cancelled); this one must not write
    its result."""


class JobGoing(Exception):
    """Refused: the one unfinished job allowed at a time (a partial unique constraint) is
    already there; `job` is that one."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"{type(job).__name__} {job.pk} is already waiting or running")
        self.job = job


def claim_job(
    model: type[Job],
    pk: int,
    *,
    waiting: str = JobStatus.QUEUED,
    working: str = JobStatus.RUNNING,
    **fields: Any,
) -> datetime | None:
    """Move job `pk` from `waiting` (or a stale `working`) to `working`, stamping
    `claimed_at` with the claim's time (also setting `fields`, clearing a `NOT_SENT` note
    and the progress a stopped worker left). Returns that time, or None when another worker
    holds the job or it is finished."""
    now = timezone.now()
    fresh: dict[str, Any] = {
        "status": working,
        "claimed_at": now,
        "error": "",
        "progress": 0,
        "progress_total": model._meta.get_field("progress_total").get_default(),
        "phase": "",
    }
    stale = Q(status=working, claimed_at__lt=stale_claim_cutoff())
    claimed = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=waiting) | stale)
        .update(**{**fresh, **fields})
    )
    return now if claimed else None


def without_nul(text: str) -> str:
    """No text column takes a NUL character (PostgreSQL refuses them), and an error's text
    may quote a file's content."""
    return text.replace("\x00", "\ufffd")


@dataclass
class Claim:
    """A worker's hold on one job: every write through it is conditional on the claim."""

    model: type[Job]
    pk: int
    token: datetime
    finished: bool = False
    #: Claimed inside a transaction of the caller's (a test, a command run in one): then the
    #: body's transactions are part of it and progress is written through it too.
    claimed_in_transaction: bool = False
    _last_progress: float = field(default=0.0, repr=False)
    _phase: str = field(default="", repr=False)
    #: Progress was written through `PROGRESS_DATABASE` (its connection is closed at the end).
    wrote_outside: bool = field(default=False, repr=False)

    def write(self, using: str = DEFAULT_DB_ALIAS, **fields: Any) -> None:
        """Write `fields` on the job while this claim holds; `ClaimLost` once it does not.
        (`using`: the database alias, `PROGRESS_DATABASE` from inside a transaction.)"""
        rows = self.model._default_manager.using(using).filter(pk=self.pk, claimed_at=self.token)
        if not rows.update(**fields):
            raise ClaimLost(f"{self.model.__name__} {self.pk} was taken over or cancelled")

    def finish(self, status: str = JobStatus.SUCCEEDED, **fields: Any) -> None:
        """End the job (succeeded, unless `status` says otherwise) with `fields`; inside the
        caller's transaction when it has one, so the result and the status land together."""
        done: dict[str, Any] = {"status": status, "phase": "", **fields}
        if status == JobStatus.SUCCEEDED and "finished_at" not in fields:
            done["finished_at"] = timezone.now()
        total = self.model._meta.get_field("progress_total").get_default()
        if status == JobStatus.SUCCEEDED and total:
            done.setdefault("progress", total)
        self.write(**done)
        self.finished = True

    def progress(self, done: int, total: int | None = None, phase: str = "") -> None:
        """Say how far the work is (`done` of `total`, `total` None when not known) and
        the step under way. Written at most every `PROGRESS_EVERY_SECONDS` (and whenever
        the step changes); raises `ClaimLost` once the job was cancelled or taken over, so
        a cancelled job stops early."""
        now = time.monotonic()
        if phase == self._phase and now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress, self._phase = now, phase
        fields: dict[str, Any] = {
            "progress": max(0, done),
            "progress_total": total,
            "phase": phase[:120],
        }
        if connection.in_atomic_block and not self.claimed_in_transaction:
            _progress_outside(self, fields)
        else:
            self.write(**fields)


def _progress_outside(claim: Claim, fields: dict[str, Any]) -> None:
    """Progress written from inside the body's own transaction (an import lands all at once)
    would be seen by nobody until it commits, and would lock the job's row against a cancel:
    write it through the `PROGRESS_DATABASE` alias instead: `Claim.write` on a connection
    of its own. (The claim committed before that transaction began, so the row is not
    locked by it: that connection never waits.) SQLite has one writer at a time, so there
    the bar stays indeterminate until the transaction commits."""
    if connections[PROGRESS_DATABASE].vendor != "postgresql":
        return
    claim.wrote_outside = True
    try:
        claim.write(using=PROGRESS_DATABASE, **fields)  # ClaimLost once cancelled: stop now
    except DatabaseError:  # progress is advisory: the work goes on without it
        logger.warning("Could not write the progress of %s %s", claim.model.__name__, claim.pk)


def run_claimed(
    model: type[Job],
    pk: int,
    body: Callable[[Claim], Mapping[str, Any] | None],
    *,
    waiting: str = JobStatus.QUEUED,
    working: str = JobStatus.RUNNING,
    claim_fields: Mapping[str, Any] | None = None,
    expected: tuple[type[Exception], ...] = (),
    failed: Callable[[Exception], str],
    failure_fields: Mapping[str, Any] | None = None,
    failure_finishes: bool = True,
    label: str = "",
) -> bool:
    """Claim job `pk`, run `body(claim)`, and end the job: the one way every task runs.

    `body` reports progress with `claim.progress(...)`, and either ends the job itself with
    `claim.finish(...)` (inside its own transaction, so that its writes and the status land
    together) or returns the fields to finish it with. An error of the `expected` kinds ends
    the job failed with the error's own text; any other with `failed(error)`, and its trace
    in the log. `failure_fields` go with a failure; `failure_finishes=False` leaves
    `finished_at` empty (a reading that failed can still be changed). `ClaimLost` ends the
    body quietly: the worker that took over, or the cancel, has the last word.

    Returns False when the job could not be claimed (finished, or held by a live worker:
    a duplicate delivery does nothing), True once it was run.
    """
    name = label or f"{model.__name__} {pk}"
    token = claim_job(model, pk, waiting=waiting, working=working, **dict(claim_fields or {}))
    if token is None:
        return False
    claim = Claim(model, pk, token, claimed_in_transaction=connection.in_atomic_block)
    try:
        outcome = body(claim)
        if not claim.finished:
            claim.finish(**dict(outcome or {}))
    except ClaimLost:
        logger.warning("%s was taken over or cancelled; this worker keeps nothing", name)
    except expected as error:
        _fail(claim, name, str(error), failure_fields, failure_finishes)
    except Exception as error:  # the row must not stay working; the reason is shown
        logger.exception("%s failed", name)
        _fail(claim, name, failed(error), failure_fields, failure_finishes)
    finally:
        if claim.wrote_outside:
            connections[PROGRESS_DATABASE].close()
    return True


def _fail(
    claim: Claim,
    name: str,
    message: str,
    extra: Mapping[str, Any] | None,
    finishes: bool,
) -> None:
    fields: dict[str, Any] = {"finished_at": timezone.now()} if finishes else {}
    try:
        claim.write(
            status=JobStatus.FAILED, error=without_nul(message), phase="", **fields, **(extra or {})
        )
    except ClaimLost:
        logger.warning("%s failed after it was taken over or cancelled: %s", name, message)


# --- what each kind of job is ---


@dataclass(frozen=True)
class JobKind:
    """How the sweep, `job_send`, `job_restart` and `job_cancel` handle one job model (its
    waiting and working states are the model's own: `Job.WAITING`, `Job.WORKING`)."""

    model: type[Job]
    #: The task (its dotted path) that moves the job on from each waiting status, and that
    #: takes over each working status once its claim is stale.
    tasks: dict[str, str]
    #: The task's keyword argument naming the row.
    argument: str
    #: Ends a job for good: `(job, user) -> None`, inside a transaction holding its row.
    cancel: Callable[[Any, Any], None]

    @property
    def waiting(self) -> frozenset[str]:
        return self.model.WAITING

    @property
    def working(self) -> frozenset[str]:
        return self.model.WORKING

    @property
    def unfinished(self) -> frozenset[str]:
        return self.waiting | self.working


_KINDS: dict[type[models.Model], JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Called once per job model (reviewer's below; analysis's from its app config)."""
    _KINDS[kind.model] = kind


def job_kind(job: Job) -> JobKind:
    return _KINDS[type(job)]


def resend_cutoff() -> datetime:
    """Waiting since before this, a job's message is taken to be lost (`JOB_RESEND_MINUTES`)."""
    return timezone.now() - timedelta(minutes=settings.JOB_RESEND_MINUTES)


def job_waiting_since(job: Job) -> datetime:
    """When the job last entered its waiting status, as near as the row tells: its creation,
    or its last claim (an import waits again after it was read)."""
    created: datetime = job.created_at
    stamp = job.claimed_at
    return max(created, stamp) if stamp is not None else created


def job_is_undelivered(job: Job) -> bool:
    """Waiting, and its message cannot have reached a worker: not sent, or waiting too long."""
    kind = job_kind(job)
    if job.status not in kind.waiting:
        return False
    return job.error == NOT_SENT or job_waiting_since(job) < resend_cutoff()


def job_is_stuck(job: Job) -> bool:
    """Undelivered (waiting), or working with a stale claim: the page offers to send it again."""
    if job.status in job.WORKING:
        return job.is_stale
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


def job_send_now(job: Job) -> bool:
    """Give the job's task to the broker now (eagerly: run it). False when the broker could
    not be reached: the job is then marked `NOT_SENT` and left waiting for the sweep."""
    kind = job_kind(job)
    model, pk = type(job), job.pk
    status = job.status
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


def job_send(job: Job) -> None:
    """Send the job's task once the current transaction commits (see the module doc)."""
    transaction.on_commit(lambda: job_send_now(job))


# --- the sweep ---


def _resent_recently(job: Job) -> bool:
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
        stamp_old = Q(claimed_at__isnull=True) | Q(claimed_at__lt=resend_cutoff())
        undelivered = Q(status__in=kind.waiting) & (
            Q(error=NOT_SENT) | (Q(created_at__lt=resend_cutoff()) & stamp_old)
        )
        stale = Q(status__in=kind.working, claimed_at__lt=stale_claim_cutoff())
        count = 0
        for job in kind.model._default_manager.filter(undelivered | stale).order_by("pk"):
            if job.error != NOT_SENT and _resent_recently(job):
                continue
            if job.status in kind.working:
                logger.warning(
                    "%s %s lost its worker; sending it again", kind.model.__name__, job.pk
                )
            if job_send_now(job):
                count += 1
        sent[kind.model.__name__] = count
    return sent


# --- what the owner can do ---


def _locked(job: Job) -> Job:
    return type(job)._default_manager.select_for_update().get(pk=job.pk)


@transaction.atomic
def job_restart(*, job: Job) -> None:
    """Send a stuck job's task again: a waiting job's at once, a working job's once its
    claim is stale (the new delivery takes it over). Refused for a job that is working."""
    kind = job_kind(job)
    job = _locked(job)
    status = job.status
    if status not in kind.unfinished:
        raise ValidationError("This job has finished; there is nothing to start again.")
    if status in kind.working and not job_is_stuck(job):
        raise ValidationError(
            "This job is still running. It can be started again once it has made no progress "
            f"for {settings.IMPORT_JOB_STALE_MINUTES} minutes, or cancelled now."
        )
    job_send(job)


@transaction.atomic
def job_cancel(*, job: Job, user: Any) -> None:
    """End an unfinished job for good, whatever it is doing. Its claim is taken away, so a
    worker still on it finds `ClaimLost` at its next write and keeps nothing."""
    kind = job_kind(job)
    job = _locked(job)
    if job.status not in kind.unfinished:
        raise ValidationError("This job has already finished.")
    kind.cancel(job, user)


def cancelled_note(user: Any) -> str:
    """Who cancelled a job and when, as its page shows it (kept in the job's `error`;
    `reviewer.models.jobs.CANCELLED_NOTE` matches it)."""
    name = user.display_name() if hasattr(user, "display_name") else str(user)
    return f"Cancelled by {name} on {timezone.localtime():%d %b %Y at %H:%M}."


def cancelled_fields(user: Any) -> dict[str, Any]:
    """The fields of a job ended by `user`'s cancel: the shared `cancelled` status, who and
    when, and no claim (a worker still on it finds `ClaimLost` at its next write)."""
    return {
        "status": JobStatus.CANCELLED,
        "claimed_at": None,
        "phase": "",
        "error": cancelled_note(user),
        "finished_at": timezone.now(),
    }


def cancel_job(job: Any, user: Any) -> None:
    """How a job with nothing to clean up is cancelled (`JobKind.cancel`)."""
    type(job)._default_manager.filter(pk=job.pk).update(**cancelled_fields(user))


def register_reviewer_kinds() -> None:
    """The import, de-duplication and ranking jobs (called from `ReviewerConfig.ready`)."""
    from reviewer.models import DedupJob, DedupStatus, ImportJob, ImportStatus, RankingJob

    def cancel_import(job: Any, user: Any) -> None:
        from reviewer.services.imports import import_job_cancel

        import_job_cancel(job=job, user=user)

    job_kind_register(
        JobKind(
            model=ImportJob,
            tasks={
                ImportStatus.WAITING_TO_READ: "reviewer.tasks.read_import",
                ImportStatus.READING: "reviewer.tasks.read_import",
                ImportStatus.WAITING_TO_IMPORT: "reviewer.tasks.run_import",
                ImportStatus.IMPORTING: "reviewer.tasks.run_import",
            },
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
            argument="job_id",
            cancel=cancel_job,
        )
    )
    job_kind_register(
        JobKind(
            model=RankingJob,
            tasks={
                JobStatus.QUEUED: "reviewer.tasks.retrain_ranking",
                JobStatus.RUNNING: "reviewer.tasks.retrain_ranking",
            },
            argument="job_id",
            cancel=cancel_job,
        )
    )
