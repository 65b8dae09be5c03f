"""The ranking and stopping page: how many relevant records each reviewer has found as they
screened, their ranking's state (with a button to retrain it), and the statistical
stopping test on a random sample of the records they have not screened.

Everything here is the requesting reviewer's own (their ranking, their sample, their
line of the chart). The resolved records' line and colleagues' lines are review-wide
figures (`rules.may_see_review_wide_figures`): a line that rises after a colleague's n-th
decision would tell, in import order, how they decided a record still open.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from reviewer.access import current_user, review_for_request
from reviewer.forms.ranking import SampleForm
from reviewer.models import RankingJob, RankingTrigger
from reviewer.ranking import selectors
from reviewer.ranking.stopping import DEFAULT_ALPHA, DEFAULT_TARGET
from reviewer.screening.rules import may_see_review_wide_figures
from reviewer.services import ranking as services
from reviewer.views.sources import HtmxHttpRequest


@require_GET
def ranking_progress(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    user = current_user(request)
    ranking = {
        "review": review,
        "ranking": selectors.ranking_state(review, user),
        "jobs": list(RankingJob.objects.filter(review=review, reviewer=user).order_by("-pk")[:3]),
    }
    if request.htmx and request.htmx.target == "ranking-card":
        # the card's poll while a retrain waits or runs: the card, and the retrain button
        # out of band (enabled again once the retrain is over)
        return render(request, "reviewer/ranking/partials/card.html", {**ranking, "oob": True})
    screened = selectors.screened_so_far(review, user)
    sample = selectors.current_sample(review, user)
    progress = selectors.sample_progress(review, user, sample) if sample is not None else None
    suggested = selectors.suggested_sample_size(screened, DEFAULT_TARGET, DEFAULT_ALPHA)
    form = SampleForm(initial={"size": suggested, "target": 95, "alpha": "0.05"})
    context = {
        "review": review,
        "membership": membership,
        "chart": selectors.progress_chart(
            review,
            user,
            review_wide=may_see_review_wide_figures(
                blinded=review.blinded, is_senior=membership.is_senior
            ),
        ),
        **ranking,
        "screened": screened,
        "suggested": suggested,
        "progress": progress,
        "sample_records": (
            list(
                sample.entries.select_related("record").values_list(
                    "position", "record_id", "record__title"
                )
            )
            if sample is not None
            else []
        ),
        "labelled": selectors.labels(review, user) if sample is not None else {},
        "form": form,
    }
    return render(request, "reviewer/ranking/progress.html", context)


@require_POST
def ranking_retrain(request: HttpRequest, slug: str) -> HttpResponse:
    """Retrain my ranking now (in the background)."""
    review, _ = review_for_request(request, slug)
    services.ranking_job_request(
        review=review, user=current_user(request), trigger=RankingTrigger.REQUESTED
    )
    messages.success(
        request,
        "Your ranking is being retrained; the screening queue uses it as soon as it is done.",
    )
    return redirect("ranking-progress", slug=review.slug)


@require_POST
def ranking_sample(request: HttpRequest, slug: str) -> HttpResponse:
    """Draw my random sample of the records I have not screened (it replaces an earlier one)."""
    review, _ = review_for_request(request, slug)
    form = SampleForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.as_data().items()))
        label = form.fields[field].label if field in form.fields else ""
        message = errors[0].messages[0]
        messages.error(request, f"{label}: {message}" if label else message)
        return redirect("ranking-progress", slug=review.slug)
    try:
        sample = services.stopping_sample_draw(
            review=review,
            user=current_user(request),
            size=form.cleaned_data["size"],
            target=float(form.cleaned_data["target"]) / 100,
            alpha=float(form.cleaned_data["alpha"]),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            f"{sample.entries.count()} records drawn at random. They come first in your "
            "title/abstract queue: screen them as carefully as any other.",
        )
    return redirect("ranking-progress", slug=review.slug)


urlpatterns: list[URLPattern] = [
    path("ranking/", ranking_progress, name="ranking-progress"),
    path("ranking/retrain/", ranking_retrain, name="ranking-retrain"),
    path("ranking/sample/", ranking_sample, name="ranking-sample"),
]
