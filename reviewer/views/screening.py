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

from functools import cache
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.forms.screening import DecisionForm, FullTextUploadForm, KeysForm, NotRetrievedForm
from reviewer.models import (
    STAGE_CHOICES,
    Decision,
    FullText,
    Record,
    Review,
    Stage,
)
from reviewer.ranking import selectors as ranking_selectors
from reviewer.screening import queries
from reviewer.screening.keys import ACTIONS, keys_for, reason_keys
from reviewer.screening.queries import QUEUE_ORDERS
from reviewer.screening.queue import MINE_FILTERS, Filters, ScreeningQueue
from reviewer.screening.rules import (
    FT,
    PUBLIC_STATES,
    REVIEWERS_PER_RECORD,
    TA,
    State,
    closed_by_senior,
    label_at,
    may_change_decision,
    may_see_other_decisions,
    record_state,
    refusal_shown,
)
from reviewer.selectors import active_reasons
from reviewer.services import labels as label_services
from reviewer.services import screening as services
from reviewer.views.sources import HtmxHttpRequest

STAGES = (TA, FT)


def _stage(stage: str) -> str:
    if stage not in STAGES:
        raise Http404("No such screening stage.")
    return stage


def _queue(request: HttpRequest, slug: str, stage: str) -> ScreeningQueue:
    """The review, my membership and my queue at `stage`, for this request."""
    review, membership = review_for_request(request, slug)
    return ScreeningQueue.for_request(request, review, membership, _stage(stage))


def _record_url(review: Review, stage: str, pk: int, filters: Filters, **extra: object) -> str:
    url = reverse("screen-record", kwargs={"slug": review.slug, "stage": stage, "pk": pk})
    return url + filters.querystring(**extra)


def _queue_url(review: Review, stage: str, filters: Filters, **extra: object) -> str:
    url = reverse("screen-queue", kwargs={"slug": review.slug, "stage": stage})
    return url + filters.querystring(**extra)


def _screen_path(review: Review, stage: str) -> str:
    """The queue's path, reversed once per request: a record's pages are `<pk>/`,
    `<pk>/decide/`, `<pk>/undo/` and `<pk>/labels/` under it (`urlpatterns`; a test
    holds the templates to them), so the panel does not reverse each link anew."""
    return reverse("screen-queue", kwargs={"slug": review.slug, "stage": stage})


def _last_decision(queue: ScreeningQueue, value: str) -> dict[str, Any] | None:
    """The decision just made (`?last=<record>`), offered for undoing while it may change
    (`rules.may_change_decision`: never because of what a colleague decided)."""
    if not value.isdigit():
        return None
    review, user, stage = queue.review, queue.user, queue.stage
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
    request: HttpRequest, queue: ScreeningQueue, last: dict[str, Any] | None
) -> dict[str, Any]:
    review, membership, stage, filters = queue.review, queue.membership, queue.stage, queue.filters
    if last is None:
        last = _last_decision(queue, request.GET.get("last", ""))
    keys = keys_for(queue.user.screening_keys)
    choices = STAGE_CHOICES[Stage(stage)]
    return {
        "review": review,
        "membership": membership,
        "stage": stage,
        "screen_path": _screen_path(review, stage),
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
        # lazily: the answer to a decision does not show the filters
        "sources": lambda: list(review.sources.order_by("name", "pk").values_list("pk", "name")),
        # the label filter and the labels offered to add (outside the panel): read once
        "label_filter_choices": cache(lambda: label_services.label_choices(review, membership)),
        "progress": queue.progress,
        "review_wide": queue.review_wide,
        "last": last,
    }


