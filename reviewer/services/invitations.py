"""Invitations: an owner invites an email address with a role; the link works once.

The link carries the invitation's id and random key, signed with the site's secret, so
it cannot be guessed or altered; the row says whether it still works (not accepted, not
revoked, not expired). The role is the owner's choice at creation and nothing the
invitee sends can change it.
"""

from __future__ import annotations

import logging
import smtplib

from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from reviewer.models import Invitation, InvitationState, Membership, Review, Role, User
from reviewer.services.reviews import member_join

logger = logging.getLogger(__name__)

_SALT = "reviewer.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The signed part of the invitation's link. Signed without a timestamp (the row holds
    the expiry), so it is the same every time: the link mailed, the one printed by the
    demo and the one listed on the Members page are one link, whenever they were shown."""
    return signing.Signer(salt=_SALT).sign_object([invitation.pk, invitation.key])


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link names, or None for a link that was altered or never issued."""
    try:
        pk, key = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        try:
            # links made before they were stable carried a timestamp (signing.dumps)
            pk, key = signing.loads(token, salt=_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            return None
    invitation = (
        Invitation.objects.select_related("review", "created_by", "accepted_by")
        .filter(pk=pk)
        .first()
    )
    if invitation is None or not constant_time_compare(invitation.key, str(key)):
        return None
    return invitation


def why_unusable(invitation: Invitation) -> str:
    """What to tell the person holding a link that no longer works ("" if it works)."""
    state = invitation.state
    owner = invitation.created_by.display_name()
    if state == InvitationState.ACCEPTED:
        return (
            f"This invitation was already used on {invitation.accepted_at:%d %b %Y}. "
            "If that was you, log in; otherwise ask "
            f"{owner} for a new invitation."
        )
    if state == InvitationState.REVOKED:
        return f"{owner} withdrew this invitation. Ask them for a new one if you should join."
    if state == InvitationState.EXPIRED:
        return (
            f"This invitation expired on {invitation.expires_at:%d %b %Y}. "
            f"Ask {owner} for a new one."
        )
    if invitation.review.is_archived:
        return "This review is archived, so nobody can join it now. Ask its owner to restore it."
    return ""


@transaction.atomic
def invitation_create(*, review: Review, email: str, role: Role, created_by: User) -> Invitation:
    email = BaseUserManager.normalize_email(email.strip())
    if review.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError(f"Someone with the address {email} is already a member.")
    for pending in review.invitations.select_for_update().filter(
        email__iexact=email, accepted_at=None, revoked_at=None
    ):
        if pending.is_pending:
            raise ValidationError(
                f"{email} already has an invitation waiting (as "
                f"{pending.get_role_display()}). Copy its link below, or revoke it first."
            )
    return Invitation.objects.create(
        review=review,
        email=email,
        role=role,
        created_by=created_by,
        expires_at=timezone.now() + Invitation.default_expiry(),
    )


def invitation_send(*, invitation: Invitation, link: str) -> str:
    """Mail the link to the invitee; returns "" or what went wrong (the invitation stays,
    and the owner can copy the link from the Members page)."""
    context = {"invitation": invitation, "link": link}
    try:
        send_mail(
            subject=f"Invitation to the review “{invitation.review.title}”",
            message=render_to_string("reviewer/team/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("invitation %s could not be mailed: %s", invitation.pk, error)
        return f"The email to {invitation.email} could not be sent ({error})."
    return ""


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, user: User) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(
            f"Only a waiting invitation can be revoked; this one is "
            f"{invitation.state.label.lower()}."
        )
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = user
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """`user` joins the review with the invitation's role; the invitation is used up."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("review", "created_by")
        .get(pk=invitation.pk)
    )
    problem = why_unusable(invitation)
    if problem:
        raise ValidationError(problem)
    existing = invitation.review.memberships.filter(user=user).first()
    if existing is not None:
        raise ValidationError(
            f"You are already a member of this review (as {existing.get_role_display()}); "
            "the invitation is left unused."
        )
    membership = member_join(
        review=invitation.review,
        user=user,
        role=Role(invitation.role),
        added_by=invitation.created_by,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def email_has_account(email: str) -> bool:
    return User.objects.filter(email__iexact=email, is_active=True).exists()


@transaction.atomic
def invitation_accept_new_account(
    *, invitation: Invitation, name: str, username: str, password: str
) -> User:
    """Make the invitee's account (with the invited address) and join the review."""
    if email_has_account(invitation.email):
        raise ValidationError(
            f"An account with the address {invitation.email} exists already: log in to accept."
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"The username “{username}” is taken; choose another.")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username,
                email=invitation.email,
                password=password,
                first_name=name[: User._meta.get_field("first_name").max_length],
            )
    except IntegrityError:
        raise ValidationError(f"The username “{username}” is taken; choose another.") from None
    invitation_accept(invitation=invitation, user=user)
    return user


def suggested_username(email: str) -> str:
    """The part of the address before the @, if no one has it yet."""
    local = email.split("@", 1)[0]
    name = "".join(c for c in local if c.isalnum() or c in "@.+-_")[:150]
    if not name or User.objects.filter(username__iexact=name).exists():
        return ""
    return name


def invitations_listed(review: Review) -> list[Invitation]:
    """The review's invitations for the Members page: waiting ones first, then the rest."""
    invitations = list(review.invitations.select_related("created_by", "accepted_by", "revoked_by"))
    invitations.sort(key=lambda i: (not i.is_pending,))
    return invitations
