"""Claiming a job row: the one way a worker takes on an import, de-duplication, ranking
or analysis job, so a duplicated or retried task does no harm.

A worker moves the row from its waiting status to its working status with a conditional
UPDATE and keeps the claim's time as its token; every later write checks that token. A
claim gone stale (its worker stopped: `stale_claim_cutoff`) can be taken over, and the
stopped worker's writes then find the token changed and raise `ClaimLost`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviewer.models.sources import stale_claim_cutoff


class ClaimLost(Exception):
    """Another worker took the job over; this one must not write its result."""


def claim_job(
    model: type[models.Model],
    pk: int,
    *,
    waiting: str,
    working: str,
    stamp: str = "claimed_at",
    **fields: Any,
) -> datetime | None:
    """Move job `pk` from `waiting` (or a stale `working`) to `working`, stamping `stamp`
    with the claim's time (also setting `fields`). Returns that time, or None when
    another worker holds the job or it is finished."""
    now = timezone.now()
    stale = Q(status=working, **{f"{stamp}__lt": stale_claim_cutoff()})
    claimed = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=waiting) | stale)
        .update(status=working, **{stamp: now}, **fields)
    )
    return now if claimed else None