def _reasons(
    review: Review, keys: dict[str, str], *, mine: Decision | None, draft: dict[str, str]
) -> list[dict[str, Any]]:
    """The review's active exclusion reasons (cached: `selectors.active_reasons`) as the
    panel shows them, worked out here once rather than per reason in the template: each
    with its key (`keys.reason_keys`),
    whether it is my decision's (`pressed`), the one an undo brought back (`withdrawn`),
    and so the one the full-text list selects (`selected`)."""
    rows = []
    for (pk, label), key in reason_keys(keys, active_reasons(review)):
        pressed = mine is not None and mine.reason_id == pk
        withdrawn = draft.get("reason") == str(pk)
        rows.append(
            {
                "pk": pk,
                "label": label,
                "key": key,
                "pressed": pressed,
                "withdrawn": withdrawn,
                "selected": withdrawn if draft.get("reason") else pressed,
            }
        )
    return rows


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
    queue: ScreeningQueue,
    record: Record,
    *,
    last: dict[str, Any] | None = None,
    draft: dict[str, str] | None = None,
    decided: bool = False,
) -> HttpResponse:
    """The screening page of `record`; for htmx only its panel, the address pushed along
    (`decided`: the answer to a decision, the panel and the counters that moved)."""
    review, membership, stage, filters = queue.review, queue.membership, queue.stage, queue.filters
    user = queue.user
    if draft is None:
        draft = _withdrawn_draft(request, record, stage)
    context = _common_context(request, queue, last)
    rows, rows_decided = queries.record_rows(record)
    state = record_state(rows).state

    def visible(at: str) -> bool:
        return may_see_other_decisions(
            blinded=review.blinded,
            is_senior=membership.is_senior,
            state=state,
            stage=at,
            closed_by_senior=closed_by_senior(rows, at),
        )

    see_others = visible(stage)
    mine_row = next(
        (d for d in rows_decided if d.reviewer_id == user.pk and d.stage == stage), None
    )
    other_rows = [d for d in rows_decided if d.stage == stage and d.reviewer_id != user.pk]
    see_earlier = stage == FT and any(d.stage == TA for d in rows_decided) and visible(TA)
    # the decisions themselves (who, which reason, the note) only when one is shown: mine,
    # or colleagues' that may be seen
    shown = mine_row is not None or (see_others and other_rows) or see_earlier
    decisions = list(record.decisions.select_related("reviewer", "reason")) if shown else []
    mine = next((d for d in decisions if d.reviewer_id == user.pk and d.stage == stage), None)
    others = [d for d in decisions if d.stage == stage and d.reviewer_id != user.pk]
    earlier = [d for d in decisions if d.stage == TA] if see_earlier else []
    adjudication = None
    if see_others and (rows.ta_adjudicated if stage == TA else rows.ft_adjudicated):
        adjudication = next(
            (
                a
                for a in record.adjudications.select_related("decided_by", "reason")
                if a.stage == stage
            ),
            None,
        )
    may_change = mine is not None and may_change_decision(
        state=state,
        stage=stage,
        closed_by_senior=closed_by_senior(rows, stage),
        decided_later_stage=stage == TA
        and any(d.reviewer_id == user.pk and d.stage == FT for d in rows_decided),
    )
    # Hidden from a reviewer of a blinded review: whether two colleagues' decisions agree
    # (the stage is over) or not (a conflict). She is told only that two have decided.
    decided_by_two = mine is None and len(other_rows) >= REVIEWERS_PER_RECORD
    not_here = refusal_shown(
        state=state,
        stage=stage,
        may_change=may_change,
        decided_by_others=len(other_rows) if mine is None else 0,
        see_others=see_others,
    )
    ranking = filters.ranking
    # the walked ranking is the reviewer's current one: its rank is read already
    walked = ranking is not None and filters.walk_ranking == ranking.ranking_id
    # the reviewer's own ranking only: never a colleague's; its score read already when
    # the queue walked it to this record
    relevance = ranking_selectors.record_relevance(
        ranking.current if ranking is not None else None,
        record.pk,
        known=queue.walked if walked else None,
    )
    rank: int | bool | None = (relevance.rank if relevance else None) if walked else False
    previous_id, next_id = queue.neighbours(record.pk, rank=rank)
    full_text = None
    if stage == FT:
        full_text = FullText.objects.filter(record=record).select_related("updated_by").first()
    context.update(
        {
            "relevance": relevance,
            "page_title": f"{Stage(stage).label} screening: record {record.pk}",
            "record": record,
            "state": state,
            "state_label": label_at(state, stage),
            "see_others": see_others,
            # another reviewer's decision never reaches the template unless it may be seen
            "others": others if see_others else [],
            "earlier": earlier,
            "adjudication": adjudication,
            "mine": mine,
            "not_here": not_here,
            "can_decide": may_change or (mine is None and not not_here and not decided_by_two),
            "can_withdraw": may_change,
            "decided_by_two": decided_by_two,
            # shown to everyone: no reviewer's decision makes a record a duplicate,
            # removed or not retrieved
            "state_public": state in PUBLIC_STATES,
            "may_mark_not_retrieved": state.stage == FT
            and state is not State.FT_NOT_RETRIEVED
            and not closed_by_senior(rows, FT),
            "previous_id": previous_id,
            "next_id": next_id,
            "full_text": full_text,
            "reasons": _reasons(review, context["keys"], mine=mine, draft=draft or {}),
            "draft": draft or {},
            # classes: the template makes a form only where it shows one (full text)
            "upload_form": FullTextUploadForm,
            "not_retrieved_form": NotRetrievedForm,
            **_labels_context(queue, record),
        }
    )
    if request.htmx:
        template = "decided.html" if decided else "record.html"
        response = render(request, f"reviewer/screening/partials/{template}", context)
        last_id = last["decision"].record_id if last else None
        response["HX-Push-Url"] = _record_url(review, stage, record.pk, filters, last=last_id)
        if not decided and request.headers.get("HX-Target") == "screen-panel":
            _retarget(response)  # a refused decision: the whole screen, with its message
        return response
    return render(request, "reviewer/screening/record.html", context)


