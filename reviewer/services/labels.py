"""Labels (tags) on records: one person's label on one record, added or taken off.

The review's shared labels are `Review.labels` (set in the review's settings); anyone may
also type a free label of their own. Who sees whose labels is `rules.may_see_others_labels`
(`visible_labels` applies it).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from reviewer.models import Membership, Record, RecordLabel, Review, User
from reviewer.prepared import Prepared
from reviewer.screening.rules import may_see_others_labels

MAX_LENGTH = RecordLabel._meta.get_field("name").max_length or 60


def clean_name(name: str) -> str:
    """A label as stored: spaces collapsed; refused when empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Type a label, or choose one of the review's labels.")
    if len(name) > MAX_LENGTH:
        raise ValidationError(f"A label is at most {MAX_LENGTH} characters: “{name[:20]}…”.")
    return name


def _canonical(review: Review, name: str) -> str:
    """A shared label keeps its own spelling whatever the case typed."""
    return next((shared for shared in review.labels if shared.lower() == name.lower()), name)


@transaction.atomic
def label_add(*, record: Record, user: User, name: str) -> RecordLabel:
    review = record.review
    if not review.memberships.filter(user=user).exists():
        raise ValidationError(f"{user.display_name()} is not a member of this review.")
    name = _canonical(review, clean_name(name))
    existing = RecordLabel.objects.filter(record=record, added_by=user, name=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RecordLabel.objects.create(
                review=review, record=record, name=name, added_by=user
            )
    except IntegrityError:  # the same label, added a moment ago (a double click)
        return RecordLabel.objects.get(record=record, added_by=user, name=name)


def label_remove(*, record: Record, user: User, name: str) -> None:
    """Take one's own label off a record (a colleague's stays)."""
    deleted, _ = RecordLabel.objects.filter(record=record, added_by=user, name=name).delete()
    if not deleted:
        raise ValidationError(f"You have no label “{name}” on record {record.pk}.")


def visible_labels(review: Review, membership: Membership) -> QuerySet[RecordLabel]:
    """The labels of the review this member may see: her own, or everyone's
    (`rules.may_see_others_labels`)."""
    labels = RecordLabel.objects.filter(review=review)
    if not may_see_others_labels(blinded=review.blinded, is_senior=membership.is_senior):
        labels = labels.filter(added_by_id=membership.user_id)
    return labels


def _record_labels_query(mine_only: bool, **values: int) -> QuerySet[RecordLabel]:
    labels = RecordLabel.objects.filter(review_id=values["review"], record_id=values["record"])
    if mine_only:
        return labels.filter(added_by_id=values["user"])
    return labels.select_related("added_by")  # whose each label is: names are shown


_RECORD_LABELS = Prepared(_record_labels_query)


def record_labels(review: Review, membership: Membership, record_id: int) -> list[RecordLabel]:
    """The labels on one record this member may see (`visible_labels`), in the model's
    order, with who added each when she may see others' (a screening panel's labels, on
    every decision: its SQL compiled once per process, `reviewer.prepared`)."""
    if may_see_others_labels(blinded=review.blinded, is_senior=membership.is_senior):
        return _RECORD_LABELS.objects((False,), review=review.pk, record=record_id)
    return _RECORD_LABELS.objects(
        (True,), review=review.pk, record=record_id, user=membership.user_id
    )


def label_choices(review: Review, membership: Membership) -> list[str]:
    """The labels to offer and filter by: the review's shared ones, then the others this
    member may see, alphabetically."""
    seen = {name.lower() for name in review.labels}
    others = sorted(
        {name for name in visible_labels(review, membership).values_list("name", flat=True)},
        key=str.lower,
    )
    return [*review.labels, *(name for name in others if name.lower() not in seen)]
