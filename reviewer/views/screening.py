"""The screening pages: one record at a time, at title/abstract ("ta") or full text ("ft").

A reviewer opens `screen/<stage>/`, which sends them to the first record waiting for
them; each decision moves on to the next one. With JavaScript the decision form posts
through htmx and only the screening panel (`#screen`) is swapped, the address following
along (HX-Push-Url); without it the same form posts normally and is redirected. Either
way the last decision is offered for undoing (`?last=<record>`).

Blinding: another reviewer's decision is put in the context only when
`rules.may_see_other_decisions` allows it, so no template can leak it by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.forms.screening import DecisionForm, FullTextUploadForm, KeysForm, NotRetrievedForm
from reviewer.models import (
    STAGE_CHOICES,
    Choice,
    Decision,
    FullText,
    Membership,
    Record,
    Review,
    Stage,
    User,
)
from reviewer.ranking import selectors as ranking_selectors
from reviewer.ranking.selectors import RankingState
from reviewer.screening import queries
from reviewer.screening.keys import ACTIONS, keys_for
from reviewer.screening.queries import QUEUE_ORDERS, Order
from reviewer.screening.rules import (
    FT,
    TA,
    State,
    closed_by_senior,
    may_change_decision,
    may_see_other_decisions,
    may_see_review_wide_figures,
    not_screened_here,
    record_state,
)
from reviewer.services import screening as services
from reviewer.views.sources import HtmxHttpRequest

STAGES = (TA, FT)
MINE_FILTERS = {
    "none": "Not decided by me",
    Choice.INCLUDE.value: "My includes",
    Choice.EXCLUDE.value: "My excludes",
    Choice.MAYBE.value: "My maybes",
}


def _stage(stage: str) -> str:
    if stage not in STAGES:
        raise Http404("No such screening stage.")
    return stage


@dataclass(frozen=True)
class Filters:
    """The queue's filters and order, kept across navigation as query parameters.

    `ranking`, `sample_id` and `blinded` are not parameters: `_filters` fills them in
    from the reviewer's own ranking and stopping sample (title/abstract only), and from
    `rules.may_see_review_wide_figures` (`blinded`: this member may not see them)."""

    source: int | None = None
    mine: str = ""
    query: str = ""
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
            order=order if order in QUEUE_ORDERS else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.source or self.mine or self.query)

    def params(self) -> dict[str, str]:
        params = {
            "source": str(self.source or ""),
            "mine": self.mine,
            "q": self.query,
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

    def queue(self, review: Review, user: User, stage: str) -> QuerySet[Record]:
        return queries.queue(
            review,
            user,
            stage,
            source_id=self.source,
            mine=self.mine,
            query=self.query,
            order=self.order_used,
            ranking_id=self.ranking.ranking_id if self.ranking is not None else None,
            sample_id=self.sample_id,
        )


def _filters(request: HttpRequest, review: Review, membership: Membership, stage: str) -> Filters:
    """The request's filters, with the reviewer's ranking and stopping sample at
    title/abstract (two small queries)."""
    filters = Filters.from_request(request)
    if stage != TA:
        return filters
    user = membership.user
    sample = ranking_selectors.current_sample(review, user)
    return replace(
        filters,
        ranking=ranking_selectors.ranking_state(review, user),
        sample_id=sample.pk if sample is not None else None,
        blinded=not may_see_review_wide_figures(
            blinded=review.blinded, is_senior=membership.is_senior
        ),
    )


def _record_url(review: Review, stage: str, pk: int, filters: Filters, **extra: object) -> str:
    url = reverse("screen-record", kwargs={"slug": review.slug, "stage": stage, "pk": pk})
    return url + filters.querystring(**extra)


def _queue_url(review: Review, stage: str, filters: Filters, **extra: object) -> str:
    url = reverse("screen-queue", kwargs={"slug": review.slug, "stage": stage})
    return url + filters.querystring(**extra)


def _waiting(review: Review, user: User, stage: str, filters: Filters) -> QuerySet[Record]:
    """The filtered queue's records still waiting for `user`."""
    return queries.waiting(review, user, stage, filters.queue(review, user, stage))


