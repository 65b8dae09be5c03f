"""Writes to reviews, memberships and exclusion reasons."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from reviewer.models import (
    DEFAULT_EXCLUSION_REASONS,
    ExclusionReason,
    FormerMember,
    Membership,
    Review,
    Role,
    User,
)
from reviewer.screening import counters
from reviewer.services.ranking import ranking_after_role_change, ranking_for_new_member


def unique_review_slug(title: str) -> str:
    base = slugify(title)[:50] or "review"
    slug, n = base, 2
    while Review.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def review_create(*, title: str, created_by: User, slug: str = "", **fields: object) -> Review:
    """Create a review owned by its creator, with the default exclusion reasons."""
    review = Review.objects.create(
        title=title, slug=slug or unique_review_slug(title), created_by=created_by, **fields
    )
    Membership.objects.create(review=review, user=created_by, role=Role.OWNER, added_by=created_by)
    ExclusionReason.objects.bulk_create(
        ExclusionReason(review=review, label=label, position=i)
        for i, label in enumerate(DEFAULT_EXCLUSION_REASONS)
    )
    return review


def member_add(*, review: Review, username: str, role: Role, added_by: User) -> Membership:
    """Invite an existing user by username."""
    user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if user is None:
        raise ValidationError(
            f"There is no user called “{username}”. Invite them by email address instead: "
            "the invitation lets them make an account."
        )
    if review.memberships.filter(user=user).exists():
        raise ValidationError(f"{user.username} is already a member of this review.")
    return member_join(review=review, user=user, role=role, added_by=added_by)


def member_join(*, review: Review, user: User, role: Role, added_by: User) -> Membership:
    """`user` becomes a member: the one way in (added by name, or by accepting an
    invitation), so every new member gets the same start (`ranking_for_new_member`)."""
    membership = Membership.objects.create(review=review, user=user, role=role, added_by=added_by)
    ranking_for_new_member(membership=membership)
    return membership


def _ensure_an_owner_remains(review: Review, leaving: Membership) -> None:
    owners = review.memberships.filter(role=Role.OWNER).exclude(pk=leaving.pk)
    if not owners.exists():
        raise ValidationError("A review needs at least one owner; make someone else owner first.")


@transaction.atomic
def member_set_role(*, membership: Membership, role: Role) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        _ensure_an_owner_remains(membership.review, membership)
    was_senior = membership.is_senior
    membership.role = role
    membership.save(update_fields=["role"])
    ranking_after_role_change(membership=membership, was_senior=was_senior)
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, removed_by: User | None = None) -> None:
    """End a member's access. Their decisions, extraction and every other row they made
    stay in the review under their name; the Members page lists them as a former member."""
    review = Review.objects.select_for_update().get(pk=membership.review_id)
    if membership.role == Role.OWNER:
        _ensure_an_owner_remains(review, membership)
    FormerMember.objects.create(
        review=review, user_id=membership.user_id, role=membership.role, removed_by=removed_by
    )
    membership.delete()


# --- archiving and deleting a review ---


@transaction.atomic
def review_archive(*, review: Review, user: User) -> Review:
    """Read-only and out of everyone's list of reviews, until an owner restores it."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.is_archived:
        raise ValidationError("This review is archived already.")
    review.archived_at = timezone.now()
    review.archived_by = user
    review.save(update_fields=["archived_at", "archived_by"])
    return review


@transaction.atomic
def review_restore(*, review: Review) -> Review:
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.is_archived:
        raise ValidationError("This review is not archived.")
    review.archived_at = None
    review.archived_by = None
    review.save(update_fields=["archived_at", "archived_by"])
    return review


def review_delete(*, review: Review, typed_title: str, has_archive: bool) -> None:
    """Delete the review and everything in it, its stored files too; all or nothing.

    Asks for the title typed out, and for the review's archive (the backup file): this
    server must have handed one out (`archive_downloaded_at`, set by the download), and the
    owner ticks that they kept it."""
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if " ".join(typed_title.split()) != " ".join(review.title.split()):
            raise ValidationError(
                "The title typed does not match this review’s title; nothing was deleted."
            )
        if review.archive_downloaded_at is None:
            raise ValidationError(
                "Download the review’s archive first (Settings → archive of the whole review): "
                "no archive of it has been downloaded yet, and it is the only way back. "
                "Nothing was deleted."
            )
        if not has_archive:
            raise ValidationError(
                "Download the review’s archive first and tick that you have it; nothing was "
                "deleted."
            )
        files = stored_files(review)
        review.delete()
        transaction.on_commit(lambda: delete_stored_files(files))


def stored_files(review: Review) -> list[str]:
    """The names, in the default storage, of every file uploaded into a review."""
    from reviewer.models import FullText, ImportFile

    uploads = ImportFile.objects.filter(job__review=review).values_list("file", flat=True)
    pdfs = FullText.objects.filter(review=review).exclude(pdf="").values_list("pdf", flat=True)
    return [name for name in [*uploads, *pdfs] if name]


def delete_stored_files(names: list[str]) -> None:
    """Remove files whose rows are gone (after the deleting transaction committed)."""
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def _normalised_label(review: Review, label: str, *, exclude_pk: int | None = None) -> str:
    label = " ".join(label.split())
    if not label:
        raise ValidationError("A reason needs some text.")
    clash = review.exclusion_reasons.filter(label__iexact=label)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(f"“{label}” is already on the list.")
    return label


# Each writer of reasons bumps `counts_version` in its transaction: the screening panel
# reads the reasons from the cache under that version (`selectors.active_reasons`).


@transaction.atomic
def exclusion_reason_add(*, review: Review, label: str) -> ExclusionReason:
    label = _normalised_label(review, label)
    last = review.exclusion_reasons.aggregate(m=Max("position"))["m"]
    reason = ExclusionReason.objects.create(
        review=review, label=label, position=0 if last is None else last + 1
    )
    counters.changed(review)
    return reason


@transaction.atomic
def exclusion_reason_update(
    *, reason: ExclusionReason, label: str, is_active: bool
) -> ExclusionReason:
    reason.label = _normalised_label(reason.review, label, exclude_pk=reason.pk)
    reason.is_active = is_active
    reason.save(update_fields=["label", "is_active"])
    counters.changed(reason.review)
    return reason


@transaction.atomic
def exclusion_reason_move(*, reason: ExclusionReason, up: bool) -> None:
    """Swap a reason with its neighbour above or below."""
    reasons = list(reason.review.exclusion_reasons.select_for_update().order_by("position", "pk"))
    i = next(i for i, r in enumerate(reasons) if r.pk == reason.pk)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(reasons):
        return
    reasons[i], reasons[j] = reasons[j], reasons[i]
    for position, r in enumerate(reasons):
        r.position = position
    ExclusionReason.objects.bulk_update(reasons, ["position"])
    counters.changed(reason.review)
