"""The columns and constraints of a dual copy (`extraction.dual`).

Each kind keeps its own person column (`Extraction.extractor`, `Appraisal.assessor`: the
names are part of the archive and the pages) and its own values; the rest is here. The
related names (`%(class)ss`) and the constraint names (`one_copy_each`) come out exactly
as each kind declared them before they shared this base, so no migration follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models

from reviewer.models import Review, Study

if TYPE_CHECKING:
    from reviewer.models import User


class CopyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class DualCopy(models.Model):
    """One person's copy of a study's work, or (no person) the senior's consensus."""

    #: The name of the kind's person column, empty for the consensus.
    person_field: ClassVar[str]

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="%(class)ss")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="%(class)ss")
    status = models.CharField(
        max_length=12, choices=CopyStatus.choices, default=CopyStatus.IN_PROGRESS
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["study", "pk"]

    def __str__(self) -> str:
        return f"{self.study} ({self.person or 'consensus'})"

    @property
    def person(self) -> User | None:
        person: User | None = getattr(self, self.person_field)
        return person

    @property
    def person_id(self) -> int | None:
        person_id: int | None = getattr(self, f"{self.person_field}_id")
        return person_id

    @property
    def is_consensus(self) -> bool:
        return self.person_id is None

    @property
    def done(self) -> bool:
        return self.status == CopyStatus.DONE


def person_column(
    *, related_name: str, help_text: str
) -> models.ForeignKey[User | None, User | None]:
    """A kind's person column: the copy's owner, empty for the consensus."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
        help_text=help_text,
    )


def one_copy_each(*, prefix: str, person: str) -> list[models.BaseConstraint]:
    """One copy per person per study, and one consensus per study (named
    `<prefix>_one_per_<person>` and `<prefix>_one_consensus`)."""
    return [
        models.UniqueConstraint(fields=["study", person], name=f"{prefix}_one_per_{person}"),
        models.UniqueConstraint(
            fields=["study"],
            condition=models.Q(**{f"{person}__isnull": True}),
            name=f"{prefix}_one_consensus",
        ),
    ]
