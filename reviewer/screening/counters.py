"""The screening page's counters (records, mine done, overall done), kept in the cache.

Counting them is a pass over the review's records and decisions, which grows with the
review; a reviewer deciding every two seconds would pay it on every decision. So each
count is read from the cache, counted afresh only when missing (first visit, expired,
Redis away), and moved by one on each decision or withdrawal instead of recounted.

Everything else that can move them (imports, de-duplication and its manual pair
decisions and splits, removals and restores, adjudications, releases, full texts not
retrieved, blinding changes, records deleted with their source) calls `changed` in its
transaction: it bumps the review's `counts_version`, which every key includes, so the
counts cached before it are never read again, whichever process cached them, and a
count made from data of before the commit is stored under the old version. No cache call
has to reach Redis for this to hold. Every count also expires after `TTL` seconds
anyway. The cache is tolerant (`reviewer.cache`): without Redis every read is a miss and
the page counts as before.
"""

from __future__ import annotations

import contextlib

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from reviewer.models import Review, User
from reviewer.screening import queries
from reviewer.screening.rules import FT, TA

TTL = 120


def _keys(review: Review, stage: str, user_id: int) -> dict[str, str]:
    base = f"screening:counts:{review.pk}:{review.counts_version}:{stage}"
    return {"total": f"{base}:total", "done": f"{base}:done", "mine": f"{base}:mine:{user_id}"}


def changed(review: Review) -> None:
    """The review's counts may have changed (not by a decision: `decided`): bump its
    `counts_version` in the caller's transaction, and on `review` itself, so that this
    request too counts afresh."""
    Review.objects.filter(pk=review.pk).update(counts_version=F("counts_version") + 1)
    review.counts_version = Review.objects.values_list("counts_version", flat=True).get(
        pk=review.pk
    )


def progress_keys(review: Review, user: User, stage: str, *, review_wide: bool = True) -> list[str]:
    """The cache keys `progress` reads: for a caller that reads them with its own keys, in
    one round trip (`queue.ScreeningQueue`)."""
    keys = _keys(review, stage, user.pk)
    return [keys[name] for name in ("total", "mine", *(["done"] if review_wide else []))]


def progress(
    review: Review,
    user: User,
    stage: str,
    *,
    review_wide: bool = True,
    cached: dict[str, object] | None = None,
) -> dict[str, int | None]:
    """`queries.progress`, from the cache where it has the figures (one round trip;
    none when the caller has read `progress_keys` already: `cached`)."""
    keys = _keys(review, stage, user.pk)
    wanted = ["total", "mine", *(["done"] if review_wide else [])]
    if cached is None:
        cached = cache.get_many([keys[name] for name in wanted])
    if all(keys[name] in cached for name in wanted):
        figures: dict[str, int | None] = {
            name: int(cached[keys[name]])  # type: ignore[call-overload]
            for name in wanted
        }
        figures.setdefault("done", None)
        return figures
    counted = queries.progress(review, user, stage, review_wide=review_wide)
    cache.set_many({keys[name]: counted[name] for name in wanted}, TTL)
    return counted


def _move(key: str, by: int) -> None:
    """Add `by` to a count in the cache; a count that is missing stays missing (the next
    read counts it)."""
    with contextlib.suppress(ValueError):  # not in the cache
        cache.incr(key, by)


def decided(
    *, review: Review, user_id: int, stage: str, first: bool, decisions_before: int
) -> None:
    """After a decision: mine moves on a first decision, overall done when it is the
    record's second."""
    if not first:
        return
    keys = _keys(review, stage, user_id)
    _move(keys["mine"], 1)
    if decisions_before == 1:
        _move(keys["done"], 1)
        if stage == TA:
            _forget_full_text(review)  # the record may have passed to full text


def withdrawn(*, review: Review, user_id: int, stage: str, decisions_before: int) -> None:
    keys = _keys(review, stage, user_id)
    _move(keys["mine"], -1)
    if decisions_before == 2:
        _move(keys["done"], -1)
        if stage == TA:
            _forget_full_text(review)


def _forget_full_text(review: Review) -> None:
    """A title/abstract decision may have moved a record to or from full text: forget the
    review-wide full-text counts (not a version bump: that would write the review's row
    on every such decision, a lock all its reviewers would queue for). Forgotten now and
    once the transaction commits (a count read in between would be the old one); each
    reviewer's own full-text count moves with their own decisions only."""
    keys = [key for name, key in _keys(review, FT, 0).items() if name != "mine"]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


# --- where a reviewer's queue goes on from (`queue.ScreeningQueue.first_waiting`) ---


def generation_key(review_id: int) -> str:
    return f"screening:queue-generation:{review_id}"


def moved_key(review_id: int, generation: int) -> str:
    return f"screening:queue-moved:{review_id}:{generation}"


#: How long the record behind each generation is remembered: as long as a cursor lives.
MOVED_SECONDS = 600


def queue_moved_back(review_id: int, record_id: int | None = None) -> None:
    """A record of the review may be waiting again behind someone's cursor (a decision
    withdrawn, a record restored): the review's queue generation moves on, and with it
    every cursor; `record_id`, when it is the one record, is noted with the generation,
    so that a cursor goes back to it instead of lapsing (`queue.ScreeningQueue`)."""

    def bump() -> None:
        try:
            generation = cache.incr(generation_key(review_id))
        except ValueError:
            generation = 1
            cache.set(generation_key(review_id), generation, None)
        if record_id is not None:
            cache.set(moved_key(review_id, generation), record_id, MOVED_SECONDS)

    bump()
    transaction.on_commit(bump)  # and once it is true for every reader