def _following(
    review: Review, user: User, stage: str, filters: Filters, record: Record
) -> Record | None:
    """Where to go after deciding `record`: the next record waiting for me; when I am going
    over my own decisions (filtered by one), the next of those."""
    listed = filters.queue(review, user, stage).exclude(pk=record.pk)
    following = services.next_record(
        review=review, user=user, stage=stage, records=listed, ranking_id=filters.walk_ranking
    )
    if following is None and filters.mine in {Choice.INCLUDE, Choice.EXCLUDE, Choice.MAYBE}:
        following = filters.queue(review, user, stage).filter(pk__gt=record.pk).first()
    return following


def _last_decision(review: Review, user: User, stage: str, value: str) -> dict[str, Any] | None:
    """The decision just made (`?last=<record>`), offered for undoing while it may change
    (`rules.may_change_decision`: never because of what a colleague decided)."""
    if not value.isdigit():
        return None
    decision = (
        Decision.objects.filter(review=review, reviewer=user, stage=stage, record_id=int(value))
        .select_related("record", "reason")
        .first()
    )
    if decision is None:
        return None
    rows = queries.rows_of(decision.record)
    decided_later = (
        stage == TA
        and Decision.objects.filter(record=decision.record, reviewer=user, stage=FT).exists()
    )
    undoable = may_change_decision(
        state=record_state(rows).state,
        stage=stage,
        closed_by_senior=closed_by_senior(rows, stage),
        decided_later_stage=decided_later,
    )
    return {"decision": decision, "undoable": undoable}


def _common_context(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    filters: Filters,
    last: int | None,
) -> dict[str, Any]:
    user = current_user(request)
    last_value = str(last) if last is not None else request.GET.get("last", "")
    keys = keys_for(user.screening_keys)
    choices = STAGE_CHOICES[Stage(stage)]
    review_wide = may_see_review_wide_figures(
        blinded=review.blinded, is_senior=membership.is_senior
    )
    return {
        "review": review,
        "membership": membership,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "other_stage": FT if stage == TA else TA,
        "buttons": [(choice, keys[choice.value]) for choice in choices],
        "keys": keys,
        "filters": filters,
        "filter_params": filters.params(),
        "filter_qs": filters.querystring(),
        "mine_filters": MINE_FILTERS,
        "queue_orders": [
            {"value": value, "label": label, "allowed": filters.order_allowed(value)}
            for value, label in QUEUE_ORDERS.items()
        ],
        "order_used": filters.order_used,
        "ranking": filters.ranking,
        "sources": list(review.sources.order_by("name", "pk").values_list("pk", "name")),
        "progress": queries.progress(review, user, stage, review_wide=review_wide),
        "review_wide": review_wide,
        "last": _last_decision(review, user, stage, last_value),
    }


#: The note and reason of a decision just withdrawn without JavaScript, kept in the
#: session across the redirect to the record and shown there once.
_DRAFT_KEY = "screening-withdrawn"


def _withdrawn_draft(request: HttpRequest, record: Record, stage: str) -> dict[str, str] | None:
    kept = request.session.get(_DRAFT_KEY) if hasattr(request, "session") else None
    if not kept or kept.get("record") != record.pk or kept.get("stage") != stage:
        return None
    del request.session[_DRAFT_KEY]
    return {"note": kept.get("note", ""), "reason": kept.get("reason", "")}


