"""Undoing a search added by mistake: delete it while nobody has screened its records,
hide it (with why) once they have.

Deleting takes the search's records, uploaded files, import jobs and de-duplication links
with it, in one transaction, so every count (PRISMA included) is as if it had never been
imported. A search with screening work on its records cannot be deleted: that work is
part of the review's record. Hiding moves it out of the list of searches into a list of
hidden ones, with the reason, who and when, and changes no count: its records were
identified and screened, and the PRISMA diagram must agree with the decisions made on them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from reviewer.models import (
    Adjudication,
    Approval,
    Decision,
    DedupJob,
    DedupStatus,
    FullText,
    ImportFile,
    ImportJob,
    Record,
    Removal,
    Review,
    Source,
    User,
)
from reviewer.models.sources import RUNNING_STATUSES
from reviewer.screening import counters
from reviewer.services.duplicates import records_leave_groups
from reviewer.services.reviews import delete_stored_files


def screening_work(source: Source) -> dict[str, int]:
    """How much screening work sits on the search's records, by kind (zero kinds left out)."""
    records = Record.objects.filter(source=source).values("pk")
    counts = {
        "screening decisions": Decision.objects.filter(record__in=records).count(),
        "adjudications": Adjudication.objects.filter(record__in=records).count(),
        "removals before screening": Removal.objects.filter(record__in=records).count(),
        "full texts": FullText.objects.filter(record__in=records).count(),
        "approvals": Approval.objects.filter(record__in=records).count(),
    }
    return {kind: n for kind, n in counts.items() if n}


def can_delete(source: Source) -> bool:
    return not screening_work(source)


def source_delete(*, source: Source) -> int:
    """Delete a search nobody has screened records of; returns how many records went."""
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=source.review_id)
        source = Source.objects.select_for_update().get(pk=source.pk)
        work = screening_work(source)
        if work:
            done = ", ".join(f"{n} {kind}" for kind, n in work.items())
            raise ValidationError(
                f"“{source}” cannot be deleted: its records have {done}. Hide it instead."
            )
        if ImportJob.objects.filter(source=source, status__in=RUNNING_STATUSES).exists():
            raise ValidationError(
                f"An import into “{source}” is still running: wait for it or cancel it first."
            )
        if DedupJob.objects.filter(
            review=review, status__in=[DedupStatus.QUEUED, DedupStatus.RUNNING]
        ).exists():
            raise ValidationError(
                "De-duplication is running in this review: wait for it to finish, then delete."
            )
        record_ids = set(Record.objects.filter(source=source).values_list("pk", flat=True))
        records_leave_groups(review=review, record_ids=record_ids)
        files = list(ImportFile.objects.filter(job__source=source).values_list("file", flat=True))
        ordered = sorted(record_ids)
        for start in range(0, len(ordered), 2000):
            Record.objects.filter(pk__in=ordered[start : start + 2000]).delete()
        source.delete()
        counters.changed(review)  # its records leave screening
        transaction.on_commit(lambda: delete_stored_files([name for name in files if name]))
    return len(record_ids)


@transaction.atomic
def source_hide(*, source: Source, user: User, reason: str) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Say why the search is hidden; the reason stays with it.")
    if source.hidden_at is not None:
        raise ValidationError(f"“{source}” is hidden already.")
    source.hidden_at = timezone.now()
    source.hidden_by = user
    source.hidden_reason = reason
    source.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    return source


@transaction.atomic
def source_unhide(*, source: Source) -> Source:
    source = Source.objects.select_for_update().get(pk=source.pk)
    if source.hidden_at is None:
        raise ValidationError(f"“{source}” is not hidden.")
    source.hidden_at = None
    source.hidden_by = None
    source.hidden_reason = ""
    source.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    return source