def _retarget(response: HttpResponse) -> None:
    response["HX-Retarget"] = "#screen"
    response["HX-Reswap"] = "outerHTML settle:0ms"


def _empty_response(
    request: HtmxHttpRequest, queue: ScreeningQueue, *, last: dict[str, Any] | None = None
) -> HttpResponse:
    """ "Nothing waiting for you", with my progress and where to go from here."""
    review, stage, filters = queue.review, queue.stage, queue.filters
    context = _common_context(request, queue, last)
    context["page_title"] = f"{Stage(stage).label} screening: nothing waiting for you"
    context["first_id"] = queue.first_listed()
    if request.htmx:
        response = render(request, "reviewer/screening/partials/empty.html", context)
        last_id = last["decision"].record_id if last else None
        response["HX-Push-Url"] = _queue_url(review, stage, filters, last=last_id)
        if request.headers.get("HX-Target") == "screen-panel":
            _retarget(response)
        return response
    return render(request, "reviewer/screening/empty.html", context)


def _next_for_me(queue: ScreeningQueue, *, after: Record | None = None) -> Record | None:
    """The next record waiting for me, not on a colleague's screen (`services.hand_out`);
    `after` a record just decided: from where the queue left off, and when I am going
    over my own decisions (filtered by one), the next of those."""
    first = queue.first_waiting(resume=after is not None, but=after.pk if after else None)
    following = services.hand_out(
        review=queue.review, user=queue.user, stage=queue.stage, first=first
    )
    if following is None and queue.going_over_mine():
        pk = queue.first_listed(after=after.pk if after is not None else None)
        following = queue.review.records.select_related("source").get(pk=pk) if pk else None
    return following


# --- the queue and a record ---


@require_GET
def screen_queue(request: HtmxHttpRequest, slug: str, stage: str) -> HttpResponse:
    """The first record waiting for me, or a page saying there is none."""
    queue = _queue(request, slug, stage)
    first = _next_for_me(queue)
    if first is not None:
        last = request.GET.get("last")
        return redirect(_record_url(queue.review, queue.stage, first.pk, queue.filters, last=last))
    return _empty_response(request, queue)


