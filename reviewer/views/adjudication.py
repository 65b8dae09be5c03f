"""The senior author's pages: conflicts and their adjudication, the release of agreed
records to full text, approval of inclusions, studies and their reports, a record's
decision history; and the owner's removal of records before screening.

Blinding: a senior sees both decisions of a record only while it waits for them (a
conflict, or two full-text exclusions with different reasons) and on the history page,
which is for seniors. Every write goes through `reviewer.services.screening`, whose
refusals are shown as they are written.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.forms.adjudication import AdjudicationForm, RemovalForm
from reviewer.languages import is_english
from reviewer.models import (
    Adjudication,
    Approval,
    Choice,
    Decision,
    DecisionChange,
    FullText,
    Record,
    Removal,
    Review,
    Role,
    Stage,
    User,
)
from reviewer.screening.queries import states, waiting_for_release, waiting_for_senior
from reviewer.screening.rules import FT, TA, State, removal_skip
from reviewer.services import screening as services
from reviewer.views.sources import HtmxHttpRequest

STAGES: dict[str, Stage] = {stage.value: stage for stage in Stage}

#: What the senior has to do for each state that waits for them.
NEEDED = {
    State.TA_CONFLICT: "Include or exclude",
    State.FT_CONFLICT: "Include, or exclude with the reason to report",
    State.FT_REASON: "Choose the reason to report",
}


def _pushed(request: HtmxHttpRequest, response: HttpResponse) -> HttpResponse:
    """An htmx swap of a whole page (after a redirect it followed) updates the address bar."""
    if getattr(request, "htmx", False):
        response["HX-Push-Url"] = request.get_full_path()
    return response


def _pdf_url(review: Review, record: Record) -> str:
    """The link to the record's stored PDF, if it has one and the full-text pages exist.

    `record.full_text` should be loaded already (select_related) on list pages.
    """
    full_text: FullText | None = getattr(record, "full_text", None)
    if full_text is None or not full_text.pdf:
        return ""
    try:
        return reverse("fulltext-pdf", kwargs={"slug": review.slug, "pk": record.pk})
    except NoReverseMatch:  # the full-text pages are another module's, maybe not there yet
        return ""


# --- conflicts ---

Waiting = list[tuple[int, State]]


def _conflict_url(review: Review, item: tuple[int, State]) -> str:
    pk, state = item
    return reverse("conflict-adjudicate", args=[review.slug, pk, state.stage])


@dataclass(frozen=True)
class ConflictRow:
    record: Record
    state: State
    needed: str
    url: str


@require_GET
def conflict_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Every record waiting for a senior, with counts per kind; filter by stage."""
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    stage = request.GET.get("stage", "")
    if stage not in STAGES:
        stage = ""
    waiting = waiting_for_senior(review)
    counts = Counter(state for _, state in waiting)
    shown = [item for item in waiting if not stage or item[1].stage == stage]
    page = Paginator(shown, 50).get_page(request.GET.get("page"))
    records = review.records.select_related("source").in_bulk([pk for pk, _ in page])
    rows = [
        ConflictRow(records[pk], state, NEEDED[state], _conflict_url(review, (pk, state)))
        for pk, state in page
    ]
    context = {
        "review": review,
        "membership": membership,
        "stage": stage,
        "rows": rows,
        "page": page,
        "page_params": f"stage={stage}&" if stage else "",
        "total": len(waiting),
        "counts": [(state, counts[state]) for state in NEEDED],
        "by_stage": {TA: counts[State.TA_CONFLICT], FT: len(waiting) - counts[State.TA_CONFLICT]},
        "first_url": _conflict_url(review, shown[0]) if shown else "",
        "release": release_offer(review),
        "last": _last_adjudication(request, review),
    }
    return _pushed(request, render(request, "reviewer/senior/conflict_list.html", context))


def _following(waiting: Waiting, pk: int, stage: str) -> tuple[int, State] | None:
    """The conflict after (pk, stage) in the queue; the first one if it is not queued."""
    keys = [(p, s.stage) for p, s in waiting]
    if (pk, stage) in keys:
        index = keys.index((pk, stage))
        rest = waiting[index + 1 :] + waiting[:index]
        return rest[0] if rest else None
    return waiting[0] if waiting else None


