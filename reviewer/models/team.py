"""Joining a review (invitations), leaving it (former members), and the site's first account."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from reviewer.models.reviews import Review, Role


def new_invitation_key() -> str:
    return secrets.token_urlsafe(24)


class InvitationState(models.TextChoices):
    PENDING = "pending", "Waiting to be accepted"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(models.Model):
    """An owner's invitation of one email address into a review with a role fixed here.

    The link holds the invitation's id and `key`, signed with the site's secret
    (reviewer.services.invitations): it works once, until `expires_at`, unless revoked.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REVIEWER)
    key = models.CharField(max_length=64, default=new_invitation_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.review} as {self.get_role_display()}"

    @staticmethod
    def default_expiry() -> timedelta:
        return timedelta(days=settings.INVITATION_DAYS)

    @property
    def state(self) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    @property
    def is_pending(self) -> bool:
        return self.state == InvitationState.PENDING


class FormerMember(models.Model):
    """Someone removed from a review. Their decisions and extraction stay in the review
    under their name (the audit needs them); this row says who removed them and when."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="former_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    removed_at = models.DateTimeField(auto_now_add=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-removed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} removed from {self.review}"


class FirstAccount(models.Model):
    """The account made on the first visit to a fresh install. The unique `singleton`
    makes a second one impossible, even from two requests at the same moment."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"First account: {self.user}"
