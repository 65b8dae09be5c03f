"""Who may see, edit and reopen a dual copy, and a study's progress, as pure rules over
the study's copies (`extraction.dual`). Extraction and appraisal both read them; with
single extraction a study has one copy per person and no consensus step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.db import models

from extraction.dual.models import DualCopy
from reviewer.models import Membership, Role

Copy = TypeVar("Copy", bound=DualCopy)


class Progress(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done, awaiting the senior"
    NEEDS_CONSENSUS = "needs_consensus", "Needs consensus"
    FINAL = "final", "Final"


def copies_needed(dual: bool) -> int:
    """How many people keep a copy of each study."""
    return 2 if dual else 1


def split(copies: Iterable[Copy]) -> tuple[list[Copy], Copy | None]:
    """The people's own copies (in the given order) and the consensus, if started."""
    copies = list(copies)
    own = [c for c in copies if not c.is_consensus]
    return own, next((c for c in copies if c.is_consensus), None)


def may_edit(copy: DualCopy, membership: Membership) -> bool:
    """A person edits her own copy; a senior edits the consensus."""
    if copy.is_consensus:
        return membership.has_role(Role.SENIOR)
    return copy.person_id == membership.user_id


def may_view(
    copy: DualCopy, membership: Membership, copies: Sequence[DualCopy], *, dual: bool = True
) -> bool:
    """Your own copy and the consensus; and, for a senior who keeps no copy of the study,
    any copy once the study has all its copies (so that looking cannot be followed by
    making a copy). The two people never see each other's copy."""
    if copy.is_consensus or copy.person_id == membership.user_id:
        return True
    people = {c.person_id for c in copies if not c.is_consensus}
    full = len(people) >= copies_needed(dual)
    return membership.is_senior and membership.user_id not in people and full


def may_reopen(
    copy: DualCopy, membership: Membership, copies: Sequence[DualCopy], *, dual: bool = True
) -> bool:
    """Whoever may see the copy and edit it, or a senior who may see it. (Whether the
    state allows it, see `reopen_refusal`.)"""
    if not may_view(copy, membership, copies, dual=dual):
        return False
    return may_edit(copy, membership) or membership.has_role(Role.SENIOR)


def reopen_refusal(copy: DualCopy, consensus: DualCopy | None) -> str:
    """Why the copy cannot go back to "in progress" ("" when it can): a person's copy
    stays as it is while the consensus is final; a senior reopens the consensus first."""
    if not copy.is_consensus and consensus is not None and consensus.done:
        return "The consensus of this study is final. A senior reopens it first."
    return ""


def final_copy(dual: bool, own: Sequence[Copy], consensus: Copy | None) -> Copy | None:
    """The copy whose data are final: the consensus marked done (dual), or the single
    person's copy marked done (single)."""
    if consensus is not None:
        return consensus if consensus.done else None
    if not dual:
        return next((c for c in own if c.done), None)
    return None


def progress_of(
    *,
    dual: bool,
    own: Sequence[Copy],
    consensus: Copy | None,
    disagreements: Callable[[Copy, Copy], int],
) -> Progress:
    """A study's progress from its copies; `disagreements` counts those of two done copies."""
    if final_copy(dual, own, consensus) is not None:
        return Progress.FINAL
    if not own and consensus is None:
        return Progress.NOT_STARTED
    if not dual:
        return Progress.IN_PROGRESS
    done = [c for c in own if c.done]
    if len(done) < 2:
        return Progress.IN_PROGRESS
    if disagreements(done[0], done[1]):
        return Progress.NEEDS_CONSENSUS
    return Progress.DONE


def progress_masked(status: Progress, own: Sequence[DualCopy]) -> Progress:
    """A study's progress as one of its people sees it while she may not see review-wide
    figures: "final" once the consensus is; otherwise only whether she started her own
    copy, never what a colleague's copy says or how far it is."""
    if status is Progress.FINAL:
        return status
    return Progress.IN_PROGRESS if own else Progress.NOT_STARTED
