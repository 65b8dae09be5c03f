"""The senior's comparison pages of two copies, written once (`extraction.dual`).

Seniors only. The comparison opens once both copies are done (otherwise back to the
study's page with the reason); "start the consensus" takes everything the two agree on;
"take A / take B" settles one disagreement and returns to it on the comparison page.
Each kind's view module describes its pages once (`ConsensusPages`) and gets the three views
from `page_views`, to route under its own URL names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from extraction.dual.models import DualCopy
from extraction.dual.selectors import consensus_of
from reviewer.access import current_user, review_for_request
from reviewer.models import Review, Role, Study, User

Side = Literal["a", "b"]

#: A view of one study or copy: `(request, slug, pk)`.
View = Callable[[HttpRequest, str, int], HttpResponse]


@dataclass(frozen=True)
class ConsensusPages:
    model: type[DualCopy]
    #: URL names start with it: "<prefix>-study", "<prefix>-compare".
    prefix: str
    template: str
    #: The message once the consensus is started.
    started: str
    #: The message when a "take" names no side.
    no_side: str
    copies_of: Callable[[Study], tuple[Any, Any]]
    consensus_start: Callable[..., Any]
    #: The page's comparison of the two copies (and the consensus, if started).
    comparison: Callable[[Review, Any, Any, Any], Any]
    #: Take one side into the consensus, as the POST names it.
    take: Callable[[Any, User, Side, QueryDict], None]


def compare_page(pages: ConsensusPages, request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, membership = review_for_request(request, slug, role=Role.SENIOR)
    study = get_object_or_404(Study, review=review, pk=pk)
    try:
        a, b = pages.copies_of(study)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(f"{pages.prefix}-study", slug=review.slug, pk=study.pk)
    consensus = consensus_of(pages.model, study)
    return render(
        request,
        pages.template,
        {
            "review": review,
            "membership": membership,
            "study": study,
            "comparison": pages.comparison(review, a, b, consensus),
            "show_all": request.GET.get("all") == "1",
        },
    )


def compare_start(pages: ConsensusPages, request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    study = get_object_or_404(Study, review=review, pk=pk)
    try:
        pages.consensus_start(study=study, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, pages.started)
    return redirect(f"{pages.prefix}-compare", slug=review.slug, pk=study.pk)


def take(pages: ConsensusPages, request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.SENIOR)
    consensus = get_object_or_404(
        pages.model, review=review, pk=pk, **{f"{pages.model.person_field}__isnull": True}
    )
    side = request.POST.get("side", "")
    if side not in ("a", "b"):
        messages.error(request, pages.no_side)
    else:
        try:
            pages.take(consensus, current_user(request), "a" if side == "a" else "b", request.POST)
        except ValidationError as error:
            messages.error(request, error.messages[0])
    response = redirect(f"{pages.prefix}-compare", slug=review.slug, pk=consensus.study_id)
    anchor = request.POST.get("anchor", "")
    if anchor.replace("-", "").isalnum():
        response["Location"] += f"#{anchor}"
    return response


@dataclass(frozen=True)
class PageViews:
    """One kind's comparison views, bound to its `ConsensusPages`."""

    #: GET: the comparison of a study's two copies.
    compare: View
    #: POST: start the consensus from what the two agree on.
    start: View
    #: POST: take one side of a disagreement into the consensus.
    take: View


def page_views(pages: ConsensusPages) -> PageViews:
    """The three views of `pages`, each guarded by its method, named after the kind (so a
    traceback or the URL resolver says "extraction_compare", not a closure's name)."""

    @require_GET
    def compare(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        return compare_page(pages, request, slug, pk)

    @require_POST
    def start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        return compare_start(pages, request, slug, pk)

    @require_POST
    def take_side(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        return take(pages, request, slug, pk)

    views = PageViews(compare=compare, start=start, take=take_side)
    for role in ("compare", "start", "take"):
        view = getattr(views, role)
        view.__name__ = view.__qualname__ = f"{pages.prefix}_{role}"
    return views