def _adjudicated_message(record: Record, stage: str, choice: str, reason: Any) -> str:
    name = f"Record {record.pk}"
    if stage == TA:
        if choice == Choice.INCLUDE:
            return f"{name} included at title/abstract: its full text is sought."
        return f"{name} excluded at title/abstract."
    if choice == Choice.INCLUDE:
        return f"{name} included at full text: it waits for approval."
    return f"{name} excluded at full text, reported as “{reason}”."


#: The adjudication just made, kept in the session across the redirect to the next page,
#: which offers to undo it beside the message saying what it did (once, as the message).
_LAST_KEY = "adjudication-last"

#: Notes (and full-text reasons) typed on a conflict and not adjudicated yet, per record
#: and stage: kept when the senior skips the conflict, or brought back by an undo, and
#: put back in the form when she returns to it.
_DRAFTS_KEY = "adjudication-drafts"


def _draft_key(pk: int, stage: str) -> str:
    return f"{pk}:{stage}"


def _draft(request: HttpRequest, pk: int, stage: str) -> dict[str, str] | None:
    drafts = request.session.get(_DRAFTS_KEY) or {}
    found: dict[str, str] | None = drafts.get(_draft_key(pk, stage))
    return found


def _draft_keep(
    request: HttpRequest, pk: int, stage: str, *, note: str, reason: str, why: str
) -> None:
    drafts = dict(request.session.get(_DRAFTS_KEY) or {})
    if note or reason:
        drafts[_draft_key(pk, stage)] = {"note": note, "reason": reason, "why": why}
    else:
        drafts.pop(_draft_key(pk, stage), None)
    request.session[_DRAFTS_KEY] = drafts


def _draft_drop(request: HttpRequest, pk: int, stage: str) -> None:
    drafts = dict(request.session.get(_DRAFTS_KEY) or {})
    if drafts.pop(_draft_key(pk, stage), None) is not None:
        request.session[_DRAFTS_KEY] = drafts


def _skip(
    request: HttpRequest, review: Review, record: Record, stage: str, waiting: Waiting
) -> HttpResponse:
    """Skip a conflict, keeping what was typed for it (its note, at full text the reason
    chosen) until the senior comes back to it: a note is a judgement half made, and "skip"
    means "later", not "forget"."""
    note = request.POST.get("note", "").strip()[:2000]
    reason = request.POST.get("reason", "")
    reason = reason if reason.isdigit() and stage == FT else ""
    _draft_keep(request, record.pk, stage, note=note, reason=reason, why="skipped")
    if note:
        messages.info(
            request,
            f"Your note on record {record.pk} is kept: it is back in the form when you return "
            "to this conflict.",
        )
    following = _following(waiting, record.pk, stage)
    if following is None:
        return redirect("conflict-list", slug=review.slug)
    return redirect(_conflict_url(review, following))


def _last_adjudication(request: HttpRequest, review: Review) -> dict[str, Any] | None:
    """The adjudication just made (`_LAST_KEY`, read once), with why it may no longer be
    undone ("" while it may: `rules.adjudication_final`); None when there is none."""
    last = request.session.pop(_LAST_KEY, None)
    if not last:
        return None
    adjudication = (
        Adjudication.objects.filter(review=review, record_id=last["record"], stage=last["stage"])
        .select_related("record", "reason")
        .first()
    )
    if adjudication is None:
        return None
    return {"adjudication": adjudication, "refusal": services.adjudication_refusal(adjudication)}