@require_GET
def screen_record(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    queue = _queue(request, slug, stage)
    record = get_object_or_404(queue.review.records.select_related("source"), pk=pk)
    return _record_response(request, queue, record)


@require_POST
def screen_decide(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    """Record my decision, then on to the next record waiting for me: with htmx in this
    one request (the next record's panel, the counters that moved out of band), without
    it by a redirect. A refusal shows the same record again with the message, the note
    typed kept."""
    queue = _queue(request, slug, stage)
    review, stage = queue.review, queue.stage
    form = DecisionForm(request.POST, review=review, stage=stage)
    draft = {"note": request.POST.get("note", ""), "reason": request.POST.get("reason", "")}

    def refused(message: str) -> HttpResponse:
        record = get_object_or_404(review.records.select_related("source"), pk=pk)
        messages.error(request, message)
        return _record_response(request, queue, record, draft=draft)

    if not form.is_valid():
        return refused(form.first_error())
    try:
        # the record is read under its row's lock, in the decision's transaction
        decision = services.decide(
            record=pk,
            review=review,
            user=queue.user,
            stage=stage,
            choice=form.cleaned_data["choice"],
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"].strip(),
            membership=queue.membership,
            ranking=queue.filters.ranking.newest if queue.filters.ranking is not None else False,
        )
    except Record.DoesNotExist:
        raise Http404("No such record.") from None
    except ValidationError as error:
        return refused(error.messages[0])
    record = decision.record
    following = _next_for_me(queue, after=record)
    if not request.htmx:
        if following is None:
            return redirect(_queue_url(review, stage, queue.filters, last=record.pk))
        return redirect(_record_url(review, stage, following.pk, queue.filters, last=record.pk))
    # a decision just made may change (`rules.may_change_decision`): only a senior's
    # adjudication or my own full-text decision closes it, and neither came in between
    last = {"decision": decision, "undoable": True}
    if following is None:
        return _empty_response(request, queue, last=last)
    return _record_response(request, queue, following, last=last, decided=True)


@require_POST
def screen_undo(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    """Withdraw my decision on a record and show that record again, to decide anew."""
    queue = _queue(request, slug, stage)
    review, stage = queue.review, queue.stage
    record = get_object_or_404(review.records.select_related("source"), pk=pk)
    try:
        withdrawn = services.withdraw(record=record, user=queue.user, stage=stage)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        if request.htmx:
            return _record_response(request, queue, record)
        return redirect(_record_url(review, stage, record.pk, queue.filters))
    messages.success(request, f"Your decision on record {record.pk} is withdrawn.")
    # the note (and reason) typed with it come back in the form, to decide anew
    draft = {"note": withdrawn.note, "reason": str(withdrawn.reason_id or "")}
    if request.htmx:
        return _record_response(request, queue, record, draft=draft)
    request.session[_DRAFT_KEY] = {"record": record.pk, "stage": stage, **draft}
    return redirect(_record_url(review, stage, record.pk, queue.filters))


# --- labels ---


def _labels_context(queue: ScreeningQueue, record: Record) -> dict[str, Any]:
    """The labels on `record` this member may see, in one query: her own only while
    blinded (`rules.may_see_others_labels`), then without a join, since no one else's
    name is shown. The labels to choose from (`label_filter_choices`) are not the
    record's: the page has them once, outside the panel a decision's answer swaps."""
    review, membership = queue.review, queue.membership
    return {
        "record_labels": label_services.record_labels(review, membership, record.pk),
        "screen_path": _screen_path(review, queue.stage),
    }


@require_POST
def screen_label(request: HtmxHttpRequest, slug: str, stage: str, pk: int) -> HttpResponse:
    """Add a label of mine to the record (`name`), or take one off (`remove`)."""
    queue = _queue(request, slug, stage)
    record = get_object_or_404(queue.review.records, pk=pk)
    try:
        if "remove" in request.POST:
            label_services.label_remove(
                record=record, user=queue.user, name=request.POST.get("remove", "")
            )
        else:
            label_services.label_add(
                record=record, user=queue.user, name=request.POST.get("name", "")
            )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    if request.htmx:
        context = {
            "review": queue.review,
            "stage": queue.stage,
            "record": record,
            "filter_qs": queue.filters.querystring(),
            "keys": keys_for(queue.user.screening_keys),
            "user": queue.user,
            "filters": queue.filters,
            "label_filter_choices": label_services.label_choices(queue.review, queue.membership),
            "oob": True,  # the queue's label filter, which offers the new label
            **_labels_context(queue, record),
        }
        return render(request, "reviewer/screening/partials/labels.html", context)
    return redirect(_record_url(queue.review, queue.stage, record.pk, queue.filters))


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
    path("screen/<str:stage>/<int:pk>/labels/", screen_label, name="screen-label"),
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
