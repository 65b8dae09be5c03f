"""Extraction forms, and the study- and patient-level values filled into them.

A review's form is a list of `Field`s at two levels: the study level (one value per
study) and the patient level (any number of rows per study: individual patient data).
Values are stored per person: each extractor fills an `Extraction` of a study (its study
values plus its `PatientRow`s); with dual extraction a senior then resolves the two into
the consensus `Extraction` (extractor empty), which is what analysis reads.

Values live in a JSON map keyed by the field's id, so renaming, reordering or retiring a
field never touches a value; `extraction.values` reads and writes that map (the "not
reported" marker included). A field's `key` is its stable column name in exports and
analysis: set once, never renamed.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models

from extraction.dual.models import CopyStatus, DualCopy, one_copy_each, person_column
from reviewer.models import Job, JobStatus, Review


class Level(models.TextChoices):
    STUDY = "study", "Study"
    PATIENT = "patient", "Patient"


class FieldType(models.TextChoices):
    INTEGER = "integer", "Whole number"
    DECIMAL = "decimal", "Decimal number"
    TEXT = "text", "Text"
    CHOICE = "choice", "Single choice"
    MULTI = "multi", "Multiple choice"
    YES_NO = "yesno", "Yes / no / unknown"
    DATE = "date", "Date"

    @property
    def has_choices(self) -> bool:
        return self in (FieldType.CHOICE, FieldType.MULTI)

    @property
    def numeric(self) -> bool:
        return self in (FieldType.INTEGER, FieldType.DECIMAL)


class ExtractionSetup(models.Model):
    """A review's extraction settings."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="extraction_setup")
    dual = models.BooleanField(
        default=True,
        help_text="Two extractors fill each study independently and a senior resolves "
        "their disagreements into the consensus values that analysis uses.",
    )
    row_noun = models.CharField(
        max_length=30,
        default="patient",
        help_text='What one patient-level row is, in the review\'s own word: "patient", "site".',
    )
    row_noun_plural = models.CharField(max_length=30, default="patients")

    def __str__(self) -> str:
        return f"Extraction setup of {self.review}"


class Field(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extraction_fields")
    level = models.CharField(max_length=10, choices=Level.choices)
    key = models.SlugField(
        max_length=60,
        help_text="Column name in exports and analysis. Set once; renaming changes the label.",
    )
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=10, choices=FieldType.choices)
    unit = models.CharField(max_length=30, blank=True, help_text='e.g. "cm", "months".')
    required = models.BooleanField(default=False)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(
        default=False,
        help_text="Retired fields leave the form; their values are kept and come back "
        "if the field is restored.",
    )

    class Meta:
        ordering = ["review", "level", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "key"], name="extraction_field_key_unique"),
            models.CheckConstraint(
                condition=models.Q(min_value__isnull=True)
                | models.Q(max_value__isnull=True)
                | models.Q(min_value__lte=models.F("max_value")),
                name="extraction_field_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def kind(self) -> FieldType:
        return FieldType(self.type)


class FieldChoice(models.Model):
    """One option of a single- or multiple-choice field; values store its id."""

    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="choices")
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["field", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["field", "label"], name="extraction_choice_label_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label


#: An extraction copy's status (one enum with the appraisals': `extraction.dual`).
ExtractionStatus = CopyStatus


class Extraction(DualCopy):
    """One person's copy of a study's data, or (no extractor) the consensus copy."""

    person_field = "extractor"

    extractor = person_column(
        related_name="extractions", help_text="Empty for the consensus values."
    )
    values = models.JSONField(default=dict, blank=True)

    class Meta(DualCopy.Meta):
        constraints = one_copy_each(prefix="extraction", person="extractor")


class PatientRow(models.Model):
    extraction = models.ForeignKey(Extraction, on_delete=models.CASCADE, related_name="patients")
    position = models.PositiveIntegerField()
    label = models.CharField(
        max_length=60, blank=True, help_text='The patient as the paper names them, e.g. "Case 3".'
    )
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["extraction", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["extraction", "position"], name="extraction_patient_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label or f"Patient {self.position}"


class SheetKind(models.TextChoices):
    """What an imported extraction sheet holds (`extraction.services.transfer`)."""

    PATIENTS = "patients", "Patient rows"
    STUDIES = "studies", "Study values"


class ImportTarget(models.TextChoices):
    """Whose copies an extraction import writes into."""

    MINE = "mine", "My copies"
    CONSENSUS = "consensus", "The consensus copies"


class PendingStatus(models.TextChoices):
    """A pending extraction upload's life: read and checked (by a worker for a large file,
    see `extraction.services.uploads`), then shown until committed, cancelled or abandoned.

    Committing or cancelling deletes the row and its file; so does the clean-up of uploads
    left for longer than `UPLOAD_KEPT`.
    """

    WAITING = JobStatus.QUEUED.value, "Waiting to read the file"
    READING = JobStatus.RUNNING.value, "Reading the file"
    READY = JobStatus.SUCCEEDED.value, "Read"
    FAILED = JobStatus.FAILED.value, "Failed"


def pending_upload_path(instance: PendingImport, filename: str) -> str:
    return f"extraction-imports/{instance.token}{PurePath(filename).suffix.lower()[:8]}"


class PendingImport(Job):
    """An uploaded extraction sheet waiting for its uploader to check and commit it.

    Found by its random `token` (which the preview's address carries) together with its
    review and uploader, so nobody else reaches it. One per person and review: a new upload
    replaces the earlier one. `preview` is what reading and checking the file found
    (`transfer.Preview.as_json`); committing checks the file again with the copies locked.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="pending_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=pending_upload_path, max_length=200)
    name = models.CharField(max_length=255, help_text="The file's name as uploaded.")
    size = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=SheetKind.choices)
    target = models.CharField(max_length=10, choices=ImportTarget.choices)
    status = models.CharField(
        max_length=20, choices=PendingStatus.choices, default=PendingStatus.WAITING
    )
    preview = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "created_by"], name="extraction_one_pending_import"
            )
        ]

    def __str__(self) -> str:
        return f"Pending import of {self.name}"


# The appraisal models live beside the code that reads them; Django finds them here.
from extraction.appraisal.models import (  # noqa: E402
    Appraisal,
    AppraisalSetup,
    AppraisalStatus,
    CustomTool,
    Design,
    StudyDesign,
)

__all__ = [
    "Appraisal",
    "AppraisalSetup",
    "AppraisalStatus",
    "CustomTool",
    "Design",
    "Extraction",
    "ExtractionSetup",
    "ExtractionStatus",
    "Field",
    "FieldChoice",
    "FieldType",
    "ImportTarget",
    "Level",
    "PatientRow",
    "PendingImport",
    "PendingStatus",
    "SheetKind",
    "StudyDesign",
]
