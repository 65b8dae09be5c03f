"""The duplicates pages: counts and runs, the queue of possible pairs, groups, the log."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reviewer import selectors
from reviewer.access import current_user, review_for_request
from reviewer.models import DedupEvent, DedupJob, DuplicatePair, Record, Review, Role
from reviewer.services import duplicates as services
from reviewer.services.jobs import JobGoing
from reviewer.views.sources import HtmxHttpRequest

#: The fields shown side by side, in reading order.
COMPARED_FIELDS = (
    ("title", "Title"),
    ("authors", "Authors"),
    ("year", "Year"),
    ("journal", "Journal"),
    ("volume", "Volume"),
    ("issue", "Issue"),
    ("pages", "Pages"),
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("publication_type", "Type"),
    ("abstract", "Abstract"),
)
#: A record's fields as the record page names them, for every field a kept record can take.
FIELD_LABELS = dict(COMPARED_FIELDS) | {
    "keywords": "Keywords",
    "language": "Language",
    "url": "URL",
}


def _latest_job(review: Review) -> DedupJob | None:
    return review.dedup_jobs.select_related("import_job", "created_by").first()


def _job_context(job: DedupJob | None) -> dict[str, Any]:
    return {"job": job}


@require_GET
def dedup_overview(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    groups = (
        review.records.exclude(duplicates=None)
        .select_related("source")
        .prefetch_related("duplicates__source")
        .order_by("pk")
    )
    page = Paginator(groups, 25).get_page(request.GET.get("page"))
    context = {
        "review": review,
        "membership": membership,
        "summary": selectors.duplicate_summary(review),
        "waiting": selectors.pending_duplicate_pairs(review).count(),
        "page": page,
        **_job_context(_latest_job(review)),
    }
    return render(request, "reviewer/dedup_overview.html", context)


@require_POST
def dedup_run(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    if not review.records.exists():
        messages.error(request, "There are no records yet: import a search first.")
        return redirect("dedup-overview", slug=review.slug)
    try:
        services.dedup_job_start(review=review, user=current_user(request))
    except JobGoing as going:  # one whole-review run at a time
        assert isinstance(going.job, DedupJob)
        if going.job.is_stuck:
            services.dedup_job_restart(job=going.job)  # its message was lost: send it again
            messages.info(request, "The waiting de-duplication run was sent to the workers again.")
        else:
            messages.info(request, "A de-duplication run is already going; its progress is below.")
        return redirect("dedup-overview", slug=review.slug)
    messages.success(request, "De-duplication started. Certain duplicates are linked as found.")
    return redirect("dedup-overview", slug=review.slug)


@require_GET
def dedup_job(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A run's status; an htmx poll gets only the status box."""
    review, membership = review_for_request(request, slug)
    job = get_object_or_404(review.dedup_jobs, pk=pk)
    context = {"review": review, "membership": membership, **_job_context(job)}
    if request.htmx:
        context["waiting"] = selectors.pending_duplicate_pairs(review).count()
        return render(request, "reviewer/partials/dedup_status.html", context)
    return redirect("dedup-overview", slug=review.slug)


