"""Analysis runs: one row per statistics job on a review's final extraction data.

A run carries what was asked (`kind` and `spec`), where the job stands (`status`,
`progress`, `phase`, `error`), who asked and when, the fingerprint of the data it used,
and the result as plain JSON (tables and test results from `analysis.stats`).

A worker claims a run with a conditional update (queued -> running, or a stale running
run taken over), so a task delivered twice or retried runs it once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from reviewer.models import Review
from reviewer.models.sources import stale_claim_cutoff
from reviewer.services.jobs import NOT_SENT, job_is_stuck


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
    QUEUED = "queued", "Waiting to run"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


class AnalysisRun(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analysis_runs")
    kind = models.CharField(max_length=20, choices=AnalysisKind.choices)
    spec = models.JSONField(
        default=dict, help_text="What was asked: fields, exposure and outcomes, rows and columns."
    )
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0-100.")
    phase = models.CharField(max_length=120, blank=True, help_text="The step under way.")
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
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
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("analysis-run", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def is_running(self) -> bool:
        return self.status in {RunStatus.QUEUED, RunStatus.RUNNING}

    @property
    def is_stale(self) -> bool:
        """Claimed long ago and never finished: its worker stopped (a crash, a restart)."""
        return (
            self.status == RunStatus.RUNNING
            and self.started_at is not None
            and self.started_at < stale_claim_cutoff()
        )

    @property
    def is_stuck(self) -> bool:
        """Its task cannot be on its way: never sent, or waiting or stale too long
        (`reviewer.services.jobs.job_is_stuck`). The page offers to send it again."""
        return job_is_stuck(self)

    @property
    def not_sent(self) -> bool:
        return self.is_running and self.error == NOT_SENT

    @property
    def fingerprint_short(self) -> str:
        return self.fingerprint[:8]

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
