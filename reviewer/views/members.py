from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from reviewer import selectors
from reviewer.access import current_user, review_for_request
from reviewer.forms.reviews import ExclusionReasonForm, MemberAddForm, MemberRoleForm
from reviewer.models import Role
from reviewer.services import reviews as services
from reviewer.views.team import team_context


@require_GET
def member_list(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    context = {
        "review": review,
        "membership": membership,
        "members": review.memberships.select_related("user"),
        "add_form": MemberAddForm(colleagues=selectors.colleagues(current_user(request), review))
        if membership.is_owner
        else None,
        "roles": Role.choices,
        **team_context(request, review, membership),
    }
    return render(request, "reviewer/member_list.html", context)


@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a colleague (someone sharing another review with this owner) at once."""
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    owner = current_user(request)
    form = MemberAddForm(request.POST, colleagues=selectors.colleagues(owner, review))
    if form.is_valid():
        try:
            added = services.member_add(
                review=review,
                username=form.cleaned_data["user"].username,
                role=Role(form.cleaned_data["role"]),
                added_by=owner,
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request, f"{added.user.display_name()} added as {added.get_role_display()}."
            )
    else:
        messages.error(
            request,
            "Choose one of your colleagues listed under “Add a colleague from your other "
            "reviews”, and a role. Anyone else joins by invitation.",
        )
    return redirect("member-list", slug=review.slug)


@require_POST
def member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = get_object_or_404(review.memberships, pk=pk)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_set_role(membership=target, role=Role(form.cleaned_data["role"]))
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, f"{target.user.username} is now {target.get_role_display()}.")
    return redirect("member-list", slug=review.slug)


@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    target = get_object_or_404(review.memberships, pk=pk)
    try:
        services.member_remove(membership=target, removed_by=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{target.user.username} removed from the review.")
    return redirect("member-list", slug=review.slug)


@require_GET
def reason_list(request: HttpRequest, slug: str) -> HttpResponse:
    review, membership = review_for_request(request, slug)
    context = {
        "review": review,
        "membership": membership,
        "reasons": review.exclusion_reasons.all(),
        "add_form": ExclusionReasonForm(),
    }
    return render(request, "reviewer/reason_list.html", context)


@require_POST
def reason_add(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    try:
        reason = services.exclusion_reason_add(review=review, label=request.POST.get("label", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            f"Reason “{reason.label}” added, last on the list: reviewers can choose it now.",
        )
    return redirect("reason-list", slug=review.slug)


@require_POST
def reason_update(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    reason = get_object_or_404(review.exclusion_reasons, pk=pk)
    form = ExclusionReasonForm(request.POST, instance=reason)
    if form.is_valid():
        try:
            services.exclusion_reason_update(
                reason=reason,
                label=form.cleaned_data["label"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            offered = "is offered to reviewers" if reason.is_active else "is retired: not offered"
            messages.success(request, f"Reason saved. “{reason.label}” {offered}.")
    else:
        messages.error(request, "A reason needs some text.")
    return redirect("reason-list", slug=review.slug)


@require_POST
def reason_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    reason = get_object_or_404(review.exclusion_reasons, pk=pk)
    services.exclusion_reason_move(reason=reason, up=request.POST.get("direction") == "up")
    order = [r.pk for r in review.exclusion_reasons.all()]
    messages.success(
        request, f"Reason moved: now number {order.index(reason.pk) + 1} of {len(order)}."
    )
    return redirect("reason-list", slug=review.slug)
