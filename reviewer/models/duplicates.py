"""De-duplication: the runs, the candidate pairs and the people's decisions on them, the log.

A duplicate record is never deleted. It points at the record it duplicates
(`Record.duplicate_of`, always the group's kept record, never a chain) and keeps
its own source, so per-database counts and overlap stay computable. The kept
record may take empty fields from its duplicates (`Record.filled_fields` says
which came from where), and splitting a duplicate off gives them back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from reviewer.models.jobs import Job, JobStatus, unfinished
from reviewer.models.reviews import Review
from reviewer.models.sources import ImportJob, Record


class DedupStatus(models.TextChoices):
    QUEUED = JobStatus.QUEUED.value, "Waiting to run"
    RUNNING = JobStatus.RUNNING.value, "Running"
    DONE = JobStatus.SUCCEEDED.value, "Finished"
    FAILED = JobStatus.FAILED.value, "Failed"
    CANCELLED = JobStatus.CANCELLED.value, "Cancelled"


class DedupJob(Job):
    """One run of the de-duplication engine over a review, whole or for one import's records.

    One whole-review run at a time (`one_unfinished_dedup_per_review`): asking again while
    one waits or runs shows that one (`services.duplicates.dedup_run_request`).
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="dedup_jobs")
    import_job = models.ForeignKey(
        ImportJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dedup_jobs",
        help_text="Set when the run checks one import's new records against all the others.",
    )
    status = models.CharField(
        max_length=20, choices=DedupStatus.choices, default=DedupStatus.QUEUED
    )
    whole_review = models.BooleanField(
        default=False,
        help_text="A run over all records, asked for by a person (one at a time); not an "
        "import's check, which stays one even once its import is deleted.",
    )
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review"],
                condition=unfinished(DedupStatus.QUEUED, DedupStatus.RUNNING)
                & models.Q(whole_review=True),
                name="one_unfinished_dedup_per_review",
            )
        ]

    def __str__(self) -> str:
        return f"De-duplication #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("dedup-job", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def scope_label(self) -> str:
        if self.import_job_id:
            return f"new records of import #{self.import_job_id} against all records"
        return "all records"


class Band(models.TextChoices):
    """What the engine said of a pair."""

    CERTAIN = "certain", "Certain duplicate"
    POSSIBLE = "possible", "Possible duplicate"
    DISTINCT = "distinct", "Distinct"


class PairStatus(models.TextChoices):
    """Where a pair stands; the last two are a person's decision and outrank any later run."""

    PENDING = "pending", "Waiting for a decision"
    LINKED = "linked", "Linked automatically"
    DUPLICATE = "duplicate", "Duplicate (decided)"
    DISTINCT = "distinct", "Not a duplicate (decided)"
    KEPT_APART = "kept-apart", "Kept apart by a rule"


DECIDED_STATUSES = frozenset({PairStatus.DUPLICATE, PairStatus.DISTINCT})


class DuplicatePair(models.Model):
    """Two records the engine compared and found alike, with its evidence.

    `first` is always the record imported earlier (the lower id), so a pair is
    stored once whichever way round it was found.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="duplicate_pairs")
    first = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    band = models.CharField(max_length=20, choices=Band.choices)
    score = models.FloatField()
    evidence = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=PairStatus.choices)
    job = models.ForeignKey(
        DedupJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="pairs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="one_pair_per_two_records"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="pair_first_is_older"
            ),
        ]
        indexes = [models.Index(fields=["review", "status"], name="pair_review_status")]

    def __str__(self) -> str:
        return f"Records {self.first_id} and {self.second_id} ({self.band})"

    def get_absolute_url(self) -> str:
        return reverse("dedup-pair", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES


class DedupAction(models.TextChoices):
    LINKED = "linked", "Linked automatically"
    MERGED = "merged", "Marked as duplicates"
    DISTINCT = "distinct", "Marked as not duplicates"
    SPLIT = "split", "Split off"
    REOPENED = "reopened", "Decision undone"


class DedupEvent(models.Model):
    """The log: every link, merge, split and decision, with who (none: the engine) and when."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="dedup_events")
    action = models.CharField(max_length=20, choices=DedupAction.choices)
    record = models.ForeignKey(
        Record,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The record that became (or stopped being) a duplicate.",
    )
    other = models.ForeignKey(
        Record,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The record it duplicates (or was split from).",
    )
    pair = models.ForeignKey(
        DuplicatePair, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    job = models.ForeignKey(
        DedupJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["review", "-created_at"], name="dedup_event_review_time")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: record {self.record_id} / {self.other_id}"
