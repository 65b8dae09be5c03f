"""Login throttling (django-axes) and the security headers every page carries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_user, page_text

pytestmark = pytest.mark.django_db


def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_a_clear_page(
    client, settings
) -> None:
    make_user("carol", password="right-password")
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post(login, {"username": "carol", "password": "guess"})
        assert "do not match an account" in page_text(wrong)

    client.post(login, {"username": "carol", "password": "guess"})
    locked = client.post(login, {"username": "carol", "password": "right-password"})

    assert locked.status_code == 429
    text = page_text(locked)
    assert "Too many attempts" in text
    assert "Try again in 15 minutes" in text
    assert "_auth_user_id" not in client.session


def test_another_account_is_not_locked_by_someone_elses_failures(client, settings) -> None:
    make_user("carol", password="right-password")
    make_user("dan", password="dans-password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "carol", "password": "guess"})

    response = client.post(reverse("login"), {"username": "dan", "password": "dans-password"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_every_page_carries_the_content_security_policy_and_permissions_policy(client) -> None:
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