@require_http_methods(["GET", "POST"])
def conflict_adjudicate(request: HtmxHttpRequest, slug: str, pk: int, stage: str) -> HttpResponse:
    """One record waiting for a senior: the record, both decisions, the final decision."""
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    if stage not in STAGES:
        raise Http404("No such stage.")
    record = get_object_or_404(review.records.select_related("source", "full_text"), pk=pk)
    outcomes = states(review)
    state = outcomes[record.pk].state
    waiting = sorted(
        ((p, o.state) for p, o in outcomes.items() if o.state.needs_senior),
        key=lambda item: (item[1].stage != TA, item[0]),
    )
    is_waiting = state.needs_senior and state.stage == stage
    # Blinding: the decisions are shown only while the record waits for a senior.
    decisions = (
        list(
            Decision.objects.filter(review=review, record=record, stage=stage)
            .select_related("reviewer", "reason")
            .order_by("pk")
        )
        if is_waiting
        else []
    )
    if request.method == "POST" and request.POST.get("skip"):
        return _skip(request, review, record, stage, waiting)
    draft = _draft(request, record.pk, stage) if request.method == "GET" and is_waiting else None
    form = AdjudicationForm(
        request.POST or None,
        review=review,
        stage=stage,
        given_reason_ids=[d.reason_id for d in decisions if d.reason_id],
        reason_required=is_waiting and state is State.FT_REASON,
        initial={"note": draft["note"], "reason": draft["reason"]} if draft else None,
    )
    if request.method == "POST" and form.is_valid():
        choice, reason = form.cleaned_data["choice"], form.cleaned_data["reason"]
        user = current_user(request)
        try:
            with transaction.atomic():
                services.adjudicate(
                    record=record,
                    user=user,
                    stage=stage,
                    choice=choice,
                    reason=reason,
                    note=form.cleaned_data["note"].strip(),
                )
                released = (
                    services.release_when_title_abstract_is_over(review=review, user=user)
                    if stage == TA
                    else 0
                )
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("conflict-adjudicate", slug=review.slug, pk=record.pk, stage=stage)
        _draft_drop(request, record.pk, stage)
        # the next page offers to undo it (`_last_adjudication`), with the message
        request.session[_LAST_KEY] = {"record": record.pk, "stage": stage}
        messages.success(request, _adjudicated_message(record, stage, choice, reason))
        if released:
            messages.info(
                request,
                "No record is open at title/abstract any more: "
                f"{_records(released)} agreed by the reviewers "
                f"{'were' if released != 1 else 'was'} released to full text.",
            )
        following = _following(waiting, record.pk, stage)
        if following is None:
            messages.info(request, "No more records wait for a senior.")
            return redirect("conflict-list", slug=review.slug)
        return redirect(_conflict_url(review, following))

    following = _following(waiting, record.pk, stage)
    keys = [(p, s.stage) for p, s in waiting]
    adjudication = (
        None
        if is_waiting
        else record.adjudications.filter(stage=stage).select_related("decided_by", "reason").first()
    )
    context = {
        "review": review,
        "membership": membership,
        "record": record,
        "stage": STAGES[stage],
        "state": state,
        "is_waiting": is_waiting,
        "needed": NEEDED.get(state, ""),
        "decisions": decisions,
        "form": form,
        "reason_only": state is State.FT_REASON,
        "adjudication": adjudication,
        "position": keys.index((record.pk, stage)) + 1 if (record.pk, stage) in keys else None,
        "queue_size": len(waiting),
        "next_url": _conflict_url(review, following) if following else "",
        "pdf_url": _pdf_url(review, record) if stage == FT else "",
        "draft": draft,
        "last": _last_adjudication(request, review),
        "undo_refusal": services.adjudication_refusal(adjudication) if adjudication else "",
    }
    response = render(request, "reviewer/senior/conflict_detail.html", context)
    return _pushed(request, response)


@require_POST
def conflict_undo(request: HtmxHttpRequest, slug: str, pk: int, stage: str) -> HttpResponse:
    """Withdraw the adjudication of a record at a stage (a senior's undo), while nothing is
    built on it (`rules.adjudication_final`): the record waits for a senior again, and its
    page opens with the note and reason of the adjudication back in the form."""
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    if stage not in STAGES:
        raise Http404("No such stage.")
    record = get_object_or_404(review.records, pk=pk)
    page = redirect("conflict-adjudicate", slug=review.slug, pk=record.pk, stage=stage)
    try:
        withdrawn = services.withdraw_adjudication(
            record=record, user=current_user(request), stage=stage
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return page
    _draft_keep(
        request,
        record.pk,
        stage,
        note=withdrawn.note,
        reason=str(withdrawn.reason_id or ""),
        why="withdrawn",
    )
    at = "title/abstract" if stage == TA else "full text"
    messages.success(
        request,
        f"The adjudication of record {record.pk} at {at} is withdrawn: the record waits for a "
        "senior again.",
    )
    return page


# --- release to full text ---


def _records(n: int) -> str:
    return f"{n:,} record{'s' if n != 1 else ''}"


def release_token(ids: Iterable[int]) -> str:
    """Names the exact set of records a page offered to release, so a release releases
    that set or nothing (a reviewer may change a decision in between)."""
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]


