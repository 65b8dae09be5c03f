"""Accounts without the admin: the site's first account, and reset links owners hand out."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from reviewer.models import FirstAccount, Membership, Role, User


def first_account_open() -> bool:
    """True on a fresh install: nobody has an account yet."""
    return not User.objects.exists()


def first_account_create(*, name: str, username: str, email: str, password: str) -> User:
    """The first account of a fresh install, with every right (it can also use the admin).

    Refused once any account exists. Two requests at the same moment cannot both succeed:
    each writes the one `FirstAccount` row, and the unique constraint fails the second."""
    refused = ValidationError("This site already has accounts. Log in, or ask its owner for one.")
    try:
        with transaction.atomic():
            if User.objects.exists():
                raise refused
            user = User.objects.create_superuser(
                username=username,
                email=email,
                password=password,
                first_name=name[: User._meta.get_field("first_name").max_length],
            )
            FirstAccount.objects.create(user=user)
    except IntegrityError:
        raise refused from None
    return user


def reset_link_refusal(*, owner: User, member: User) -> str:
    """Why `owner` may not make a reset link for `member` ("" if they may).

    A reset link lets whoever holds it into the account, so an owner may make one only for
    someone whose every review they own: never for an administrator, nor for someone who
    also works on reviews the owner has no say in."""
    if member.pk == owner.pk:
        return "Change your own password from the link at the top of the page."
    if member.is_staff or member.is_superuser:
        return (
            f"{member.display_name()} administers this site: they reset their own password "
            "from the login page."
        )
    owned = Membership.objects.filter(user=owner, role=Role.OWNER).values("review_id")
    if Membership.objects.filter(user=member).exclude(review_id__in=owned).exists():
        return (
            f"{member.display_name()} also works on reviews you do not own, so only they can "
            "reset their password (from the login page, by email)."
        )
    return ""


def reset_link_path(*, owner: User, member: User) -> str:
    """A one-time link that lets `member` choose a new password; it stops working once
    used, once they log in, or after PASSWORD_RESET_TIMEOUT (Django's reset tokens)."""
    problem = reset_link_refusal(owner=owner, member=member)
    if problem:
        raise ValidationError(problem)
    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(member.pk)),
            "token": default_token_generator.make_token(member),
        },
    )
