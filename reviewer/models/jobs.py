"""The background job, written once: what every job row holds and the words for its states.

Every kind of job (an import, a de-duplication run, a ranking retrain, an analysis run, a
pending extraction upload) is a concrete subclass of `Job`. The life of a job — claiming,
running, finishing, failing, sending, sweeping, cancelling — is `reviewer.services.jobs`;
this module holds only the row.

**States.** The states every job has use one vocabulary (`JobStatus`): `queued` (waiting
for a worker), `running` (a worker holds it), `succeeded`, `failed`, `cancelled`. A kind
keeps states of its own only where it truly has more steps: an import is read (its own
waiting and working states), previewed (`ready`), then imported. Each kind says which of
its states wait for a worker and which a worker holds (`WAITING`, `WORKING`).

**Cancelling** ends every kind `cancelled`, with who and when in `error` ("Cancelled by …
on …", `reviewer.services.jobs.cancelled_note`) and `finished_at` set; the claim is taken
away, so a worker still on the job stops at its next write and keeps nothing.

**The claim.** A worker takes a job with a conditional update and stamps `claimed_at`: the
time the work (last) started, and the token of that claim. Every later write is
conditional on the token, so a worker whose job was taken over (its claim went stale, see
`Job.is_stale`) or cancelled writes nothing.

**Progress** lives on the row (`progress` of `progress_total`, and the `phase` under way),
so every page reads and polls it the same way (`templates/reviewer/partials/job_progress.html`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    """The states every job shares. A kind's own enum reuses these values (and may give
    them its own label: an import's `succeeded` reads "Imported")."""

    QUEUED = "queued", "Waiting to run"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: What a cancel writes in a job's `error` (`reviewer.services.jobs.cancelled_note`) as a
#: regular expression. Before every kind ended `cancelled`, a cancelled de-duplication,
#: ranking or analysis run ended `failed` with this note; the migrations and the archive's
#: reading of older archives (`reviewer.archive.layout.status_now`) recognise them by it.
CANCELLED_NOTE = r"^Cancelled by .+ on [0-9]{2} [A-Za-z]{3} [0-9]{4} at [0-9]{2}:[0-9]{2}\.$"

#: The states a job never leaves.
FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def stale_claim_cutoff() -> datetime:
    """Claims older than this belong to a worker that stopped (a crash, a restart).

    A 100,000-record import takes about a minute, so the default of 30 minutes
    leaves a wide margin before a job is taken over.
    """
    return timezone.now() - timedelta(minutes=settings.IMPORT_JOB_STALE_MINUTES)


def unfinished(*statuses: str) -> models.Q:
    """The condition of a partial unique constraint "one unfinished job at a time"."""
    return models.Q(status__in=sorted(statuses))


class Job(models.Model):
    """The fields and rules every background job shares (see the module doc)."""

    #: States in which the job waits for a worker (its task is on its way).
    WAITING: ClassVar[frozenset[str]] = frozenset({JobStatus.QUEUED})
    #: States in which a worker holds the job (its claim can go stale).
    WORKING: ClassVar[frozenset[str]] = frozenset({JobStatus.RUNNING})

    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    error = models.TextField(blank=True)
    progress = models.PositiveIntegerField(default=0, help_text="How much of the work is done.")
    progress_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Out of how much; empty while that is not known."
    )
    phase = models.CharField(
        max_length=120, blank=True, default="", help_text="The step under way."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a worker last took the job on (its start); also the token of that claim.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def unfinished_statuses(cls) -> frozenset[str]:
        return cls.WAITING | cls.WORKING

    @property
    def is_running(self) -> bool:
        """Waiting for a worker or held by one: not finished (nor waiting for a person)."""
        return self.status in self.unfinished_statuses()

    @property
    def is_stale(self) -> bool:
        """Held by a worker, but claimed so long ago that the worker must have stopped."""
        return (
            self.status in self.WORKING
            and self.claimed_at is not None
            and self.claimed_at < stale_claim_cutoff()
        )

    @property
    def is_stuck(self) -> bool:
        """Its task cannot be on its way: never sent, or waiting or stale too long
        (`reviewer.services.jobs.job_is_stuck`). The page offers to send it again."""
        from reviewer.services.jobs import job_is_stuck

        return job_is_stuck(self)

    @property
    def not_sent(self) -> bool:
        from reviewer.services.jobs import NOT_SENT

        return self.is_running and self.error == NOT_SENT

    @property
    def progress_known(self) -> bool:
        """A worker holds the job and has said how much there is to do."""
        return self.status in self.WORKING and bool(self.progress_total)

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, self.progress * 100 // self.progress_total)
