"""Analysis runs: one row per statistics job on a review's final extraction data.

A run carries what was asked (`kind` and `spec`), where the job stands (`status`,
`progress`, `phase`, `error`), who asked and when, the fingerprint of the data it used,
and the result as plain JSON (tables and test results from `analysis.stats`).

A run is a background job (`reviewer.models.jobs.Job`): a worker claims it with a
conditional update (queued -> running, or a stale running run taken over), so a task
delivered twice or retried runs it once. Its progress is a percentage (`progress` of 100).
One unfinished run per analysis asked for (`one_unfinished_analysis_per_spec`): asking
again while it waits or runs shows that run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from reviewer.models import Review
from reviewer.models.jobs import Job, JobStatus, unfinished


class AnalysisKind(models.TextChoices):
    CHARACTERISTICS = "characteristics", "Patient characteristics"
    RISK_FACTORS = "risk_factors", "Risk-factor table"
    CROSSTAB = "crosstab", "Cross-tabulation"
    POOLED_PROPORTION = "pooled_proportion", "Pooled proportion"
    POOLED_RATIO = "pooled_ratio", "Pooled odds or risk ratio"


class ReportingRule(models.TextChoices):
    """Which test a table reports as its p-value. Automatic: Fisher's exact test when any
    expected count is under 5, else Pearson chi-square."""

    AUTO = "auto", "Automatic, by expected counts"
    PEARSON = "pearson", "Pearson chi-square"
    LIKELIHOOD_RATIO = "likelihood_ratio", "Likelihood-ratio (G-test)"
    FISHER = "fisher", "Fisher's exact test"


class RunStatus(models.TextChoices):
    QUEUED = JobStatus.QUEUED.value, "Waiting to run"
    RUNNING = JobStatus.RUNNING.value, "Running"
    SUCCEEDED = JobStatus.SUCCEEDED.value, "Finished"
    FAILED = JobStatus.FAILED.value, "Failed"
    CANCELLED = JobStatus.CANCELLED.value, "Cancelled"


class AnalysisRun(Job):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analysis_runs")
    kind = models.CharField(max_length=20, choices=AnalysisKind.choices)
    spec = models.JSONField(
        default=dict, help_text="What was asked: fields, exposure and outcomes, rows and columns."
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress_total = models.PositiveIntegerField(
        default=100, null=True, blank=True, help_text="A run's progress is a percentage."
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text="sha256 of the data used (the rows' values and the fields' definitions).",
    )
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["review", "kind", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="analysis_run_progress_percent"
            ),
            models.UniqueConstraint(
                fields=["review", "kind", "spec"],
                condition=unfinished(RunStatus.QUEUED, RunStatus.RUNNING),
                name="one_unfinished_analysis_per_spec",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("analysis-run", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def fingerprint_short(self) -> str:
        return self.fingerprint[:8]

    @property
    def duration_seconds(self) -> float | None:
        if self.claimed_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.claimed_at).total_seconds()