def release_offer(review: Review) -> dict[str, Any] | None:
    """What a senior's pages offer to release (blinded reviews only): how many records
    wait, and the token of that set; None when nothing waits."""
    if not review.blinded:
        return None
    ids = waiting_for_release(review)
    if not ids:
        return None
    return {"count": len(ids), "token": release_token(ids)}


@require_http_methods(["GET", "POST"])
def release_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The records two reviewers agreed to include at title/abstract that wait for release
    to full text (blinded reviews), the button releasing them all, and the releases made."""
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    if request.method == "POST":
        return _release(request, review)
    ids = waiting_for_release(review) if review.blinded else []
    page = Paginator(ids, 50).get_page(request.GET.get("page"))
    records = review.records.select_related("source").in_bulk(list(page))
    releases = list(
        review.records.filter(released_at__isnull=False)
        .values("released_at", "released_by")
        .annotate(n=Count("pk"))
        .order_by("-released_at")
    )
    names = {
        user.pk: user.display_name()
        for user in User.objects.filter(pk__in={row["released_by"] for row in releases})
    }
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "rows": [records[pk] for pk in page],
        "release": {"count": len(ids), "token": release_token(ids)} if ids else None,
        "releases": [
            {"at": row["released_at"], "by": names.get(row["released_by"], ""), "count": row["n"]}
            for row in releases
        ],
    }
    return render(request, "reviewer/senior/release_list.html", context)


def _release(request: HttpRequest, review: Review) -> HttpResponse:
    """Release every record waiting, as the page showed them: all or none."""
    done = redirect("release-list", slug=review.slug)
    ids = waiting_for_release(review) if review.blinded else []
    if not ids:
        messages.info(request, "No record waits for release to full text.")
        return done
    if request.POST.get("expected") != release_token(ids):
        messages.warning(
            request,
            "The records waiting for release changed since the page was shown (a reviewer "
            f"changed a decision): {_records(len(ids))} wait now. Check them and release "
            "again; nothing was released.",
        )
        return done
    try:
        released = services.release_to_full_text(
            review=review, user=current_user(request), records=review.records.filter(pk__in=ids)
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return done
    messages.success(
        request,
        f"{_records(released)} released to full text: reviewers now find "
        f"{'them' if released != 1 else 'it'} in their full-text queue.",
    )
    return done


# --- approval ---


@require_http_methods(["GET", "POST"])
def approval_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Full-text inclusions waiting for approval (approve one or many), then the approved."""
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    if request.method == "POST":
        _approve(request, review)
        return redirect("approval-list", slug=review.slug)
    waiting_ids = [pk for pk, o in states(review).items() if o.state is State.FT_INCLUDED]
    waiting = list(
        review.records.filter(pk__in=waiting_ids)
        .select_related("source", "full_text")
        .order_by("pk")
    )
    for record in waiting:
        record.pdf_url = _pdf_url(review, record)  # type: ignore[attr-defined]
    approved = (
        Approval.objects.filter(review=review)
        .select_related("record", "study", "approved_by")
        .order_by("study__label", "study_id", "record_id")
    )
    context = {
        "review": review,
        "membership": membership,
        "waiting": waiting,
        "approved": approved,
        "study_count": review.studies.count(),
    }
    return _pushed(request, render(request, "reviewer/senior/approval_list.html", context))