def _record_response(
    request: HtmxHttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    record: Record,
    filters: Filters,
    *,
    last: int | None = None,
    draft: dict[str, str] | None = None,
) -> HttpResponse:
    """The screening page of `record`; for htmx only its panel, the address pushed along."""
    user = current_user(request)
    if draft is None:
        draft = _withdrawn_draft(request, record, stage)
    context = _common_context(request, review, membership, stage, filters, last)
    rows = queries.rows_of(record)
    state = record_state(rows).state

    def visible(at: str) -> bool:
        return may_see_other_decisions(
            blinded=review.blinded,
            is_senior=membership.is_senior,
            state=state,
            stage=at,
            closed_by_senior=closed_by_senior(rows, at),
        )

    decisions = list(record.decisions.select_related("reviewer", "reason"))
    mine = next((d for d in decisions if d.reviewer_id == user.pk and d.stage == stage), None)
    others = [d for d in decisions if d.stage == stage and d.reviewer_id != user.pk]
    earlier = [d for d in decisions if d.stage == TA] if stage == FT and visible(TA) else []
    adjudication = next(
        (
            a
            for a in record.adjudications.select_related("decided_by", "reason")
            if a.stage == stage
        ),
        None,
    )
    see_others = visible(stage)
    may_change = mine is not None and may_change_decision(
        state=state,
        stage=stage,
        closed_by_senior=closed_by_senior(rows, stage),
        decided_later_stage=stage == TA
        and any(d.reviewer_id == user.pk and d.stage == FT for d in decisions),
    )
    # Hidden from a reviewer of a blinded review: whether two colleagues' decisions agree
    # (the stage is over) or not (a conflict). She is told only that two have decided.
    decided_by_two = mine is None and len(others) >= 2
    public = state in (State.DUPLICATE, State.REMOVED)
    if may_change or (decided_by_two and not see_others and not public):
        not_here = ""
    else:
        not_here = not_screened_here(state, stage)
    # previous/next in the (filtered) queue, in import order; progress says how far along
    listed = filters.queue(review, user, stage)
    walked = None
    if filters.walk_ranking is not None:
        walked = queries.ranked_neighbours(listed, filters.walk_ranking, record.pk)
    previous_id, next_id = walked or queries.neighbours(listed, record.pk)
    full_text = None
    if stage == FT:
        full_text = FullText.objects.filter(record=record).select_related("updated_by").first()
    ranking = filters.ranking
    context.update(
        {
            # the reviewer's own ranking only: never a colleague's
            "relevance": ranking_selectors.record_relevance(
                ranking.current if ranking is not None else None, record.pk
            ),
            "page_title": f"{Stage(stage).label} screening: record {record.pk}",
            "record": record,
            "state": state,
            "see_others": see_others,
            # another reviewer's decision never reaches the template unless it may be seen
            "others": others if see_others else [],
            "earlier": earlier,
            "adjudication": adjudication if see_others else None,
            "mine": mine,
            "not_here": not_here,
            "can_decide": may_change or (mine is None and not not_here and not decided_by_two),
            "can_withdraw": may_change,
            "decided_by_two": decided_by_two,
            # shown to everyone: no reviewer's decision makes a record a duplicate,
            # removed or not retrieved
            "state_public": state in (State.DUPLICATE, State.REMOVED, State.FT_NOT_RETRIEVED),
            "may_mark_not_retrieved": state.stage == FT
            and state is not State.FT_NOT_RETRIEVED
            and not closed_by_senior(rows, FT),
            "previous_id": previous_id,
            "next_id": next_id,
            "full_text": full_text,
            "reasons": list(review.exclusion_reasons.filter(is_active=True)),
            "draft": draft or {},
            "upload_form": FullTextUploadForm(),
            "not_retrieved_form": NotRetrievedForm(),
        }
    )
    if request.htmx:
        response = render(request, "reviewer/screening/partials/record.html", context)
        response["HX-Push-Url"] = _record_url(review, stage, record.pk, filters, last=last)
        return response
    return render(request, "reviewer/screening/record.html", context)


def _empty_response(
    request: HtmxHttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    filters: Filters,
    *,
    last: int | None = None,
) -> HttpResponse:
    """ "Nothing waiting for you", with my progress and where to go from here."""
    user = current_user(request)
    context = _common_context(request, review, membership, stage, filters, last)
    context["page_title"] = f"{Stage(stage).label} screening: nothing waiting for you"
    context["first_id"] = filters.queue(review, user, stage).values_list("pk", flat=True).first()
    if request.htmx:
        response = render(request, "reviewer/screening/partials/empty.html", context)
        response["HX-Push-Url"] = _queue_url(review, stage, filters, last=last)
        return response
    return render(request, "reviewer/screening/empty.html", context)


