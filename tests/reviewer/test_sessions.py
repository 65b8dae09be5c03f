"""Sessions read from the cache, kept in the database (reviewer.sessions): a request's
session costs no query once cached, logging out ends it in both, and the cache holds a
session for minutes, not for the session's two weeks."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache

from reviewer.sessions import CACHE_SECONDS, SessionStore
from tests.factories import make_team

pytestmark = pytest.mark.django_db


def test_a_saved_session_is_read_without_a_query_and_kept_in_the_database(
    django_assert_num_queries,
):
    cache.clear()
    session = SessionStore()
    session["_auth_user_id"] = "7"
    session.save()

    with django_assert_num_queries(0):
        assert SessionStore(session.session_key)["_auth_user_id"] == "7"
    assert Session.objects.filter(session_key=session.session_key).exists()
    cache.clear()  # evicted, or Redis restarted empty: read from the database
    assert SessionStore(session.session_key)["_auth_user_id"] == "7"


def test_a_session_flushed_is_gone_from_the_cache_and_the_database():
    session = SessionStore()
    session["_auth_user_id"] = "7"
    session.save()
    key = session.session_key

    session.flush()

    assert not Session.objects.filter(session_key=key).exists()
    assert "_auth_user_id" not in SessionStore(key)


def test_the_cache_keeps_a_session_minutes_at_most():
    session = SessionStore()
    assert session._cache._cap(14 * 24 * 3600) == CACHE_SECONDS
    assert session._cache._cap(None) == CACHE_SECONDS
    assert session._cache._cap(60) == 60


def test_logging_out_ends_the_session_for_its_cookie(client):
    team = make_team()
    client.force_login(team.reviewer)
    assert client.get(f"/reviews/{team.review.slug}/").status_code == 200
    cookie = client.cookies["sessionid"].value

    client.post("/accounts/logout/")
    client.cookies["sessionid"] = cookie  # the old cookie, kept by someone

    assert client.get(f"/reviews/{team.review.slug}/").status_code == 302  # to log in
