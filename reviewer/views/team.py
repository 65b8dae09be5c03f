"""Joining a review: invitations and their links, reset links from owners, the site's
first account, and the login page that offers it on a fresh install."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from reviewer import selectors
from reviewer.access import current_user, review_for_request
from reviewer.forms.team import FirstAccountForm, InvitationForm, NewAccountForm
from reviewer.models import Invitation, Membership, Review, Role
from reviewer.services import accounts
from reviewer.services import invitations as services

#: Logged in after making an account: the axes backend needs a request to authenticate,
#: and the account was made just now with the password typed, so log in directly.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def invitation_link(request: HttpRequest, invitation: Invitation) -> str:
    path = reverse("invitation-accept", kwargs={"token": services.invitation_token(invitation)})
    return request.build_absolute_uri(path)


def team_context(request: HttpRequest, review: Review, membership: Membership) -> dict[str, Any]:
    """The Members page's invitations (owners only: the links are keys) and former members."""
    context: dict[str, Any] = {
        "former_members": selectors.former_members(review),
    }
    if membership.is_owner:
        invitations = services.invitations_listed(review)
        for invitation in invitations:
            if invitation.is_pending:
                invitation.link = invitation_link(request, invitation)  # type: ignore[attr-defined]
                invitation.link_id = f"invitation-link-{invitation.pk}"  # type: ignore[attr-defined]
        context["invitations"] = invitations
        context["invite_form"] = InvitationForm()
        context["invitation_days"] = settings.INVITATION_DAYS
    return context


@require_POST
def invitation_create(request: HttpRequest, slug: str) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the person’s email address and a role.")
        return redirect("member-list", slug=review.slug)
    try:
        invitation = services.invitation_create(
            review=review,
            email=form.cleaned_data["email"],
            role=Role(form.cleaned_data["role"]),
            created_by=current_user(request),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("member-list", slug=review.slug)
    problem = services.invitation_send(
        invitation=invitation, link=invitation_link(request, invitation)
    )
    if problem:
        messages.warning(request, f"{problem} Copy the link below and send it yourself.")
    else:
        messages.success(
            request,
            f"Invitation for {invitation.email} as {invitation.get_role_display()} made and "
            "mailed. You can also copy its link below and send it yourself.",
        )
    return redirect(f"{reverse('member-list', kwargs={'slug': review.slug})}#invitations")


@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    review, _ = review_for_request(request, slug, role=Role.OWNER)
    invitation = get_object_or_404(review.invitations, pk=pk)
    try:
        services.invitation_revoke(invitation=invitation, user=current_user(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"The invitation for {invitation.email} no longer works.")
    return redirect(f"{reverse('member-list', kwargs={'slug': review.slug})}#invitations")


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's page: join with the account they are logged in with, or make one."""
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return render(request, "reviewer/team/invitation_invalid.html", status=404)
    problem = services.why_unusable(invitation)
    if problem:
        gone = {"invitation": invitation, "problem": problem}
        return render(request, "reviewer/team/invitation_invalid.html", gone, status=410)
    context: dict[str, Any] = {"invitation": invitation, "review": invitation.review}
    if request.user.is_authenticated:
        user = current_user(request)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=user)
            except ValidationError as error:
                messages.error(request, error.messages[0])
                return redirect("invitation-accept", token=token)
            messages.success(request, f"Welcome to “{invitation.review.title}”.")
            return redirect(invitation.review)
        context["member"] = invitation.review.memberships.filter(user=user).first()
        return render(request, "reviewer/team/invitation_join.html", context)
    form = NewAccountForm(
        request.POST or None,
        email=invitation.email,
        initial={"username": services.suggested_username(invitation.email)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept_new_account(
                invitation=invitation,
                name=form.cleaned_data["name"],
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend=_BACKEND)
            messages.success(
                request,
                f"Welcome, {user.display_name()}. You are a {invitation.get_role_display()} "
                f"in “{invitation.review.title}”.",
            )
            return redirect(invitation.review)
    context["form"] = form
    context["has_account"] = services.email_has_account(invitation.email)
    context["login_url"] = f"{reverse('login')}?next={request.path}"
    return render(request, "reviewer/team/invitation_signup.html", context)


@require_POST
def member_reset_link(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A one-time link for a member to choose a new password, for the owner to pass on."""
    review, membership = review_for_request(request, slug, role=Role.OWNER)
    target = get_object_or_404(review.memberships.select_related("user"), pk=pk)
    try:
        path = accounts.reset_link_path(owner=current_user(request), member=target.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("member-list", slug=review.slug)
    context = {
        "review": review,
        "membership": membership,
        "target": target,
        "link": request.build_absolute_uri(path),
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    return render(request, "reviewer/team/reset_link.html", context)


@login_not_required
@require_http_methods(["GET", "POST"])
def first_account(request: HttpRequest) -> HttpResponse:
    """On a fresh install (no accounts at all): make the first one, then log in with it."""
    if not accounts.first_account_open():
        messages.info(request, "This site already has accounts: log in.")
        return redirect("login")
    form = FirstAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.first_account_create(
                name=form.cleaned_data["name"],
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            messages.info(request, error.messages[0])
            return redirect("login")
        login(request, user, backend=_BACKEND)
        messages.success(
            request,
            "Your account is ready. Create your first review, then invite your team from "
            "its Members page.",
        )
        return redirect("review-list")
    return render(request, "registration/first_account.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's login, except that a fresh install (no accounts) offers the first one."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if accounts.first_account_open():
            return redirect("first-account")
        return super().get(request, *args, **kwargs)
