"""Searches (sources), the files uploaded for them, import jobs, and the records they hold."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from reviewer.imports.base import FileFormat
from reviewer.models.jobs import Job, JobStatus, stale_claim_cutoff
from reviewer.models.reviews import Review

__all__ = ["stale_claim_cutoff"]  # its home is `reviewer.models.jobs`; imported from here too


class SourceKind(models.TextChoices):
    """Where records were identified, as the PRISMA 2020 diagram counts them: databases and
    registers (left column), and the other methods (right column)."""

    DATABASE = "database", "Database"
    REGISTER = "register", "Register"
    WEBSITE = "website", "Other method: websites"
    ORGANISATION = "organisation", "Other method: organisations"
    OTHER = "other", "Other method: citation searching and other"


#: Records found by these methods skip title/abstract screening: in PRISMA 2020 they are
#: reports sought for retrieval from the start.
OTHER_METHOD_KINDS = frozenset({SourceKind.WEBSITE, SourceKind.ORGANISATION, SourceKind.OTHER})


#: Offered as suggestions; any name is accepted.
COMMON_SOURCE_NAMES = (
    "PubMed",
    "MEDLINE (Ovid)",
    "Embase",
    "Scopus",
    "Web of Science",
    "CENTRAL",
    "CINAHL",
    "PsycINFO",
    "ClinicalTrials.gov",
    "WHO ICTRP",
    "Other: citation searching",
    "Other: websites",
)


class Source(models.Model):
    """One search of one database or register, or one other method of finding records."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=200, help_text="e.g. PubMed, Embase, Scopus.")
    kind = models.CharField(max_length=20, choices=SourceKind.choices, default=SourceKind.DATABASE)
    search_date = models.DateField(null=True, blank=True)
    query = models.TextField("search query", blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A search someone has screened records of cannot be deleted, only hidden: out of the
    # list of searches, with why. Its records stay counted (reviewer.services.sources).
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name", "search_date", "pk"]

    def __str__(self) -> str:
        if self.search_date:
            return f"{self.name} ({self.search_date:%d %b %Y})"
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("source-detail", kwargs={"slug": self.review.slug, "pk": self.pk})


class ImportStatus(models.TextChoices):
    """An import job's life: read the files (preview), then import them on confirmation.

    Its two steps each have a waiting state and a working state of their own; the states
    every job has use the shared words (`JobStatus`). Each waiting state is claimed by
    exactly one worker with a conditional update, so a task delivered twice does its work
    once.
    """

    WAITING_TO_READ = "waiting-read", "Waiting to read the files"
    READING = "reading", "Reading the files"
    READY = "ready", "Ready to import"
    WAITING_TO_IMPORT = "waiting-import", "Waiting to import"
    IMPORTING = "importing", "Importing"
    DONE = JobStatus.SUCCEEDED.value, "Imported"
    FAILED = JobStatus.FAILED.value, "Failed"
    CANCELLED = JobStatus.CANCELLED.value, "Cancelled"


RUNNING_STATUSES = frozenset(
    {
        ImportStatus.WAITING_TO_READ,
        ImportStatus.READING,
        ImportStatus.WAITING_TO_IMPORT,
        ImportStatus.IMPORTING,
    }
)


class ImportJob(Job):
    """One upload of one or more files into a source: read, previewed, then imported whole.

    The job is the unit of all-or-nothing: either every file's records land in
    one transaction, or none do and `error` says why.
    """

    WAITING = frozenset({ImportStatus.WAITING_TO_READ, ImportStatus.WAITING_TO_IMPORT})
    WORKING = frozenset({ImportStatus.READING, ImportStatus.IMPORTING})

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="import_jobs")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.WAITING_TO_READ
    )
    record_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import #{self.pk} into {self.source}"

    def get_absolute_url(self) -> str:
        return reverse("import-detail", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def status_label(self) -> str:
        """The status as shown: a reading that failed says the upload was refused."""
        if self.status == ImportStatus.FAILED and self.finished_at is None:
            return "Refused: could not be read"
        return self.get_status_display()

    @property
    def can_confirm(self) -> bool:
        """Ready, and every file was read without error."""
        return self.status == ImportStatus.READY and not any(f.error for f in self.files.all())


def import_upload_path(instance: ImportFile, filename: str) -> str:
    return f"imports/review-{instance.job.review_id}/job-{instance.job_id}/{filename}"


class ImportFile(models.Model):
    """An uploaded export file, kept as uploaded so any import can be traced and redone."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=import_upload_path, max_length=500)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    detected_format = models.CharField(max_length=20, choices=FileFormat.choices, blank=True)
    format_override = models.CharField(
        max_length=20,
        choices=FileFormat.choices,
        blank=True,
        help_text="Set when the person chose a format instead of the detected one.",
    )
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Column mapping for CSV/TSV/XLSX files."
    )
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="What reading the file found: counts, fields, warnings, first records.",
    )
    error = models.TextField(blank=True)
    record_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def format(self) -> str:
        return self.format_override or self.detected_format

    def get_format_display(self) -> str:
        return FileFormat(self.format).label if self.format else "unknown"


class Record(models.Model):
    """One bibliographic record as imported, in the normalised shape, with its raw original."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="records")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="records")
    import_file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField(help_text="1-based position of the record in its file.")
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.TextField(blank=True)
    issue = models.TextField(blank=True)
    pages = models.TextField(blank=True)
    doi = models.TextField("DOI", blank=True)
    pmid = models.CharField("PMID", max_length=20, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    language = models.TextField(blank=True)
    publication_type = models.TextField(blank=True)
    url = models.TextField("URL", blank=True)
    raw = models.JSONField(default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text="The kept record of this record's group; set, this record is a duplicate.",
    )
    filled_fields = models.JSONField(
        default=dict,
        blank=True,
        help_text="Fields this kept record took from a duplicate: field name -> that record's id.",
    )
    # Blinded reviews: a record two reviewers agreed to include at title/abstract reaches
    # full-text screening when a senior releases it (`rules.reaches_full_text`).
    released_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a senior released this record, agreed at title/abstract, to full text.",
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who released it to full text.",
    )

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["review", "doi"], name="record_review_doi"),
            models.Index(fields=["review", "pmid"], name="record_review_pmid"),
            models.Index(fields=["review", "year"], name="record_review_year"),
            # also the screening queues' order: a review's records that are not duplicates,
            # in import order
            models.Index(fields=["review", "duplicate_of", "id"], name="record_review_duplicate"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["import_file", "position"], name="one_record_per_file_position"
            )
        ]

    def __str__(self) -> str:
        return self.title or f"[no title] record {self.position}"

    def get_absolute_url(self) -> str:
        return reverse("record-detail", kwargs={"slug": self.review.slug, "pk": self.pk})

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_id is not None

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""
