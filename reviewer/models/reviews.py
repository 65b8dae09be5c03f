"""A review, its members and their roles, and the review's own settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse


class Role(models.TextChoices):
    """Roles nest: an owner may do all a senior may, a senior all a reviewer may."""

    REVIEWER = "reviewer", "Reviewer"
    SENIOR = "senior", "Senior author"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]


ROLE_RANK = {Role.REVIEWER: 1, Role.SENIOR: 2, Role.OWNER: 3}


class Review(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=300)
    question = models.TextField(blank=True, help_text="The review question, e.g. in PICO form.")
    criteria = models.TextField(
        "eligibility criteria",
        blank=True,
        help_text="Inclusion and exclusion criteria, shown beside every record while screening.",
    )
    highlight_include = models.JSONField(
        default=list,
        blank=True,
        help_text="Terms highlighted as signs of relevance while screening.",
    )
    highlight_exclude = models.JSONField(
        default=list,
        blank=True,
        help_text="Terms highlighted as signs of irrelevance while screening.",
    )
    labels = models.JSONField(
        default=list,
        blank=True,
        help_text="The review's shared labels, offered on every record while screening.",
    )
    blinded = models.BooleanField(
        default=True,
        help_text="Reviewers do not see each other's decisions until adjudication is over.",
    )
    previous_studies = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For an update of an earlier review: the studies it included (PRISMA 2020).",
    )
    previous_reports = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For an update: the reports of those studies.",
    )
    # Bumped in the transaction of every write that can change the screening counters
    # other than a decision (`screening.counters.changed`): the cached counts are keyed by
    # it, so none can outlive such a change.
    counts_version = models.PositiveBigIntegerField(default=0, editable=False)
    # Archived: read-only for everyone and out of the list of reviews, until restored.
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while the review is archived: read-only, not listed."
    )
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    archive_downloaded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an owner last downloaded the review's archive (reviewer.archive).",
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def save(self, **kwargs: Any) -> None:
        """Save, leaving `counts_version` as it is in the database: only
        `screening.counters.changed` moves it, and a review read before a bump and saved
        after it must not set it back (counts cached under the old version would be read
        again)."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "counts_version"
            ]
        super().save(**kwargs)

    def get_absolute_url(self) -> str:
        return reverse("review-dashboard", kwargs={"slug": self.slug})

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REVIEWER)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="one_membership_per_user")
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.review}"

    def has_role(self, role: Role) -> bool:
        """True if this member's role is `role` or a role above it."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]

    @property
    def is_owner(self) -> bool:
        return self.has_role(Role.OWNER)

    @property
    def is_senior(self) -> bool:
        return self.has_role(Role.SENIOR)


#: Seeded into every new review; the owner edits the list.
DEFAULT_EXCLUSION_REASONS = (
    "Wrong population",
    "Wrong intervention or exposure",
    "Wrong comparator",
    "Wrong outcomes",
    "Wrong study design",
    "Wrong publication type (review, editorial, conference abstract)",
    "Too few patients (case report)",
    "Data not reported separately for the population of interest",
    "Overlapping cohort (duplicate report of the same patients)",
    "Not in an included language",
)


class ExclusionReason(models.Model):
    """A reason a full text can be excluded for, as reported in the PRISMA diagram."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="exclusion_reasons")
    label = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(
        default=True, help_text="Retired reasons stay on past decisions but are not offered."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "label"], name="unique_reason_label")
        ]

    def __str__(self) -> str:
        return self.label
