"""The writes every dual copy shares (`extraction.dual`): starting one's own copy,
reopening a copy, and starting the consensus of two done copies. Each kind passes its
model, its words and what differs (how a new copy or the consensus is filled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.exceptions import ValidationError

from extraction.dual import rules
from extraction.dual.models import CopyStatus, DualCopy
from extraction.dual.selectors import consensus_of
from reviewer.models import Membership, Review, Role, Study, User

Copy = TypeVar("Copy", bound=DualCopy)


def member(review: Review, user: User) -> Membership:
    membership = review.memberships.filter(user=user).first()
    if membership is None:
        raise ValidationError(f"{user.display_name()} is not a member of this review.")
    return membership


def require_senior(review: Review, user: User, message: str) -> Membership:
    membership = member(review, user)
    if not membership.has_role(Role.SENIOR):
        raise ValidationError(message)
    return membership


def copy_start(
    model: type[Copy],
    *,
    study: Study,
    user: User,
    allowed: int,
    verb: str,
    create: Callable[[Sequence[Copy]], Copy],
) -> Copy:
    """The user's copy of the study, created by `create(others)` on first use, unless
    `allowed` people keep one already ("<study> is already <verb> by A and B"). Call
    inside a transaction: the study is locked so that two people starting at once cannot
    both become "the second"."""
    member(study.review, user)
    person = model.person_field
    mine = model._default_manager.filter(study=study, **{person: user}).first()
    if mine is not None:
        return mine
    Study.objects.select_for_update().get(pk=study.pk)
    others = list(
        model._default_manager.filter(study=study, **{f"{person}__isnull": False})
        .select_related(person)
        .order_by("pk")
    )
    if len(others) >= allowed:
        names = " and ".join(c.person.display_name() for c in others if c.person)
        raise ValidationError(f"{study.label} is already {verb} by {names}.")
    return create(others)


def done_pair(model: type[Copy], study: Study, *, people: str) -> tuple[Copy, Copy]:
    """The study's two copies marked done, in the order they were started (A, B)."""
    person = model.person_field
    done = list(
        model._default_manager.filter(
            study=study, **{f"{person}__isnull": False}, status=CopyStatus.DONE
        )
        .select_related(person, "review")
        .order_by("pk")[:2]
    )
    if len(done) < 2:
        raise ValidationError(f"Both {people} must mark {study.label} done before a consensus.")
    return done[0], done[1]


def consensus_begin(
    model: type[Copy],
    *,
    study: Study,
    user: User,
    people: str,
    senior_only: str,
    create: Callable[[Copy, Copy], Copy],
) -> Copy:
    """The study's consensus: the one started, or `create(a, b)` from its two done
    copies (seniors). Call inside a transaction: the study is locked so that it is
    started once."""
    require_senior(study.review, user, senior_only)
    Study.objects.select_for_update().get(pk=study.pk)
    existing = consensus_of(model, study)
    if existing is not None:
        return existing
    a, b = done_pair(model, study, people=people)
    return create(a, b)


def copy_reopen(model: type[Copy], *, copy: Copy, user: User, dual: bool, noun: str) -> Copy:
    """Back to "in progress" (`rules.may_reopen`, `rules.reopen_refusal`). Call inside a
    transaction."""
    copy = (
        model._default_manager.select_for_update().select_related("study", "review").get(pk=copy.pk)
    )
    membership = member(copy.review, user)
    copies = list(model._default_manager.filter(study=copy.study))
    if not rules.may_reopen(copy, membership, copies, dual=dual):
        raise ValidationError(f"This {noun} is not yours to reopen.")
    _, consensus = rules.split(copies)
    refusal = rules.reopen_refusal(copy, consensus)
    if refusal:
        raise ValidationError(refusal)
    copy.status = CopyStatus.IN_PROGRESS
    copy.updated_by = user
    copy.save(update_fields=["status", "updated_by", "updated_at"])
    return copy
