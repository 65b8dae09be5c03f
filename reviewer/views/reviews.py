from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from reviewer import selectors
from reviewer.access import current_user, review_for_request
from reviewer.forms.reviews import ReviewForm, ReviewSettingsForm
from reviewer.models import Decision, Review, Role, Stage, User
from reviewer.screening import counters, queries
from reviewer.screening.agreement import agreement_by_stage
from reviewer.screening.rules import FT, TA, State
from reviewer.services.ranking import ranking_after_settings
from reviewer.services.reviews import review_create
from reviewer.services.screening import release_to_full_text


@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    context = {
        "reviews": selectors.reviews_for_user(user),
        "archived": selectors.archived_reviews_for_user(user),
    }
    return render(request, "reviewer/review_list.html", context)


@require_http_methods(["GET", "POST"])
def review_new(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review = review_create(created_by=current_user(request), **form.cleaned_data)
        messages.success(request, "Review created. Next: add the searches you ran.")
        return redirect(review)
    return render(request, "reviewer/review_form.html", {"form": form})


#: The dashboard's screening counts, grouped as the record's journey goes.
DASHBOARD_STATES = {
    "title_abstract": (State.TA_UNSCREENED, State.TA_ONE, State.TA_CONFLICT, State.TA_EXCLUDED),
    "full_text": (
        State.TA_PASSED,
        State.FT_SOUGHT,
        State.FT_NOT_RETRIEVED,
        State.FT_ONE,
        State.FT_CONFLICT,
        State.FT_REASON,
        State.FT_EXCLUDED,
        State.FT_INCLUDED,
        State.APPROVED,
    ),
}


def screening_summary(review: Review, user: User, *, review_wide: bool) -> dict[str, Any]:
    """The dashboard's screening part (`reviewer.project.dashboard`), in a fixed number of
    queries whatever the records.

    The counts per state, conflicts and agreement move with a colleague's decision on a
    record still open, so they are computed only for those who may see review-wide
    figures (`rules.may_see_review_wide_figures`); everyone gets their own queue."""
    my_queue = {
        stage: queries.waiting(review, user, stage, queries.queue(review, user, stage)).count()
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT)
    }
    if not review_wide:
        mine = Counter(
            Decision.objects.filter(review=review, reviewer=user).values_list("stage", flat=True)
        )
        return {
            "review_wide": False,
            "my_queue": my_queue,
            "my_decisions": {stage: mine[stage] for stage in (TA, FT)},
        }
    counts = queries.state_counts(review)
    groups = {
        group: [
            {"state": s, "label": s.label, "count": counts[s]}
            for s in group_states
            if review.blinded or s is not State.TA_PASSED  # unblinded: no release to wait for
        ]
        for group, group_states in DASHBOARD_STATES.items()
    }
    rows = list(
        Decision.objects.filter(review=review).values_list(
            "record_id", "reviewer_id", "stage", "choice"
        )
    )
    names: dict[Hashable, str] = {
        u.pk: u.display_name() for u in User.objects.filter(pk__in={row[1] for row in rows})
    }
    by_stage = agreement_by_stage(rows)
    agreement_rows = []
    for stage, label in Stage.choices:
        result = by_stage[stage]
        # with one pair of reviewers the pooled figure is theirs: show it once
        shown = result.pairs if len(result.pairs) == 1 else [result.overall, *result.pairs]
        for pair in shown:
            who = (
                f"{names[pair.first]} and {names[pair.second]}"
                if pair.first is not None and pair.second is not None
                else "All reviewers"
            )
            agreement_rows.append({"stage": label, "who": who, "result": pair.detailed})
            if pair.binary is not None:
                agreement_rows.append(
                    {
                        "stage": f"{label}, include or maybe vs exclude",
                        "who": who,
                        "result": pair.binary,
                    }
                )
    return {
        "removed": counts[State.REMOVED],
        "groups": groups,
        "to_full_text": sum(counts[s] for s in DASHBOARD_STATES["full_text"]),
        "conflicts": sum(counts[s] for s in State if s.needs_senior),
        "review_wide": True,
        "my_queue": my_queue,
        "agreement": agreement_rows,
        "decided": len(rows),
    }


@require_http_methods(["GET", "POST"])
def review_settings(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    form = ReviewSettingsForm(request.POST or None, instance=review)
    if request.method == "POST" and form.is_valid():
        blinding = "blinded" in form.changed_data and form.cleaned_data["blinded"]
        with transaction.atomic():
            form.save()
            # Records that passed title/abstract while the review was unblinded are at
            # full text already: blinding it again keeps them there (released now).
            passed = queries.waiting_for_release(review) if blinding else []
            if passed:
                release_to_full_text(
                    review=review,
                    user=current_user(request),
                    records=review.records.filter(pk__in=passed),
                )
            if "blinded" in form.changed_data:  # what waits at full text is counted anew
                counters.changed(review)
            ranking_after_settings(review=review, changed=form.changed_data)
        messages.success(request, "Review settings saved.")
        return redirect("review-settings", slug=review.slug)
    return render(
        request,
        "reviewer/review_settings.html",
        {"review": review, "membership": membership, "form": form},
    )