def _go(
    request: HtmxHttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    record: Record | None,
    filters: Filters,
    *,
    last: int | None = None,
) -> HttpResponse:
    """Show `record` (None: the empty queue): swapped in for htmx, else by a redirect."""
    if request.htmx:
        if record is None:
            return _empty_response(request, review, membership, stage, filters, last=last)
        return _record_response(request, review, membership, stage, record, filters, last=last)
    if record is None:
        return redirect(_queue_url(review, stage, filters, last=last))
    return redirect(_record_url(review, stage, record.pk, filters, last=last))


# --- the queue and a record ---


@require_GET
def screen_queue(request: HtmxHttpRequest, slug: str, stage: str) -> HttpResponse:
    """The first record waiting for me, or a page saying there is none."""
    review, membership = review_for_request(request, slug)
    stage = _stage(stage)
    user = current_user(request)
    filters = _filters(request, review, membership, stage)
    first = services.next_record(
        review=review,
        user=user,
        stage=stage,
        records=filters.queue(review, user, stage),
        ranking_id=filters.walk_ranking,
    )
    if first is None and filters.mine in {Choice.INCLUDE, Choice.EXCLUDE, Choice.MAYBE}:
        first = filters.queue(review, user, stage).first()  # going over my own decisions
    if first is not None:
        return redirect(_record_url(review, stage, first.pk, filters, last=request.GET.get("last")))
    return _empty_response(request, review, membership, stage, filters)


