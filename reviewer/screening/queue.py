"""One reviewer's screening queue for one request: its stage, filters and order, built once.

The screening views ask the queue for its records, the first records waiting, a record's
neighbours and the counters; the queue knows whether it walks the reviewer's ranking (in
relevance order) or the records in import order, so no view has to remember to choose.

After a decision the next record is looked for from where the last look found the first
waiting record (a cursor in the cache), probed record by record, so deciding costs the
same at the start of a review and at its end. The cursor is a hint: it lapses after
`CURSOR_SECONDS`, when a record of the review may be waiting again behind it (a record
restored, a full text sought again: `counters.queue_moved_back`; de-duplication, an import
and whatever else moves the counters: `counters.changed`), and when nothing waits after
it; the queue is then read from its start as before. A decision withdrawn names its
record: the cursor goes back to it (its rank, in a ranking walk) instead of lapsing, so
one reviewer's undo does not cost every colleague a read of the whole queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest

from reviewer.models import Choice, Membership, Record, Review, User
from reviewer.ranking import selectors as ranking_selectors
from reviewer.ranking.selectors import RankingState
from reviewer.screening import counters, queries
from reviewer.screening.queries import QUEUE_ORDERS, Order
from reviewer.screening.rules import TA, may_see_review_wide_figures
from reviewer.services.labels import visible_labels

MINE_FILTERS = {
    "none": "Not decided by me",
    Choice.INCLUDE.value: "My includes",
    Choice.EXCLUDE.value: "My excludes",
    Choice.MAYBE.value: "My maybes",
}
#: How many of the first waiting records are looked at (and shared out among reviewers).
FIRST_WAITING = 12
CURSOR_SECONDS = 600
#: How many withdrawals since a cursor was kept it may go back over (else it lapses).
MOVED_AT_MOST = 20


@dataclass(frozen=True)
class Filters:
    """The queue's filters and order, kept across navigation as query parameters.

    `ranking`, `sample_id` and `blinded` are not parameters: `ScreeningQueue.for_request`
    fills them in from the reviewer's own ranking and stopping sample (title/abstract
    only), and from `rules.may_see_review_wide_figures` (`blinded`: this member may not
    see them)."""

    source: int | None = None
    mine: str = ""
    query: str = ""
    label: str = ""
    order: str = ""  # as asked for; "" is the default (see `order_used`)
    ranking: RankingState | None = field(default=None, compare=False)
    sample_id: int | None = None
    blinded: bool = True

    @classmethod
    def from_request(cls, request: HttpRequest) -> Filters:
        source = request.GET.get("source", "")
        mine = request.GET.get("mine", "")
        order = request.GET.get("order", "")
        return cls(
            source=int(source) if source.isdigit() else None,
            mine=mine if mine in MINE_FILTERS else "",
            query=" ".join(request.GET.get("q", "").split())[:200],
            label=" ".join(request.GET.get("label", "").split())[:60],
            order=order if order in QUEUE_ORDERS else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.source or self.mine or self.query or self.label)

    def params(self) -> dict[str, str]:
        params = {
            "source": str(self.source or ""),
            "mine": self.mine,
            "q": self.query,
            "label": self.label,
            "order": self.order,
        }
        return {key: value for key, value in params.items() if value}

    def querystring(self, **extra: object) -> str:
        """ "?source=…&q=…" (empty without filters), plus `extra` parameters that are set."""
        params = {**self.params(), **{k: str(v) for k, v in extra.items() if v}}
        return f"?{urlencode(params)}" if params else ""

    def order_allowed(self, order: str) -> bool:
        """Whether this reviewer may order the queue so. "Least screened by others" would
        show, under blinding, which records a colleague has decided: for those who may see
        review-wide figures only. "Most relevant first" needs a trained ranking of the
        reviewer's own."""
        if self.ranking is None:  # full text: import order only
            return order == Order.IMPORT
        if order == Order.OTHERS:
            return not self.blinded
        if order == Order.RELEVANCE:
            return self.ranking.trained
        return True

    @property
    def order_used(self) -> str:
        if self.order and self.order_allowed(self.order):
            return self.order
        if self.ranking is not None and self.ranking.trained:
            return Order.RELEVANCE
        return Order.IMPORT

    @property
    def walk_ranking(self) -> int | None:
        """The ranking to walk for the queue's first and neighbouring records: in relevance
        order without a stopping sample (whose records come first), else None."""
        if self.order_used != Order.RELEVANCE or self.sample_id is not None:
            return None
        return self.ranking.ranking_id if self.ranking is not None else None