def _approve(request: HttpRequest, review: Review) -> None:
    """Approve the records ticked, the one whose own button was pressed, or every one listed:
    all or none."""
    if request.POST.get("only"):
        values = [request.POST["only"]]
    elif request.POST.get("all"):
        values = request.POST.getlist("listed")
    else:
        values = request.POST.getlist("records")
    ids = {int(v) for v in values if v.isdigit()}
    if not ids:
        messages.error(request, "Tick the inclusions to approve.")
        return
    records = list(review.records.filter(pk__in=ids))
    missing = ids - {r.pk for r in records}
    if missing:
        messages.error(
            request, f"Record {min(missing)} is not in this review; nothing was approved."
        )
        return
    try:
        approvals = services.approve(review=review, records=records, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return
    n = len(approvals)
    messages.success(
        request,
        f"{n} inclusion{'s' if n != 1 else ''} approved, each now a study of its own. "
        "Reports of the same study can be linked on the Studies page.",
    )


# --- studies ---


@require_GET
def study_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The included studies, each with its reports; seniors link reports and rename."""
    review, membership = review_for_request(request, slug)
    reports = Approval.objects.select_related("record__full_text", "approved_by").order_by(
        "record__year", "record_id"
    )
    studies = list(
        review.studies.prefetch_related(Prefetch("reports", queryset=reports)).order_by(
            "label", "pk"
        )
    )
    context = {
        "review": review,
        "membership": membership,
        "studies": studies,
        "report_count": sum(len(s.reports.all()) for s in studies),
    }
    return render(request, "reviewer/senior/study_list.html", context)


@require_POST
def study_rename(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    study = get_object_or_404(review.studies, pk=pk)
    old = study.label
    try:
        services.study_rename(
            study=study, user=current_user(request), label=request.POST.get("label", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        if study.label != old:
            messages.success(request, f"“{old}” is now called “{study.label}”.")
    return redirect(f"{reverse('study-list', args=[review.slug])}#study-{study.pk}")


@require_POST
def report_link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Say that an approved report belongs to another study; an emptied study goes."""
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    approval = get_object_or_404(
        review.approvals.select_related("record", "study", "review"), pk=pk
    )
    value = request.POST.get("study", "")
    target = review.studies.filter(pk=int(value)).first() if value.isdigit() else None
    list_url = reverse("study-list", args=[review.slug])
    if target is None:
        messages.error(request, "Choose the study this report belongs to.")
        return redirect(f"{list_url}#study-{approval.study_id}")
    old = approval.study
    try:
        services.report_link(approval=approval, study=target, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(f"{list_url}#study-{old.pk}")
    if old.pk != target.pk:
        gone = not review.studies.filter(pk=old.pk).exists()
        messages.success(
            request,
            f"Record {approval.record_id} is now a report of “{target.label}”."
            + (f" “{old.label}” had no other report and was removed." if gone else ""),
        )
    return redirect(f"{list_url}#study-{target.pk}")


# --- removal before screening ---


@dataclass
class RemovalPlan:
    """What a removal would do: the records it removes, and the matching ones it skips."""

    matching: int = 0
    removable: list[int] = field(default_factory=list)
    duplicates: int = 0
    screened: int = 0
    removed: int = 0

    @property
    def token(self) -> str:
        """Names the exact set of records a preview showed, so a confirm removes that set
        or nothing (the rules could be edited, or records screened, in between)."""
        return hashlib.sha256(",".join(map(str, self.removable)).encode()).hexdigest()[:16]

    @property
    def skipped(self) -> int:
        return self.duplicates + self.screened + self.removed

    def skipped_text(self) -> str:
        parts = [
            (self.duplicates, "duplicate", "duplicates"),
            (self.screened, "already screened", "already screened"),
            (self.removed, "already removed", "already removed"),
        ]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in parts if n)


def _removal_plan(review: Review, data: dict[str, Any]) -> RemovalPlan:
    """The records matching every rule set, sorted into removable and skipped with why.

    The skip rules are `rules.removal_skip`, whose SQL form `queries.removable` the
    service removes by, so the preview count is what the service then removes.
    """
    records = review.records.all()
    if data.get("before_year"):
        records = records.filter(year__lt=data["before_year"])
    if data.get("source"):
        records = records.filter(source=data["source"])
    rows: Iterable[tuple[int, str, int | None, bool, bool]] = records.annotate(
        was_removed=Exists(Removal.objects.filter(record=OuterRef("pk"))),
        was_screened=Exists(Decision.objects.filter(record=OuterRef("pk"))),
    ).values_list("pk", "language", "duplicate_of_id", "was_removed", "was_screened")
    plan = RemovalPlan()
    for pk, language, duplicate_of, removed, screened in rows:
        if data.get("not_english") and (not language.strip() or is_english(language)):
            continue
        plan.matching += 1
        skip = removal_skip(
            is_duplicate=duplicate_of is not None, removed=removed, screened=screened
        )
        if skip == "duplicate":
            plan.duplicates += 1
        elif skip == "removed":
            plan.removed += 1
        elif skip == "screened":
            plan.screened += 1
        else:
            plan.removable.append(pk)
    return plan


@require_http_methods(["GET", "POST"])
def removal_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Remove records before screening by rule (preview, then confirm); the removed list."""
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    form = RemovalForm(request.POST or None, review=review)
    plan = None
    if request.method == "POST" and form.is_valid():
        plan = _removal_plan(review, form.cleaned_data)
        if request.POST.get("action") == "confirm":
            if request.POST.get("expected") != plan.token:
                messages.warning(
                    request,
                    "The records changed since the preview: check the new count below and "
                    "confirm again.",
                )
            else:
                return _remove(request, review, plan, form.cleaned_data["reason"])
    removals = (
        Removal.objects.filter(review=review)
        .select_related("record", "removed_by")
        .order_by("-created_at", "-pk")
    )
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "plan": plan,
        "reason": form.cleaned_data["reason"] if plan else "",
        "page": Paginator(removals, 50).get_page(request.GET.get("page")),
        "by_reason": Removal.objects.filter(review=review)
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason"),
    }
    return render(request, "reviewer/senior/removal_list.html", context)


def _remove(request: HttpRequest, review: Review, plan: RemovalPlan, reason: str) -> HttpResponse:
    try:
        removed = services.remove_before_screening(
            review=review,
            user=current_user(request),
            records=review.records.filter(pk__in=plan.removable).only("pk", "review_id"),
            reason=reason,
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("removal-list", slug=review.slug)
    text = f"{removed} record{'s' if removed != 1 else ''} removed before screening: “{reason}”."
    if plan.skipped:
        text += (
            f" {plan.skipped} matching record{'s were' if plan.skipped != 1 else ' was'} "
            f"skipped ({plan.skipped_text()})."
        )
    messages.success(request, text)
    return redirect("removal-list", slug=review.slug)


@require_POST
def removal_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    record = get_object_or_404(review.records, pk=pk)
    try:
        services.restore(record=record, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Record {record.pk} is back in screening.")
    return redirect("removal-list", slug=review.slug)


# --- a record's history ---


@require_GET
def decision_history(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Every decision ever made on a record (withdrawn ones too) and its adjudications."""
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    record = get_object_or_404(
        review.records.select_related(
            "source", "removal__removed_by", "approval__study", "released_by"
        ),
        pk=pk,
    )
    changes = list(
        DecisionChange.objects.filter(review=review, record=record)
        .select_related("reviewer", "reason")
        .order_by("pk")
    )
    latest = {(c.reviewer_id, c.stage): c.pk for c in changes}
    adjudications = {
        a.stage: a for a in record.adjudications.select_related("decided_by", "reason")
    }
    stages = [
        {
            "stage": stage,
            "changes": [
                (c, latest[(c.reviewer_id, c.stage)] == c.pk and bool(c.choice))
                for c in changes
                if c.stage == stage
            ],
            "adjudication": adjudications.get(stage.value),
        }
        for stage in Stage
    ]
    state = states(review, [record.pk])[record.pk].state
    context = {
        "review": review,
        "membership": membership,
        "record": record,
        "state": state,
        "stages": stages,
        "conflict_url": _conflict_url(review, (record.pk, state)) if state.needs_senior else "",
        "removal": getattr(record, "removal", None),
        "approval": getattr(record, "approval", None),
    }
    return render(request, "reviewer/senior/history.html", context)


urlpatterns = [
    path("conflicts/", conflict_list, name="conflict-list"),
    path("conflicts/<int:pk>/<str:stage>/", conflict_adjudicate, name="conflict-adjudicate"),
    path("conflicts/<int:pk>/<str:stage>/undo/", conflict_undo, name="conflict-undo"),
    path("releases/", release_list, name="release-list"),
    path("approvals/", approval_list, name="approval-list"),
    path("studies/", study_list, name="study-list"),
    path("studies/<int:pk>/rename/", study_rename, name="study-rename"),
    path("reports/<int:pk>/link/", report_link, name="report-link"),
    path("removals/", removal_list, name="removal-list"),
    path("removals/<int:pk>/restore/", removal_restore, name="removal-restore"),
    path("screening/history/<int:pk>/", decision_history, name="decision-history"),
]