@require_GET
def screen_record(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    stage = _stage(stage)
    record = get_object_or_404(review.records.select_related("source"), pk=pk)
    filters = _filters(request, review, membership, stage)
    return _record_response(request, review, membership, stage, record, filters)


@require_POST
def screen_decide(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    """Record my decision, then on to the next record waiting for me. A refusal shows the
    same record again with the message, the note typed kept."""
    review, membership = review_for_request(request, slug)
    stage = _stage(stage)
    record = get_object_or_404(review.records.select_related("source"), pk=pk)
    filters = _filters(request, review, membership, stage)
    form = DecisionForm(request.POST, review=review, stage=stage)
    draft = {"note": request.POST.get("note", ""), "reason": request.POST.get("reason", "")}
    if not form.is_valid():
        messages.error(request, form.first_error())
        return _record_response(request, review, membership, stage, record, filters, draft=draft)
    user = current_user(request)
    try:
        services.decide(
            record=record,
            user=user,
            stage=stage,
            choice=form.cleaned_data["choice"],
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"].strip(),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return _record_response(request, review, membership, stage, record, filters, draft=draft)
    following = _following(review, user, stage, filters, record)
    return _go(request, review, membership, stage, following, filters, last=record.pk)


@require_POST
def screen_undo(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    """Withdraw my decision on a record and show that record again, to decide anew."""
    review, membership = review_for_request(request, slug)
    stage = _stage(stage)
    record = get_object_or_404(review.records.select_related("source"), pk=pk)
    filters = _filters(request, review, membership, stage)
    try:
        withdrawn = services.withdraw(record=record, user=current_user(request), stage=stage)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return _go(request, review, membership, stage, record, filters)
    messages.success(request, f"Your decision on record {record.pk} is withdrawn.")
    # the note (and reason) typed with it come back in the form, to decide anew
    draft = {"note": withdrawn.note, "reason": str(withdrawn.reason_id or "")}
    if request.htmx:
        return _record_response(request, review, membership, stage, record, filters, draft=draft)
    request.session[_DRAFT_KEY] = {"record": record.pk, "stage": stage, **draft}
    return redirect(_record_url(review, stage, record.pk, filters))


# --- full texts ---


def _full_text_done(request: HttpRequest, review: Review, record: Record) -> HttpResponse:
    return redirect(_record_url(review, FT, record.pk, Filters.from_request(request)))


@require_GET
@xframe_options_sameorigin  # shown in an <iframe> on the screening page
def fulltext_pdf(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """The stored PDF, inline, to members of the record's review only."""
    review, _ = review_for_request(request, slug)
    full_text = get_object_or_404(
        FullText.objects.filter(review=review, record__review=review).exclude(pdf=""), record=pk
    )
    response = FileResponse(
        full_text.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=False,
        filename=full_text.original_name or f"record-{pk}.pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def fulltext_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    record = get_object_or_404(review.records, pk=pk)
    form = FullTextUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, str(next(iter(form.errors.values()))[0]))
        return _full_text_done(request, review, record)
    upload = form.cleaned_data["pdf"]
    try:
        services.full_text_attach(record=record, user=current_user(request), upload=upload)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"“{upload.name}” is attached as the full text.")
    return _full_text_done(request, review, record)


@require_POST
def fulltext_not_retrieved(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    record = get_object_or_404(review.records, pk=pk)
    form = NotRetrievedForm(request.POST)
    form.is_valid()  # a note is all it has, and the service says when it is missing
    try:
        services.full_text_not_retrieved(
            record=record, user=current_user(request), note=form.cleaned_data.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            "Marked “not retrieved”: the record leaves full-text screening. Any decisions "
            "already made on it are kept and count again if the full text is sought again.",
        )
    return _full_text_done(request, review, record)


@require_POST
def fulltext_not_retrieved_undo(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    record = get_object_or_404(review.records, pk=pk)
    try:
        services.full_text_not_retrieved(
            record=record, user=current_user(request), note="", not_retrieved=False
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "The full text is sought again: upload it when you have it.")
    return _full_text_done(request, review, record)


# --- one's own keys ---


@require_http_methods(["GET", "POST"])
def screening_keys(request: HttpRequest, slug: str) -> HttpResponse:
    """My keys for the screening actions (they are mine in every review)."""
    review, membership = review_for_request(request, slug)
    user = current_user(request)
    if request.method == "POST" and "reset" in request.POST:
        user.screening_keys = {}
        user.save(update_fields=["screening_keys"])
        messages.success(request, "Your keys are back to the defaults.")
        return redirect("screening-keys", slug=review.slug)
    form = KeysForm(request.POST or None, current=user.screening_keys)
    if request.method == "POST" and form.is_valid():
        user.screening_keys = form.chosen()
        user.save(update_fields=["screening_keys"])
        messages.success(request, "Your keys are saved.")
        return redirect("screening-keys", slug=review.slug)
    keys = keys_for(user.screening_keys)
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "rows": [
            {"field": form[action], "label": label, "default": default, "key": keys[action]}
            for action, (default, label) in ACTIONS.items()
        ],
    }
    return render(request, "reviewer/screening/keys.html", context)


urlpatterns: list[URLPattern] = [
    path("screen/<str:stage>/", screen_queue, name="screen-queue"),
    path("screen/<str:stage>/<int:pk>/", screen_record, name="screen-record"),
    path("screen/<str:stage>/<int:pk>/decide/", screen_decide, name="screen-decide"),
    path("screen/<str:stage>/<int:pk>/undo/", screen_undo, name="screen-undo"),
    path("fulltext/<int:pk>/pdf/", fulltext_pdf, name="fulltext-pdf"),
    path("fulltext/<int:pk>/upload/", fulltext_upload, name="fulltext-upload"),
    path("fulltext/<int:pk>/not-retrieved/", fulltext_not_retrieved, name="fulltext-not-retrieved"),
    path(
        "fulltext/<int:pk>/not-retrieved/undo/",
        fulltext_not_retrieved_undo,
        name="fulltext-not-retrieved-undo",
    ),
    path("keys/", screening_keys, name="screening-keys"),
]