@dataclass
class ScreeningQueue:
    """A reviewer's queue at a stage with its filters, for the length of one request."""

    review: Review
    membership: Membership
    stage: str
    filters: Filters
    #: the review's queue generation as this request read it (`_cursor`)
    _generation: int | None = field(default=None, init=False, repr=False)
    #: the counters in the cache as `_cursor` read them (None: not read)
    _counts: dict[str, object] | None = field(default=None, init=False, repr=False)
    #: (rank, score) in the walked ranking of the records `first_waiting` found there
    walked: dict[int, tuple[int, float]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def for_request(
        cls, request: HttpRequest, review: Review, membership: Membership, stage: str
    ) -> ScreeningQueue:
        """The request's filters, with the reviewer's ranking and stopping sample at
        title/abstract (one small query)."""
        filters = Filters.from_request(request)
        if stage == TA:
            ranking, sample_id = ranking_selectors.ranking_state_and_sample(review, membership.user)
            filters = replace(
                filters,
                ranking=ranking,
                sample_id=sample_id,
                blinded=not may_see_review_wide_figures(
                    blinded=review.blinded, is_senior=membership.is_senior
                ),
            )
        return cls(review=review, membership=membership, stage=stage, filters=filters)

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def review_wide(self) -> bool:
        return may_see_review_wide_figures(
            blinded=self.review.blinded, is_senior=self.membership.is_senior
        )

    @cached_property
    def members(self) -> QuerySet[Record]:
        """The queue's records, without its annotations and order (`queries.members`): for
        asking which records are in it."""
        filters = self.filters
        records = queries.members(
            self.review,
            self.user,
            self.stage,
            source_id=filters.source,
            mine=filters.mine,
            query=filters.query,
        )
        if filters.label:  # the records with this label, of those whose labels I may see
            labelled = visible_labels(self.review, self.membership).filter(name=filters.label)
            records = records.filter(pk__in=labelled.values("record"))
        return records

    @cached_property
    def records(self) -> QuerySet[Record]:
        """The queue's records in its order, `waiting` annotated (`queries.queue`)."""
        filters = self.filters
        return queries.queue(
            self.review,
            self.user,
            self.stage,
            order=filters.order_used,
            ranking_id=filters.ranking.ranking_id if filters.ranking is not None else None,
            sample_id=filters.sample_id,
            records=self.members,
        )

    @property
    def _in_import_order(self) -> bool:
        return self.filters.order_used == Order.IMPORT and self.filters.sample_id is None

    @property
    def _whole(self) -> bool:
        """In import order without filters: the queries compiled once per process."""
        return self._in_import_order and not self.filters.active

    # --- the first records waiting ---

    def _cursor_key(self) -> str:
        filters = self.filters
        ranking = filters.ranking.ranking_id if filters.ranking is not None else None
        what = f"{sorted(filters.params().items())}|{filters.order_used}|{ranking}"
        digest = hashlib.sha256(what.encode()).hexdigest()[:16]
        return f"screening:cursor:{self.review.pk}:{self.user.pk}:{self.stage}:{digest}"

    def _cursor(self) -> int | None:
        """Where the last look found its first record, if still good; read with the
        counters (`progress`) in one round trip."""
        key, generation = self._cursor_key(), counters.generation_key(self.review.pk)
        counts = counters.progress_keys(
            self.review, self.user, self.stage, review_wide=self.review_wide
        )
        found = cache.get_many([key, generation, *counts])
        self._counts = {name: found[name] for name in counts if name in found}
        current = self._generation = int(found.get(generation, 0))
        kept = found.get(key)
        if not kept or len(kept) != 3 or kept[1] != self.review.counts_version:
            return None
        kept_generation, position = int(kept[0]), int(kept[2])
        if kept_generation == current:
            return position
        return self._moved_back(kept_generation, current, position)

    def _moved_back(self, since: int, current: int, position: int) -> int | None:
        """The cursor `position` kept at generation `since`, gone back to the records
        withdrawn since (None: not all of them are known, the cursor lapses)."""
        if not 0 <= since < current or current - since > MOVED_AT_MOST:
            return None
        keys = [counters.moved_key(self.review.pk, g) for g in range(since + 1, current + 1)]
        moved = cache.get_many(keys)
        if len(moved) != len(keys):
            return None
        records = {int(pk) for pk in moved.values()}
        ranking = self.filters.walk_ranking
        if ranking is None:
            return min(position, *records)
        ranks = queries.ranks_of(ranking, records)
        return min(position, *ranks) if ranks else position

    def _keep_cursor(self, position: int) -> None:
        generation = self._generation
        if generation is None:  # not read by this request yet
            generation = cache.get(counters.generation_key(self.review.pk), 0)
        kept = (generation, self.review.counts_version, position)
        cache.set(self._cursor_key(), kept, CURSOR_SECONDS)

    def first_waiting(self, *, resume: bool = False, but: int | None = None) -> list[int]:
        """The ids of the first records still waiting for me, in the queue's order (at most
        `FIRST_WAITING`), leaving out record `but`. `resume`: go on from where the last
        look found its first (after a decision), instead of from the start."""
        ranking = self.filters.walk_ranking
        simple = self._in_import_order
        if ranking is not None or simple:
            start = self._cursor() if resume else None

            def members() -> QuerySet[Record]:  # built only when asked for: a cost of its own
                return self.members if but is None else self.members.exclude(pk=but)

            if ranking is not None:
                after = start - 1 if start else 0
                if self.filters.active:
                    walked = queries.ranked_waiting(
                        members(), self.user, self.stage, ranking, after=after, count=FIRST_WAITING
                    )
                else:
                    walked = queries.ranked_waiting_whole(
                        self.review,
                        self.user,
                        self.stage,
                        ranking,
                        after=after,
                        count=FIRST_WAITING,
                        but=but,
                    )
                if walked:
                    self._keep_cursor(walked[0][0])
                    self.walked = {pk: (rank, score) for rank, pk, score in walked}
                    return [pk for _, pk, _ in walked]
            elif start is not None:
                if self._whole:
                    found = queries.waiting_after(
                        self.review,
                        self.user,
                        self.stage,
                        start=start,
                        count=FIRST_WAITING,
                        but=but,
                    )
                else:
                    found = queries.waiting_from(
                        members(), self.user, self.stage, start=start, count=FIRST_WAITING
                    )
                if found:
                    self._keep_cursor(found[0])
                    return found
        # from the start, the whole queue at once (records the ranking has not scored too)
        records = self.records if but is None else self.records.exclude(pk=but)
        still = queries.waiting(self.review, self.user, self.stage, records)
        found = list(still.values_list("pk", flat=True)[:FIRST_WAITING])
        if found and simple:
            self._keep_cursor(found[0])
        return found

    def first_listed(self, *, after: int | None = None) -> int | None:
        """The first record of the queue (after record `after`, in import order), waiting
        or not: for going over one's own decisions."""
        records = self.records if after is None else self.records.filter(pk__gt=after)
        pk: int | None = records.values_list("pk", flat=True).first()
        return pk

    def going_over_mine(self) -> bool:
        return self.filters.mine in {Choice.INCLUDE, Choice.EXCLUDE, Choice.MAYBE}

    # --- one record's place ---

    def neighbours(
        self, pk: int, *, rank: int | bool | None = False
    ) -> tuple[int | None, int | None]:
        """The records before and after record `pk` in the queue (`rank`: its rank in the
        walked ranking, when read already; None: not scored)."""
        walked = None
        ranking = self.filters.walk_ranking
        if ranking is not None:
            around = None
            if not self.filters.active:  # the first batches by SQL compiled once
                around = partial(queries.ranked_around_whole, self.review, self.stage, ranking)
            walked = queries.ranked_neighbours(
                lambda: self.members, ranking, pk, rank=rank, around=around
            )
        if walked:
            return walked
        if self._whole:
            return queries.neighbours_in_import_order(self.review, self.stage, pk)
        return queries.neighbours(self.records, pk)

    # --- the counters ---

    @cached_property
    def progress(self) -> dict[str, int | None]:
        return counters.progress(
            self.review, self.user, self.stage, review_wide=self.review_wide, cached=self._counts
        )
