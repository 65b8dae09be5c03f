"""Relevance ranking of the title/abstract queue, and the random samples of the stopping test.

One ranking per (review, reviewer). That is the blinding-safe choice: a reviewer's model
learns only from that reviewer's own title/abstract decisions plus the records already
*resolved* at title/abstract (agreed by two reviewers, or adjudicated by the senior), whose
outcome every member may see (`rules.may_see_other_decisions`). Another reviewer's
decision on a record that is still open never reaches it, so neither the order of my queue
nor the scores I see can tell me how a colleague decided. A shared model would learn
faster, but its scores would move when a colleague decides, and that is what blinding forbids.

Each retrain is a `RankingJob` row (queued -> running -> succeeded | failed), claimed by a
worker with a conditional update. Its scores are child rows (`RelevanceScore`), one per
record, so the screening queue orders by a join on an indexed column instead of parsing a
20,000-entry JSON map on every page. Only the newest succeeded job of a reviewer keeps its
scores; older jobs keep their counts and timings as history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviewer.models.jobs import Job, JobStatus
from reviewer.models.reviews import Review
from reviewer.models.sources import Record


class RankingStatus(models.TextChoices):
    QUEUED = JobStatus.QUEUED.value, "Waiting to run"
    RUNNING = JobStatus.RUNNING.value, "Running"
    SUCCEEDED = JobStatus.SUCCEEDED.value, "Finished"
    FAILED = JobStatus.FAILED.value, "Failed"
    CANCELLED = JobStatus.CANCELLED.value, "Cancelled"


class RankingTrigger(models.TextChoices):
    DECISIONS = "decisions", "After your latest decisions"
    REQUESTED = "requested", "Asked for on the ranking page"
    RECORDS = "records", "After records were imported"
    QUESTION = "question", "After the review's question or criteria changed"
    JOINED = "joined", "When you joined the review"
    ROLE = "role", "When your role changed"
    BLINDING = "blinding", "When the review's blinding changed"
    DEMO = "demo", "Built with the demo review"


class RankingMethod(models.TextChoices):
    """How a finished job ordered the records."""

    NONE = "", "Not ranked"
    QUESTION = "question", "Similarity to the review's question"
    LEARNT = "learnt", "Learnt from your decisions"


class RankingJob(Job):
    """One retrain of one reviewer's model, and what it learnt from."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ranking_jobs")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ranking_jobs"
    )
    status = models.CharField(
        max_length=20, choices=RankingStatus.choices, default=RankingStatus.QUEUED
    )
    trigger = models.CharField(max_length=20, choices=RankingTrigger.choices)
    trained = models.BooleanField(
        default=False, help_text="False: nothing to rank by (no labels, no question); see reason."
    )
    method = models.CharField(
        max_length=20,
        choices=RankingMethod.choices,
        default=RankingMethod.NONE,
        blank=True,
        help_text="Learnt from decisions, or (before the first relevant and irrelevant one) "
        "similarity to the review's question, criteria and highlight terms.",
    )
    reason = models.TextField(blank=True, help_text="Why no model could be trained.")
    records = models.PositiveIntegerField(default=0, help_text="Records scored.")
    relevant = models.PositiveIntegerField(default=0, help_text="Labels used: relevant.")
    irrelevant = models.PositiveIntegerField(default=0, help_text="Labels used: irrelevant.")
    labels_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the (record, label) pairs used."
    )
    load_seconds = models.FloatField(null=True, blank=True)
    vectorise_seconds = models.FloatField(
        null=True, blank=True, help_text="0 when this process had the records' features cached."
    )
    train_seconds = models.FloatField(null=True, blank=True)
    store_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # requests while one is waiting join it instead of piling up
            models.UniqueConstraint(
                fields=["review", "reviewer"],
                condition=models.Q(status="queued"),
                name="one_queued_ranking_per_reviewer",
            )
        ]
        indexes = [
            models.Index(fields=["review", "reviewer", "status"], name="ranking_review_user_status")
        ]

    def __str__(self) -> str:
        return f"Ranking #{self.pk} of {self.reviewer_id} ({self.status})"

    @property
    def total_seconds(self) -> float:
        parts = (self.load_seconds, self.vectorise_seconds, self.train_seconds, self.store_seconds)
        return sum(part or 0.0 for part in parts)


class RelevanceScore(models.Model):
    """A record's score (0..1) and rank (1 = most relevant) in one reviewer's ranking."""

    # A retrain writes 20,000 of these at a time (`services.ranking.scores_store`), so the
    # database checks no foreign key on them: the checks took 60% of the database's time of
    # a store, and each locked the record's row (FOR KEY SHARE) against the decisions taken
    # meanwhile. The rows stay consistent without them: only a retrain writes them, from
    # the review's records and its own job, in the job's transaction; Django deletes them
    # with their record or job (`on_delete`), and a restore maps every id it writes. The
    # job needs no index of its own: `relevance_job_rank` and the unique constraint lead
    # with it.
    job = models.ForeignKey(
        RankingJob,
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        db_index=False,
    )
    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="relevance_scores", db_constraint=False
    )
    score = models.FloatField()
    rank = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "record"], name="one_score_per_record_and_job")
        ]
        # the queue in relevance order walks one ranking by rank
        indexes = [models.Index(fields=["job", "rank"], name="relevance_job_rank")]

    def __str__(self) -> str:
        return f"Record {self.record_id}: {self.score:.3f} (rank {self.rank})"


class StoppingSample(models.Model):
    """A random sample of the records a reviewer had not screened when it was drawn.

    The counts before the sample are frozen at the draw: the stopping test
    (`reviewer.ranking.stopping.recall_test`) is about the pool the sample came from.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stopping_samples")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stopping_samples"
    )
    seed = models.PositiveBigIntegerField()
    target = models.FloatField(help_text="The recall target, e.g. 0.95.")
    alpha = models.FloatField(help_text="The significance level, e.g. 0.05.")
    n_total = models.PositiveIntegerField(help_text="Records in title/abstract screening.")
    n_seen_before = models.PositiveIntegerField(help_text="Screened (labelled) before the draw.")
    relevant_before = models.PositiveIntegerField(help_text="Of those, relevant.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Stopping sample #{self.pk} of {self.reviewer_id}"

    @property
    def n_remaining(self) -> int:
        return self.n_total - self.n_seen_before


class SampledRecord(models.Model):
    """One record of a stopping sample, in the random order it is screened in."""

    sample = models.ForeignKey(StoppingSample, on_delete=models.CASCADE, related_name="entries")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="samplings")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "record"], name="record_once_per_sample"),
            models.UniqueConstraint(fields=["sample", "position"], name="one_record_per_position"),
        ]

    def __str__(self) -> str:
        return f"Record {self.record_id} at {self.position} of sample {self.sample_id}"
