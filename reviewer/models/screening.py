"""Screening: each reviewer's decisions, the senior's adjudications and approvals, full texts,
studies, and records removed before screening.

A record's stage and state are never stored: `reviewer.screening.rules` derives them from
these rows, and every count (dashboard, PRISMA) is a query over the same rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviewer.models.reviews import ExclusionReason, Review
from reviewer.models.sources import Record

# The vocabulary of the rows is the state table's own: one enum for pages, rows and rules.
from reviewer.screening.rules import STAGE_CHOICES as STAGE_CHOICES
from reviewer.screening.rules import Choice as Choice
from reviewer.screening.rules import Stage as Stage


class Decision(models.Model):
    """One reviewer's current decision on one record at one stage."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    stage = models.CharField(max_length=2, choices=Stage.choices)
    choice = models.CharField(max_length=10, choices=Choice.choices)
    reason = models.ForeignKey(
        ExclusionReason,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="decisions",
        help_text="Why the record is excluded: required at full text, optional at title/abstract.",
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "reviewer", "stage"], name="one_decision_per_reviewer_stage"
            )
        ]
        indexes = [
            models.Index(fields=["review", "stage", "reviewer"], name="decision_review_stage_user"),
            models.Index(fields=["record", "stage"], name="decision_record_stage"),
            # a reviewer's decisions since her ranking last read them
            # (`services.ranking.ranking_after_decision`): a range, not all of them
            models.Index(
                fields=["reviewer", "review", "stage", "created_at"],
                name="decision_user_review_stage_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id} {self.stage} {self.choice} on record {self.record_id}"


class DecisionChange(models.Model):
    """The history of decisions: a row each time a reviewer decides, changes or withdraws."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decision_changes")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(max_length=2, choices=Stage.choices)
    choice = models.CharField(
        max_length=10, choices=Choice.choices, blank=True, help_text="Empty: withdrawn (undo)."
    )
    reason = models.ForeignKey(
        ExclusionReason, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.reviewer_id} {self.stage} {self.choice or 'withdrawn'} on {self.record_id}"


class Adjudication(models.Model):
    """A senior's final decision on a record whose two decisions disagree (or, at full text,
    whose two exclusions give different reasons: the reason to report)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="adjudications")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="adjudications")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    choice = models.CharField(
        max_length=10, choices=[(Choice.INCLUDE, "Include"), (Choice.EXCLUDE, "Exclude")]
    )
    reason = models.ForeignKey(
        ExclusionReason, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="one_adjudication_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.choice} on record {self.record_id} (adjudicated)"


def full_text_path(instance: FullText, filename: str) -> str:
    return f"fulltexts/review-{instance.review_id}/record-{instance.record_id}.pdf"


class FullText(models.Model):
    """The full text of a record sought for retrieval: a PDF, or "not retrieved" with a note."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="full_texts")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="full_text")
    pdf = models.FileField(upload_to=full_text_path, max_length=500, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    not_retrieved = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(not_retrieved=True) & ~models.Q(pdf="")),
                name="full_text_pdf_or_not_retrieved",
            )
        ]

    def __str__(self) -> str:
        return f"Full text of record {self.record_id}"


class Study(models.Model):
    """A study: one or more approved reports (records) of the same participants."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=200, help_text='e.g. "Coffin 2007".')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.label


class Approval(models.Model):
    """A senior's approval of a full-text inclusion: the record is a report of a study."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="approvals")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="approval")
    study = models.ForeignKey(Study, on_delete=models.RESTRICT, related_name="reports")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Record {self.record_id} approved into {self.study_id}"


class Removal(models.Model):
    """A record removed before screening, with why (PRISMA: "removed for other reasons")."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="removals")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="removal")
    reason = models.CharField(max_length=200)
    by_automation = models.BooleanField(
        default=False,
        help_text="Marked ineligible by an automation tool (counted apart in PRISMA 2020).",
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Record {self.record_id} removed: {self.reason}"


class RecordLabel(models.Model):
    """A label (tag) one person put on a record: one of the review's shared labels
    (`Review.labels`) or a free one of their own. Per person, so that while the review is
    blinded each reviewer sees her own only (`rules.may_see_others_labels`)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="record_labels")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=60)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "added_by", "name"], name="one_label_per_person_record"
            )
        ]
        indexes = [models.Index(fields=["review", "name"], name="record_label_review_name")]

    def __str__(self) -> str:
        return f"{self.name} on record {self.record_id}"