@require_POST
def dedup_restart(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    job = get_object_or_404(review.dedup_jobs, pk=pk)
    try:
        services.dedup_job_restart(job=job)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("dedup-overview", slug=review.slug)


@require_POST
def dedup_cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    job = get_object_or_404(review.dedup_jobs, pk=pk)
    try:
        services.dedup_job_cancel(job=job, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "De-duplication run cancelled; nothing was changed.")
    return redirect("dedup-overview", slug=review.slug)


# --- the queue ---


def _queue_ids(review: Review) -> list[int]:
    return list(selectors.pending_duplicate_pairs(review).values_list("pk", flat=True))


@require_GET
def dedup_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The first pair waiting for a decision, or a page saying there is none."""
    review, membership = review_for_request(request, slug)
    first = selectors.pending_duplicate_pairs(review).first()
    if first is not None:
        return redirect(first)
    last = _last_decided(review, request.GET.get("last", ""))
    context = {
        "review": review,
        "membership": membership,
        "last": last,
        "ever": review.duplicate_pairs.exists(),  # "every pair was decided" needs one
    }
    return render(request, "reviewer/dedup_queue_empty.html", context)


def _last_decided(review: Review, value: str) -> DuplicatePair | None:
    if not value.isdigit():
        return None
    return review.duplicate_pairs.filter(pk=int(value)).select_related("decided_by").first()


@dataclass(frozen=True)
class ComparedField:
    label: str
    first: list[tuple[str, bool]]  # text segments, True where it differs from the other side
    second: list[tuple[str, bool]]
    same: bool
    outcome: str  # the engine's word on the field, if it compared it


def _text(record: Record, name: str) -> str:
    value = getattr(record, name)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


_WORDS = re.compile(r"\S+|\s+")


def _diff(a: str, b: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Word-level differences, case- and punctuation-blind, so only real changes are marked."""
    left, right = _WORDS.findall(a), _WORDS.findall(b)

    def key(token: str) -> str:
        return re.sub(r"[^\w]", "", token.casefold()) if token.strip() else " "

    matcher = difflib.SequenceMatcher(
        None, [key(t) for t in left], [key(t) for t in right], autojunk=False
    )
    out_a: list[tuple[str, bool]] = []
    out_b: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            out_a.append(("".join(left[i1:i2]), changed and bool("".join(left[i1:i2]).strip())))
        if j2 > j1:
            out_b.append(("".join(right[j1:j2]), changed and bool("".join(right[j1:j2]).strip())))
    return out_a, out_b


def compare_fields(pair: DuplicatePair) -> list[ComparedField]:
    outcomes = {e.get("field"): e.get("outcome", "") for e in pair.evidence or []}
    rows = []
    for name, label in COMPARED_FIELDS:
        a, b = _text(pair.first, name), _text(pair.second, name)
        if not a and not b:
            continue
        if a and b:
            left, right = _diff(a, b)
        else:  # present on one side only: the dash on the other side says it all
            left, right = [(a, False)] if a else [], [(b, False)] if b else []
        rows.append(
            ComparedField(
                label=label,
                first=left,
                second=right,
                same=bool(a and b) and not any(changed for _, changed in left + right),
                outcome=str(outcomes.get(name, "")),
            )
        )
    return rows


@require_GET
def dedup_pair(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    pair = get_object_or_404(
        review.duplicate_pairs.select_related(
            "first__source", "second__source", "decided_by", "first__duplicate_of"
        ),
        pk=pk,
    )
    queue = _queue_ids(review)
    position = queue.index(pair.pk) if pair.pk in queue else None
    if position is None:  # a decided pair, looked at again: "next" goes to the queue
        next_id, previous_id = (queue[0] if queue else None), None
    else:
        next_id = queue[position + 1] if position + 1 < len(queue) else None
        previous_id = queue[position - 1] if position > 0 else None
    context = {
        "review": review,
        "membership": membership,
        "pair": pair,
        "fields": compare_fields(pair),
        "queue_size": len(queue),
        "position": None if position is None else position + 1,
        "next_id": next_id,
        "previous_id": previous_id,
        "last": _last_decided(review, request.GET.get("last", "")),
        "same_group": (pair.first.duplicate_of_id or pair.first_id)
        == (pair.second.duplicate_of_id or pair.second_id),
    }
    response = render(request, "reviewer/dedup_pair.html", context)
    if request.htmx:
        response["HX-Push-Url"] = request.get_full_path()
    return response


def _after_decision(review: Review, pair: DuplicatePair, before: list[int]) -> HttpResponse:
    """On to the pair after this one in the queue as it stood (`before`), so pairs skipped
    earlier wait until the end; back to the first waiting pair only after the last one.
    The decision just made is offered for undoing."""
    waiting = _queue_ids(review)
    later = before[before.index(pair.pk) + 1 :] if pair.pk in before else []
    still = set(waiting)
    following = next((pk for pk in later if pk in still), waiting[0] if waiting else None)
    if following is None:
        return redirect(f"{reverse('dedup-queue', args=[review.slug])}?last={pair.pk}")
    url = reverse("dedup-pair", args=[review.slug, following])
    return redirect(f"{url}?last={pair.pk}")


@require_POST
def dedup_pair_decide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    pair = get_object_or_404(review.duplicate_pairs, pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in {"duplicate", "distinct"}:
        messages.error(request, "Choose “duplicate” or “not duplicate”.")
        return redirect(pair)
    before = _queue_ids(review)
    try:
        services.pair_decide(
            pair=pair,
            user=current_user(request),
            duplicate=decision == "duplicate",
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(pair)
    return _after_decision(review, pair, before)


@require_POST
def dedup_pair_undo(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    pair = get_object_or_404(review.duplicate_pairs, pk=pk)
    try:
        services.pair_reopen(pair=pair, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Decision undone; the pair is back in the queue.")
    return redirect(pair)


# --- groups and the log ---


@require_GET
def dedup_group(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A kept record and its duplicates, each with its search; any can be split off."""
    review, membership = review_for_request(request, slug)
    record = get_object_or_404(review.records, pk=pk)
    kept = record.duplicate_of or record
    members = [kept, *kept.duplicates.select_related("source").order_by("pk")]
    order = list(FIELD_LABELS)
    took = sorted(
        (kept.filled_fields or {}).items(),
        key=lambda item: order.index(item[0]) if item[0] in order else len(order),
    )
    filled = [
        (
            FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
            next((m for m in members if m.pk == source_pk), None),
        )
        for name, source_pk in took
    ]
    events = (
        DedupEvent.objects.filter(review=review, record__in=members)
        .select_related("user", "record", "other")
        .order_by("-created_at", "-pk")[:50]
    )
    ids = [m.pk for m in members]
    pairs = (
        review.duplicate_pairs.filter(first__in=ids, second__in=ids)
        .select_related("decided_by")
        .order_by("first_id", "second_id")
    )
    context = {
        "review": review,
        "membership": membership,
        "kept": kept,
        "members": members,
        "pairs": pairs,
        "filled": filled,
        "events": events,
    }
    return render(request, "reviewer/dedup_group.html", context)


@require_POST
def dedup_split(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug)
    record = get_object_or_404(review.records, pk=pk)
    kept = record.duplicate_of or record
    try:
        rest = services.record_split(
            record=record,
            user=current_user(request),
            note=request.POST.get("note", "").strip(),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("dedup-group", slug=review.slug, pk=kept.pk)
    messages.success(
        request,
        f"Record {record.pk} was split off; it now stands on its own and will not be linked "
        f"to {'that record' if len(rest) == 1 else 'those records'} again.",
    )
    return redirect("dedup-group", slug=review.slug, pk=rest[0] if rest else record.pk)


@require_GET
def dedup_log(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    events = DedupEvent.objects.filter(review=review).select_related(
        "user", "record", "other", "pair", "job"
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reviewer/dedup_log.html",
        {"review": review, "membership": membership, "page": page},
    )
