"""Joining a review without the admin (reviewer.views.team): invitations, reset links from
owners, password reset by email, and the first account of a fresh install."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reviewer.models import FirstAccount, Invitation, Membership, Role, User
from reviewer.services.accounts import first_account_create
from reviewer.services.invitations import invitation_create, invitation_token
from tests.factories import Endpoint, add_member, make_review, make_user, page_text
from tests.permissions import PermissionCases

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


def invite(review, email="newcomer@example.org", role=Role.REVIEWER, by=None):
    return invitation_create(
        review=review, email=email, role=role, created_by=by or review.created_by
    )


def link_of(invitation):
    return reverse("invitation-accept", args=[invitation_token(invitation)])


def children(review):
    return SimpleNamespace(
        membership=add_member(review, make_user(), Role.REVIEWER),
        invitation=invite(review, email=f"child{review.pk}@example.org"),
    )


# --- permissions ---

ENDPOINTS = [
    Endpoint(
        "invitation-create",
        "post",
        Role.OWNER,
        302,
        data=lambda c: {"email": "someone@example.org", "role": Role.REVIEWER},
    ),
    Endpoint(
        "invitation-revoke", "post", Role.OWNER, 302, kwargs=lambda c: {"pk": c.invitation.pk}
    ),
    Endpoint(
        "member-reset-link", "post", Role.OWNER, 200, kwargs=lambda c: {"pk": c.membership.pk}
    ),
]

WRONG_METHODS = [
    Endpoint("invitation-create", "get", Role.OWNER, 405),
    Endpoint("invitation-revoke", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.invitation.pk}),
    Endpoint("member-reset-link", "get", Role.OWNER, 405, kwargs=lambda c: {"pk": c.membership.pk}),
]


class TestPermissions(PermissionCases):
    ENDPOINTS = ENDPOINTS
    WRONG_METHODS = WRONG_METHODS
    children = staticmethod(children)


def test_senior_cannot_invite(client, team):
    client.force_login(team.senior)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "friend@example.org", "role": Role.OWNER},
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_owner_cannot_revoke_an_invitation_of_another_review(client, team):
    other = invite(make_review(title="Adult IMT"))
    client.force_login(team.owner)

    response = client.post(reverse("invitation-revoke", args=[team.review.slug, other.pk]))

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.is_pending


# --- inviting ---


def test_owner_invites_by_email_and_role_and_sees_the_link_to_copy(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "Dana@Example.org", "role": Role.SENIOR},
        follow=True,
    )

    invitation = Invitation.objects.get()
    assert invitation.email == "Dana@example.org"
    assert invitation.role == Role.SENIOR
    assert invitation.created_by == team.owner
    text = page_text(response)
    assert "Invitation for Dana@example.org as Senior author made and mailed." in text
    assert "Dana@example.org Senior author Waiting to be accepted" in text
    assertContains(response, f'value="http://testserver{link_of(invitation)}"')


def test_the_invitation_is_mailed_with_its_link(client, team):
    client.force_login(team.owner)

    client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "dana@example.org", "role": Role.REVIEWER},
    )

    [message] = mail.outbox
    assert message.to == ["dana@example.org"]
    assert "Pediatric IMT" in message.subject
    assert f"http://testserver{link_of(Invitation.objects.get())}" in message.body
    assert "as reviewer" in message.body


def test_a_mail_that_cannot_be_sent_keeps_the_invitation_and_says_so(client, team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "dana@example.org", "role": Role.REVIEWER},
        follow=True,
    )

    assertContains(response, "The email to dana@example.org could not be sent")
    assertContains(response, "Copy the link below and send it yourself.")
    assert Invitation.objects.get().is_pending


def test_inviting_a_member_again_is_refused(client, team):
    team.reviewer.email = "rev@example.org"
    team.reviewer.save()
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "REV@example.org", "role": Role.OWNER},
        follow=True,
    )

    assertContains(response, "Someone with the address REV@example.org is already a member.")
    assert not Invitation.objects.exists()


def test_a_second_waiting_invitation_for_one_address_is_refused(client, team):
    invite(team.review, email="dana@example.org")
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "dana@example.org", "role": Role.OWNER},
        follow=True,
    )

    assertContains(response, "dana@example.org already has an invitation waiting (as Reviewer)")
    assert Invitation.objects.get().role == Role.REVIEWER


def test_an_invalid_address_is_refused(client, team):
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "not an address", "role": Role.REVIEWER},
        follow=True,
    )

    assertContains(response, "Give the person’s email address and a role.")
    assert not Invitation.objects.exists()


def test_reviewers_do_not_see_invitations_or_their_links(client, team):
    invitation = invite(team.review)
    client.force_login(team.reviewer)

    response = client.get(reverse("member-list", args=[team.review.slug]))

    assertNotContains(response, invitation.email)
    assertNotContains(response, invitation_token(invitation))


def test_owner_revokes_an_invitation_and_its_link_stops_working(client, team):
    invitation = invite(team.review)
    client.force_login(team.owner)

    response = client.post(
        reverse("invitation-revoke", args=[team.review.slug, invitation.pk]), follow=True
    )

    assertContains(response, "The invitation for newcomer@example.org no longer works.")
    assert "newcomer@example.org Reviewer Revoked" in page_text(response)
    client.logout()
    response = client.get(link_of(invitation))
    assert response.status_code == 410
    assertContains(response, "withdrew this invitation", status_code=410)


def listed_link(client, review):
    """The invitation link as the Members page shows it, to copy."""
    page = client.get(reverse("member-list", args=[review.slug])).content.decode()
    [link] = re.findall(r'value="(http://testserver/invitations/[^"]+)"', page)
    return link


def test_an_invitation_link_stays_the_same_in_the_mail_and_on_every_visit(
    client, team, monkeypatch
):
    from django.core import signing

    client.force_login(team.owner)
    client.post(
        reverse("invitation-create", args=[team.review.slug]),
        {"email": "dana@example.org", "role": Role.REVIEWER},
    )
    [message] = mail.outbox
    first = listed_link(client, team.review)
    # an hour later, as the signing module sees the clock
    later = signing.time.time() + 3600
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    second = listed_link(client, team.review)

    assert first == second
    assert first in message.body
    client.logout()
    assertContains(client.get(second), "invites <strong>dana@example.org</strong>")


def test_the_copied_link_stops_working_when_the_invitation_is_revoked(client, team):
    invitation = invite(team.review)
    client.force_login(team.owner)
    copied = listed_link(client, team.review)

    client.post(reverse("invitation-revoke", args=[team.review.slug, invitation.pk]))
    client.logout()
    response = client.get(copied)

    assertContains(response, "withdrew this invitation", status_code=410)
    assert not team.review.memberships.filter(user__email="newcomer@example.org").exists()


def test_a_link_made_before_links_were_stable_still_opens(client, team):
    from django.core import signing

    invitation = invite(team.review)
    # how links were signed before: with a timestamp, so each showing differed
    old = signing.dumps([invitation.pk, invitation.key], salt="reviewer.invitation")

    response = client.get(reverse("invitation-accept", args=[old]))

    assertContains(response, "invites <strong>newcomer@example.org</strong>")


# --- accepting ---


def signup(**changes):
    data = {
        "name": "Dana Newcomer",
        "username": "dana",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(changes)
    return data


def test_the_link_offers_a_new_account_with_a_suggested_username(client, team):
    invitation = invite(team.review, email="dana.k@example.org")

    response = client.get(link_of(invitation))

    text = page_text(response)
    assert "Join “Pediatric IMT”" in text
    assert "owner invites dana.k@example.org to this review as Reviewer" in text
    assertContains(response, 'value="dana.k"')


def test_newcomer_sets_name_and_password_and_lands_in_the_review(client, team):
    invitation = invite(team.review, role=Role.SENIOR)

    response = client.post(link_of(invitation), signup(), follow=True)

    assertRedirects(response, reverse("review-dashboard", args=[team.review.slug]))
    user = User.objects.get(username="dana")
    assert user.email == "newcomer@example.org"
    assert user.display_name() == "Dana Newcomer"
    assert user.check_password(PASSWORD)
    assert team.review.memberships.get(user=user).role == Role.SENIOR
    assert response.context["user"] == user
    assertContains(response, "Welcome, Dana Newcomer. You are a Senior author")
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None


def test_the_role_cannot_be_changed_by_the_invitee(client, team):
    invitation = invite(team.review, role=Role.REVIEWER)

    client.post(link_of(invitation), signup(role=Role.OWNER))

    assert team.review.memberships.get(user__username="dana").role == Role.REVIEWER


def test_a_used_link_does_not_work_twice(client, team):
    invitation = invite(team.review)
    client.post(link_of(invitation), signup())
    client.logout()

    response = client.post(link_of(invitation), signup(username="mallory", name="Mallory"))

    assert response.status_code == 410
    assertContains(response, "This invitation was already used on", status_code=410)
    assert not User.objects.filter(username="mallory").exists()
    assert team.review.memberships.count() == 4


def test_an_expired_link_gives_a_clear_page(client, team):
    invitation = invite(team.review)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = client.post(link_of(invitation), signup())

    assert response.status_code == 410
    assertContains(response, "This invitation expired on", status_code=410)
    assert not User.objects.filter(username="dana").exists()


def test_an_altered_link_gives_a_clear_page(client, team):
    invitation = invite(team.review)
    token = invitation_token(invitation)

    response = client.get(reverse("invitation-accept", args=[token[:-2] + "xx"]))

    assert response.status_code == 404
    assertContains(response, "This invitation link is not valid.", status_code=404)


def test_a_link_with_the_wrong_key_is_refused(client, team):
    invitation = invite(team.review)
    good = link_of(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(key="another key")

    response = client.get(good)

    assert response.status_code == 404


def test_a_weak_or_mismatched_password_is_refused(client, team):
    invitation = invite(team.review)

    response = client.post(link_of(invitation), signup(password1="dana", password2="dana"))
    mismatch = client.post(link_of(invitation), signup(password2="something else entirely"))

    assert response.status_code == 200
    assertContains(response, "This password is too short.")
    assertContains(mismatch, "didn’t match")
    assert not User.objects.filter(username="dana").exists()
    assert Invitation.objects.get().is_pending


def test_a_taken_username_is_refused(client, team):
    invitation = invite(team.review)

    response = client.post(link_of(invitation), signup(username="Reviewer"))

    assertContains(response, "The username “Reviewer” is taken; choose another.")
    assert Invitation.objects.get().is_pending


def test_an_address_with_an_account_is_asked_to_log_in(client, team):
    make_user("dana", email="newcomer@example.org")
    invitation = invite(team.review)

    response = client.get(link_of(invitation))
    refused = client.post(link_of(invitation), signup(username="dana2"))

    assertContains(response, "There is an account with this address already.")
    # the link is signed afresh on each page (its timestamp moves): compare what it carries
    carried = link_of(invitation).rsplit(":", 2)[0]
    assertContains(response, f"/accounts/login/?next={carried}:")
    assertContains(refused, "There is an account with this address already.")
    assert not User.objects.filter(username="dana2").exists()


def test_an_existing_user_joins_with_their_account(client, team):
    dana = make_user("dana", email="newcomer@example.org", first_name="Dana")
    invitation = invite(team.review, role=Role.SENIOR)
    client.force_login(dana)

    page = client.get(link_of(invitation))
    response = client.post(link_of(invitation), follow=True)

    assertContains(page, "Join as Dana")
    assertRedirects(response, reverse("review-dashboard", args=[team.review.slug]))
    assert team.review.memberships.get(user=dana).role == Role.SENIOR
    assert User.objects.filter(email="newcomer@example.org").count() == 1


def test_an_existing_user_who_logs_in_from_the_link_comes_back_to_join(client, team):
    make_user("dana", password=PASSWORD, email="newcomer@example.org")
    invitation = invite(team.review)
    link = link_of(invitation)

    response = client.post(
        f"/accounts/login/?next={link}",
        {"username": "dana", "password": PASSWORD, "next": link},
        follow=True,
    )
    client.post(link)

    assertContains(response, "Join as dana")
    assert team.review.memberships.filter(user__username="dana").exists()


def test_a_member_following_an_invitation_keeps_their_role(client, team):
    invitation = invite(team.review, email="other@example.org", role=Role.OWNER)
    client.force_login(team.reviewer)

    response = client.post(link_of(invitation), follow=True)

    assertContains(response, "You are already a member of this review (as Reviewer)")
    assert team.review.memberships.get(user=team.reviewer).role == Role.REVIEWER
    assert Invitation.objects.get().is_pending


def test_an_invitation_to_an_archived_review_cannot_be_used(client, team):
    from reviewer.services.reviews import review_archive

    invitation = invite(team.review)
    review_archive(review=team.review, user=team.owner)

    response = client.post(link_of(invitation), signup())

    assertContains(response, "This review is archived", status_code=410)
    assert not User.objects.filter(username="dana").exists()


# --- reset links from owners ---


def test_owner_makes_a_one_time_reset_link_that_sets_a_new_password(client, team):
    membership = team.review.memberships.get(user=team.reviewer)
    client.force_login(team.owner)

    response = client.post(reverse("member-reset-link", args=[team.review.slug, membership.pk]))

    assertContains(response, "A password reset link for reviewer")
    link = re.search(r'id="reset-link" value="http://testserver([^"]+)"', response.content.decode())
    assert link
    client.logout()
    form = client.get(link.group(1), follow=True)
    assertContains(form, "Choose a new password")
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
        follow=True,
    )
    assertContains(done, "Your new password is set.")
    team.reviewer.refresh_from_db()
    assert team.reviewer.check_password(PASSWORD)
    again = client.get(link.group(1), follow=True)
    assertContains(again, "This password reset link does not work any more")


def test_no_reset_link_for_someone_who_also_works_on_a_review_the_owner_does_not_own(client, team):
    add_member(make_review(title="Adult IMT"), team.reviewer)
    membership = team.review.memberships.get(user=team.reviewer)
    client.force_login(team.owner)

    response = client.post(
        reverse("member-reset-link", args=[team.review.slug, membership.pk]), follow=True
    )

    assertContains(response, "also works on reviews you do not own")
    assertNotContains(response, 'id="reset-link"')


def test_no_reset_link_for_a_site_administrator(client, team):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    membership = add_member(team.review, admin, Role.REVIEWER)
    client.force_login(team.owner)

    response = client.post(
        reverse("member-reset-link", args=[team.review.slug, membership.pk]), follow=True
    )

    assertContains(response, "administers this site")
    assertNotContains(response, 'id="reset-link"')


# --- password reset by email ---


def test_password_reset_by_email(client, team):
    team.reviewer.email = "rev@example.org"
    team.reviewer.save()

    response = client.post(reverse("password_reset"), {"email": "rev@example.org"}, follow=True)

    assertContains(response, "Check your email")
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", message.body)
    assert link
    form = client.get(link.group(1), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    team.reviewer.refresh_from_db()
    assert team.reviewer.check_password(PASSWORD)


def test_login_page_links_to_password_reset(client, team):
    response = client.get(reverse("login"))

    assertContains(response, reverse("password_reset"))
    assertContains(response, "Forgot your password?")


# --- the first account ---


def first(**changes):
    data = signup(username="carol", name="Carol Senior", email="carol@example.org")
    data.update(changes)
    return data


def test_a_fresh_install_offers_the_first_account(client):
    response = client.get("/", follow=True)

    assertRedirects(response, reverse("first-account"))
    assertContains(response, "Create the first account")


def test_the_first_account_is_made_and_logged_in(client):
    response = client.post(reverse("first-account"), first(), follow=True)

    assertRedirects(response, reverse("review-list"))
    assertContains(response, "Your account is ready.")
    carol = User.objects.get()
    assert (carol.username, carol.email, carol.display_name()) == (
        "carol",
        "carol@example.org",
        "Carol Senior",
    )
    assert carol.is_superuser and carol.check_password(PASSWORD)
    assert FirstAccount.objects.get().user == carol


def test_the_first_account_is_offered_only_once(client):
    client.post(reverse("first-account"), first())
    client.logout()

    page = client.get(reverse("first-account"), follow=True)
    second = client.post(reverse("first-account"), first(username="mallory"), follow=True)
    login = client.get(reverse("login"))

    assertRedirects(page, reverse("login"))
    assertContains(second, "This site already has accounts: log in.")
    assert not User.objects.filter(username="mallory").exists()
    assert login.status_code == 200
    assertNotContains(login, "Create the first account")


def test_no_first_account_when_createsuperuser_made_one(client):
    make_user("root")

    response = client.post(reverse("first-account"), first(), follow=True)

    assertRedirects(response, reverse("login"))
    assert list(User.objects.values_list("username", flat=True)) == ["root"]


def test_the_service_refuses_a_second_first_account():
    first_account_create(name="A", username="a", email="a@example.org", password=PASSWORD)

    with pytest.raises(Exception, match="already has accounts"):
        first_account_create(name="B", username="b", email="b@example.org", password=PASSWORD)

    assert User.objects.count() == 1


def test_the_one_first_account_row_is_enforced_by_the_database():
    from django.db import IntegrityError, transaction

    a = make_user("a")
    FirstAccount.objects.create(user=a)

    with pytest.raises(IntegrityError), transaction.atomic():
        FirstAccount.objects.create(user=make_user("b"))


@pytest.mark.parametrize("url", ["/invitations/x/", "/accounts/first/"])
def test_pages_for_people_without_an_account_need_no_login(client, url):
    make_user("someone")

    response = client.get(url)

    assert response.status_code in {302, 404}
    assert not response.get("Location", "").startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ["/accounts/first/"])
def test_wrong_method_gets_405_on_the_first_account_page(client, url):
    response = client.put(url)

    assert response.status_code == 405


def test_wrong_method_gets_405_on_an_invitation(client, team):
    response = client.put(link_of(invite(team.review)))

    assert response.status_code == 405


def test_membership_rows_are_unchanged_by_a_refused_join(client, team):
    before = set(Membership.objects.values_list("pk", "role"))
    invitation = invite(team.review)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())

    client.force_login(team.outsider)
    client.post(link_of(invitation))

    assert set(Membership.objects.values_list("pk", "role")) == before


@pytest.mark.django_db(transaction=True)
def test_two_first_accounts_at_the_same_moment_give_one_account():
    """Two people on a fresh install press "Create" together: one account is made, the
    other is refused (on PostgreSQL, where requests really run in parallel)."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...) for truly parallel requests")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def create(n: int) -> None:
        start.wait()
        try:
            first_account_create(
                name=f"Person {n}", username=f"person{n}", email="", password=PASSWORD
            )
            outcomes.append("made")
        except Exception as error:  # the refusal, a ValidationError
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ValidationError"] * 3 + ["made"]
    assert User.objects.count() == 1
    assert FirstAccount.objects.get().user == User.objects.get()
